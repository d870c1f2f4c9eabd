/* tmpfile.c - temporaries left behind by killed runs (see tmpfile.h). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tmpfile.h"
#include "weights.h"

int
tmpfile_is_stale (const char *name)
{
  size_t np = strlen (NN_TEMP_PREFIX);
  if (strncmp (name, NN_TEMP_PREFIX, np) || name[np] < '0' || name[np] > '9')
    return 0;
  char *end;
  errno = 0;
  long pid = strtol (name + np, &end, 10);
  if (errno || *end != '-' || pid <= 0 || pid == (long) getpid ())
    return 0;
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

int
tmpfile_remove_stale (const char *path, const char *who)
{
  const char *slash = strrchr (path, '/');
  size_t dl = slash ? (size_t) (slash - path) : 0;
  char *dir = malloc (dl + 2);
  if (!dir)
    return 0;
  if (slash)
    snprintf (dir, dl + 2, "%.*s", (int) (dl ? dl : 1), path);
  else
    snprintf (dir, 2, ".");
  DIR *d = opendir (dir);
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir (d)))
    {
      if (!tmpfile_is_stale (e->d_name))
        continue;
      size_t len = strlen (dir) + strlen (e->d_name) + 2;
      char *p = malloc (len);
      struct stat st;
      if (p)
        snprintf (p, len, "%s/%s", dir, e->d_name);
      if (p && !lstat (p, &st) && S_ISREG (st.st_mode) && !unlink (p))
        {
          fprintf (stderr, "%s: removed %s, left by a run that was killed\n",
                   who, p);
          n++;
        }
      free (p);
    }
  if (d)
    closedir (d);
  free (dir);
  return n;
}
