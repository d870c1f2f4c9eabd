/* core-cancel.c - cancelling in the plug-in's shared core
 * (plugin/colorize-core.c), without GIMP; built and run by
 * tests/test_gimp.sh (it needs GEGL, which the unit tests do not link).
 *
 *   core-cancel WEIGHTS-FILE
 *
 * - colorize_compute on a GEGL buffer with a progress callback that
 *   returns FALSE at its first report >= F, for F from the first report
 *   to the last: NULL with COLORIZE_ERROR / NN_ERR_CANCELLED, no report
 *   after the cancel, the buffer unchanged.  Without a cancel: pixels,
 *   reports rising from 0 to 0.85, the buffer unchanged.
 * - colorize_pixels (the dialog preview's path) with the cancel flag set,
 *   and with a progress that cancels: FALSE, NN_ERR_CANCELLED, the pixels
 *   unchanged.
 * - colorize_test_cancel_point, the hosts' test hook, in child processes:
 *   SIGKILL at the first fraction >= the number in the file, nothing
 *   before it, nothing without a number or without the variable.
 *
 * Prints one "ok - ..." or "not ok - ..." line per check; exits 1 when
 * any failed.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gegl.h>

#include "colorize-core.h"
#include "core-check.h"

#define WIDTH  150
#define HEIGHT 100


/* ---- the test hook, in child processes ---------------------------------- */

/* Runs colorize_test_cancel_point (0.1) then (fraction) in a child whose
 * hook file holds `content` (no variable when NULL); returns the child's
 * wait status. */
static int
hook_child (const char *dir, const char *content, double fraction)
{
  char  path[4096];
  pid_t pid;
  int   status = -1;

  snprintf (path, sizeof path, "%s/cancel-at", dir);
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    {
      if (content)
        {
          FILE *f = fopen (path, "w");

          if (! f || fputs (content, f) < 0 || fclose (f) != 0)
            _exit (3);
          setenv (COLORIZE_TEST_CANCEL_ENV, path, 1);
        }
      else
        unsetenv (COLORIZE_TEST_CANCEL_ENV);
      colorize_test_cancel_point (0.1);
      colorize_test_cancel_point (fraction);
      _exit (0);
    }
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return -1;
  return status;
}

static void
check_hook (const char *dir)
{
  int st;

  st = hook_child (dir, "0.5\n", 0.6);
  check (st != -1 && WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL,
         "test hook: file says 0.5, reports 0.1 then 0.6: killed by SIGKILL",
         NULL);
  st = hook_child (dir, "0.5\n", 0.5);
  check (st != -1 && WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL,
         "test hook: file says 0.5, report 0.5: killed by SIGKILL", NULL);
  st = hook_child (dir, "0.5\n", 0.4);
  check (st != -1 && WIFEXITED (st) && WEXITSTATUS (st) == 0,
         "test hook: file says 0.5, reports below it: not killed", NULL);
  st = hook_child (dir, "", 1.0);
  check (st != -1 && WIFEXITED (st) && WEXITSTATUS (st) == 0,
         "test hook: empty file: not killed", NULL);
  st = hook_child (dir, NULL, 1.0);
  check (st != -1 && WIFEXITED (st) && WEXITSTATUS (st) == 0,
         "test hook: no " COLORIZE_TEST_CANCEL_ENV ": not killed", NULL);
}

/* ---- colorize_compute and colorize_pixels ---------------------------------- */

typedef struct
{
  gdouble cancel_at;    /* return FALSE at the first report >= this */
  gint    calls;        /* reports up to and including the cancel */
  gint    after_cancel; /* reports after returning FALSE */
  gboolean cancelled;
  gboolean rising;      /* every report >= the one before */
  gdouble first, last;
} Recorder;

static void
recorder_init (Recorder *r, gdouble cancel_at)
{
  memset (r, 0, sizeof *r);
  r->cancel_at = cancel_at;
  r->rising    = TRUE;
  r->first     = -1.0;
  r->last      = -1.0;
}

static gboolean
recorder_cb (gdouble fraction, gpointer data)
{
  Recorder *r = data;

  if (r->cancelled)
    {
      r->after_cancel++;
      return FALSE;
    }
  r->calls++;
  if (r->first < 0.0)
    r->first = fraction;
  if (fraction < r->last)
    r->rising = FALSE;
  r->last = fraction;
  if (fraction >= r->cancel_at)
    r->cancelled = TRUE;
  return ! r->cancelled;
}

static guchar *
buffer_bytes (GeglBuffer *buffer)
{
  guchar *bytes = g_malloc ((gsize) WIDTH * HEIGHT * 4);

  gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, WIDTH, HEIGHT), 1.0,
                   babl_format ("R'G'B'A u8"), bytes, GEGL_AUTO_ROWSTRIDE,
                   GEGL_ABYSS_NONE);
  return bytes;
}

static void
check_compute (nn_model *model, GeglBuffer *buffer, const guchar *orig)
{
  /* The reports of colorize_compute: 0 and 0.1 around reading, then the
   * pipeline's 0, 0.1, 0.8, 0.9 and 1 mapped to 0.1 .. 0.85. */
  static const gdouble stops[] = { 0.0, 0.05, 0.15, 0.5, 0.75, 0.85 };
  Recorder        r;
  GError         *error = NULL;
  ColorizeResult *lab;
  guchar         *now;
  gchar    what[160], detail[160];
  gsize    i;

  for (i = 0; i < G_N_ELEMENTS (stops); i++)
    {
      recorder_init (&r, stops[i]);
      lab = colorize_compute (model, buffer, 64, 1.0, -1.0, NULL,
                              recorder_cb, &r, &error);
      now = buffer_bytes (buffer);
      snprintf (what, sizeof what, "colorize_compute, progress cancels "
                "at %.2f: cancelled, no report after, buffer unchanged",
                stops[i]);
      snprintf (detail, sizeof detail, "%s; %d reports, %d after the "
                "cancel", error ? error->message : "no error", r.calls,
                r.after_cancel);
      check (! lab && g_error_matches (error, COLORIZE_ERROR,
                                       NN_ERR_CANCELLED) &&
             r.cancelled && r.after_cancel == 0 &&
             ! memcmp (now, orig, (gsize) WIDTH * HEIGHT * 4),
             what, detail);
      g_free (now);
      colorize_result_free (lab);
      g_clear_error (&error);
    }

  recorder_init (&r, 2.0);
  lab = colorize_compute (model, buffer, 64, 1.0, -1.0, NULL, recorder_cb,
                          &r, &error);
  now = buffer_bytes (buffer);
  snprintf (detail, sizeof detail, "%s; reports from %.3f to %.3f%s",
            error ? error->message : "no error", r.first, r.last,
            r.rising ? "" : ", not rising");
  check (lab && ! error && r.first == 0.0 && fabs (r.last - 0.85) < 1e-9 &&
         r.rising && ! memcmp (now, orig, (gsize) WIDTH * HEIGHT * 4),
         "colorize_compute, no cancel: pixels, reports rise from 0 to "
         "0.85, buffer unchanged", detail);
  g_free (now);
  colorize_result_free (lab);
  g_clear_error (&error);
}

static void
check_pixels (nn_model *model, GeglBuffer *buffer)
{
  volatile gint cancel = 1;
  Recorder      r;
  GError       *error = NULL;
  gfloat       *lab, *orig;
  gint          w, h;
  gboolean      ok;
  gsize         bytes;

  lab = colorize_read_scaled (buffer, 0, &w, &h, &error);
  if (! lab)
    {
      check (0, "colorize_read_scaled", error ? error->message : NULL);
      g_clear_error (&error);
      return;
    }
  bytes = (gsize) w * h * 4 * sizeof (gfloat);
  orig  = g_memdup2 (lab, bytes);

  ok = colorize_pixels (model, lab, w, h, 64, 1.0, -1.0, NULL, NULL, NULL,
                        &cancel, &error);
  check (! ok && g_error_matches (error, COLORIZE_ERROR, NN_ERR_CANCELLED) &&
         ! memcmp (lab, orig, bytes),
         "colorize_pixels, cancel flag set: cancelled, pixels unchanged",
         error ? error->message : "no error");
  g_clear_error (&error);

  recorder_init (&r, 0.5);
  ok = colorize_pixels (model, lab, w, h, 64, 1.0, -1.0, NULL, recorder_cb,
                        &r, NULL, &error);
  check (! ok && g_error_matches (error, COLORIZE_ERROR, NN_ERR_CANCELLED) &&
         r.after_cancel == 0 && ! memcmp (lab, orig, bytes),
         "colorize_pixels, progress cancels at 0.5: cancelled, pixels "
         "unchanged", error ? error->message : "no error");
  g_clear_error (&error);
  g_free (orig);
  g_free (lab);
}

int
main (int argc, char **argv)
{
  GeglBuffer *buffer;
  nn_model   *model;
  GError     *error = NULL;
  guchar     *pixels;
  gchar      *dir, *path;
  gint        x, y;

  if (argc != 2)
    {
      fprintf (stderr, "usage: core-cancel WEIGHTS-FILE\n");
      return 2;
    }

  /* First, while this process has one thread (it forks). */
  dir = g_dir_make_tmp ("core-cancel-XXXXXX", &error);
  if (! dir)
    {
      check (0, "make a temporary folder", error->message);
      return 1;
    }
  check_hook (dir);

  setenv ("GEGL_PATH", "/nonexistent/core-cancel-needs-no-gegl-ops", 1);
  setenv ("BABL_INHIBIT_CACHE", "1", 1);
  gegl_init (NULL, NULL);

  model = colorize_model_load (argv[1], (nn_arch) -1, &error);
  if (! model)
    {
      check (0, "load the weights", error->message);
      return 1;
    }

  /* A grey ramp with a bright disc, in a buffer GIMP-like enough. */
  buffer = gegl_buffer_new (GEGL_RECTANGLE (0, 0, WIDTH, HEIGHT),
                            babl_format ("R'G'B'A u8"));
  pixels = g_malloc ((gsize) WIDTH * HEIGHT * 4);
  for (y = 0; y < HEIGHT; y++)
    for (x = 0; x < WIDTH; x++)
      {
        guchar *p = pixels + ((gsize) y * WIDTH + x) * 4;
        gint    dx = x - WIDTH / 3, dy = y - HEIGHT / 2;
        guchar  v = dx * dx + dy * dy < 400 ? 230 : (guchar) (x + y / 2);

        p[0] = p[1] = p[2] = v;
        p[3] = 255;
      }
  gegl_buffer_set (buffer, GEGL_RECTANGLE (0, 0, WIDTH, HEIGHT), 0,
                   babl_format ("R'G'B'A u8"), pixels, GEGL_AUTO_ROWSTRIDE);

  check_compute (model, buffer, pixels);
  check_pixels (model, buffer);

  g_free (pixels);
  g_object_unref (buffer);
  nn_model_free (model);
  gegl_exit ();
  path = g_build_filename (dir, "cancel-at", NULL);
  g_remove (path);
  g_remove (dir);
  g_free (path);
  g_free (dir);
  return n_failed ? 1 : 0;
}
