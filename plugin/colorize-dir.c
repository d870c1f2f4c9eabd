/* colorize-dir.c - files and folders of plug-in-colorize-dir.
 * See colorize-dir.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "colorize-core.h"
#include "colorize-dir.h"

static gboolean
same_file (const gchar *a, const gchar *b)
{
  GStatBuf sa, sb;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Whether a file looks like something GIMP loads as an image, from its
 * name and first bytes: "image/..." types, PDF and PostScript.  Other files
 * (a README, a thumbnail database) are skipped, not counted as failures;
 * an image that fails to load is a failure. */
static gboolean
looks_like_image (const gchar *path, gchar **mime_out)
{
  guchar   head[4096];
  gsize    n = 0;
  FILE    *f = g_fopen (path, "rb");
  gchar   *type, *mime;
  gboolean yes;

  if (f)
    {
      n = fread (head, 1, sizeof head, f);
      fclose (f);
    }
  type = g_content_type_guess (path, head, n, NULL);
  mime = g_content_type_get_mime_type (type);
  g_free (type);
  if (! mime)
    mime = g_strdup ("unknown");
  yes = g_str_has_prefix (mime, "image/") ||
        ! strcmp (mime, "application/pdf") ||
        ! strcmp (mime, "application/postscript");
  *mime_out = mime;
  return yes;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Whether name is one of this plug-in's temporaries (".colorize-PID-NAME",
 * see colorize_dir_paths) whose process is gone: a run killed while
 * saving (GIMP kills a cancelled plug-in with SIGKILL) leaves it behind.
 * A live process's temporary (a run still going, or this one) is kept. */
static gboolean
stale_temporary (const gchar *name)
{
  const gchar *p = name + strlen (COLORIZE_DIR_TMP_PREFIX);
  gchar       *end;
  glong        pid;

  if (! g_str_has_prefix (name, COLORIZE_DIR_TMP_PREFIX) ||
      ! g_ascii_isdigit (*p))
    return FALSE;
  errno = 0;
  pid = strtol (p, &end, 10);
  if (errno || *end != '-' || pid <= 0 || pid == (glong) getpid ())
    return FALSE;
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

void
colorize_dir_remove_stale (const gchar *out_dir)
{
  GDir        *dir = g_dir_open (out_dir, 0, NULL);
  const gchar *name;

  if (! dir)
    return;
  while ((name = g_dir_read_name (dir)))
    {
      gchar *path;

      if (! stale_temporary (name))
        continue;
      path = g_build_filename (out_dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && g_unlink (path) == 0)
        g_printerr ("colorize: removed '%s', left by a run that was "
                    "killed\n", path);
      g_free (path);
    }
  g_dir_close (dir);
}

gchar **
colorize_dir_prepare (const gchar *in_dir, const gchar *out_dir,
                      GError **error)
{
  GDir        *dir;
  GPtrArray   *names;
  const gchar *name;
  GError      *err = NULL;

  if (! in_dir || ! *in_dir || ! out_dir || ! *out_dir)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Both an input folder and an output folder are needed.");
      return NULL;
    }
  if (! g_file_test (in_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "The input folder '%s' does not exist or is not a "
                   "folder.", in_dir);
      return NULL;
    }
  if (g_file_test (out_dir, G_FILE_TEST_EXISTS) &&
      ! g_file_test (out_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "The output '%s' exists and is not a folder.", out_dir);
      return NULL;
    }
  /* Checked before creating anything: out_dir may not exist yet, but if
   * it does it must not be the input folder. */
  if (same_file (in_dir, out_dir))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The output folder '%s' is the input folder '%s': "
                   "colorize never writes into its input folder; choose "
                   "another output folder.", out_dir, in_dir);
      return NULL;
    }

  dir = g_dir_open (in_dir, 0, &err);
  if (! dir)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "Cannot read the input folder '%s': %s",
                   in_dir, err->message);
      g_error_free (err);
      return NULL;
    }
  names = g_ptr_array_new ();
  while ((name = g_dir_read_name (dir)))
    {
      gchar *path;

      if (name[0] == '.')
        continue;
      path = g_build_filename (in_dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          gchar *mime = NULL;

          if (looks_like_image (path, &mime))
            g_ptr_array_add (names, g_strdup (name));
          else
            g_printerr ("colorize: %s: skipped, not an image (%s)\n",
                        name, mime);
          g_free (mime);
        }
      g_free (path);
    }
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  if (g_mkdir_with_parents (out_dir, 0777) != 0)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "Cannot create the output folder '%s': %s",
                   out_dir, g_strerror (errno));
      g_strfreev ((gchar **) g_ptr_array_free (names, FALSE));
      return NULL;
    }
  colorize_dir_remove_stale (out_dir);
  return (gchar **) g_ptr_array_free (names, FALSE);
}

gboolean
colorize_dir_paths (const gchar *in_dir, const gchar *out_dir,
                    const gchar *name, gchar **in_path, gchar **out_path,
                    gchar **tmp_path, GError **error)
{
  gchar *tmp_name;

  *in_path  = g_build_filename (in_dir, name, NULL);
  *out_path = g_build_filename (out_dir, name, NULL);
  /* Hidden (skipped when listing), unique to this process, and ending
   * with the input's name so that GIMP picks the same file format. */
  tmp_name  = g_strdup_printf (COLORIZE_DIR_TMP_PREFIX "%d-%s",
                               (gint) getpid (), name);
  *tmp_path = g_build_filename (out_dir, tmp_name, NULL);
  g_free (tmp_name);

  if (same_file (*in_path, *out_path))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "'%s' would overwrite the input file '%s'.",
                   *out_path, *in_path);
      g_clear_pointer (in_path, g_free);
      g_clear_pointer (out_path, g_free);
      g_clear_pointer (tmp_path, g_free);
      return FALSE;
    }
  return TRUE;
}

gboolean
colorize_dir_indexed_only (const gchar *path)
{
  gsize n = path ? strlen (path) : 0;

  return n >= 4 && ! g_ascii_strcasecmp (path + n - 4, ".gif");
}

/* Whether path ends with one of the dot-less extensions exts (any case). */
static gboolean
has_extension (const gchar *path, const gchar * const *exts)
{
  const gchar *dot = path ? strrchr (path, '.') : NULL;

  for (; dot && *exts; exts++)
    if (! g_ascii_strcasecmp (dot + 1, *exts))
      return TRUE;
  return FALSE;
}

gboolean
colorize_dir_is_jpeg (const gchar *path)
{
  static const gchar * const exts[] = { "jpg", "jpeg", "jpe", NULL };

  return has_extension (path, exts);
}

gint
colorize_dir_jpeg_quality (const guint8 *data, gsize size)
{
  gint n_components, n_tables;

  if (! data || size < 4)
    return -1;
  n_components = data[2];
  n_tables     = data[3];
  if (size < (gsize) (4 + n_components * 2 + n_tables * 128) ||
      data[1] < 1 || data[1] > 100 || n_tables > 4)
    return -1;
  return data[1];
}

gboolean
colorize_dir_commit (const gchar *tmp_path, const gchar *out_path,
                     GError **error)
{
  if (g_rename (tmp_path, out_path) != 0)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "Cannot rename '%s' to '%s': %s",
                   tmp_path, out_path, g_strerror (errno));
      g_unlink (tmp_path);
      return FALSE;
    }
  return TRUE;
}

gboolean
colorize_dir_each (const gchar *in_dir, const gchar *out_dir, gchar **names,
                   ColorizeDirFileFunc file_func, gpointer data,
                   GError **error)
{
  GString *failed   = g_string_new (NULL);
  gint     count    = (gint) g_strv_length (names);
  gint     n_failed = 0;
  gint     i;

  for (i = 0; names[i]; i++)
    {
      gchar  *in_path = NULL, *out_path = NULL, *tmp_path = NULL;
      GError *err = NULL;

      if (! colorize_dir_paths (in_dir, out_dir, names[i], &in_path,
                                &out_path, &tmp_path, &err) ||
          ! file_func (names[i], i, count, in_path, tmp_path, data, &err) ||
          ! colorize_dir_commit (tmp_path, out_path, &err))
        {
          g_printerr ("colorize: %s: %s\n", names[i], err->message);
          g_string_append_printf (failed, "%s%s (%s)",
                                  n_failed ? "; " : "", names[i],
                                  err->message);
          n_failed++;
          g_error_free (err);
          if (tmp_path)
            g_unlink (tmp_path);
        }
      g_free (in_path);
      g_free (out_path);
      g_free (tmp_path);
    }
  if (n_failed)
    g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                 "%d of %d files in '%s' failed: %s",
                 n_failed, count, in_dir, failed->str);
  g_string_free (failed, TRUE);
  return n_failed == 0;
}

gboolean
colorize_dir_check_hints (const gchar *in_dir, const gchar *hints_dir,
                          GError **error)
{
  if (! hints_dir || ! *hints_dir)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "No hints folder given.");
      return FALSE;
    }
  if (! g_file_test (hints_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "The hints folder '%s' does not exist or is not a "
                   "folder.", hints_dir);
      return FALSE;
    }
  if (same_file (in_dir, hints_dir))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The hints folder '%s' is the input folder: its hints "
                   "files would be colorized as photos; keep them in a "
                   "folder of their own.", hints_dir);
      return FALSE;
    }
  return TRUE;
}

gchar *
colorize_dir_hints_path (const gchar *hints_dir, const gchar *in_path)
{
  gchar *base = g_path_get_basename (in_path);
  gchar *dot  = strrchr (base, '.');
  gchar *name, *path;

  if (dot && dot != base)
    *dot = '\0';
  name = g_strconcat (base, ".png", NULL);
  path = g_build_filename (hints_dir, name, NULL);
  g_free (name);
  g_free (base);
  return path;
}

gboolean
colorize_dir_find_hints (const gchar *hints_dir, const gchar *in_path,
                         gboolean hints_only, gchar **path, GError **error)
{
  gchar *p = colorize_dir_hints_path (hints_dir, in_path);

  *path = NULL;
  if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
    {
      *path = p;
      return TRUE;
    }
  if (hints_only)
    g_set_error (error, COLORIZE_ERROR, NN_ERR_IO, "no hints file '%s' (the "
                 "model is \"%s\")", p, COLORIZE_MODEL_HINTS_ONLY);
  else
    g_printerr ("colorize: %s: no hints file '%s': colorized without "
                "hints\n", in_path, p);
  g_free (p);
  return ! hints_only;
}

gboolean
colorize_dir_load_model (const gchar *progname, const gchar *model_arg,
                         gboolean has_hints_dir, nn_model **model,
                         gboolean *hints_only, GError **error)
{
  nn_arch  arch = (nn_arch) -1;
  gchar   *path;

  *model      = NULL;
  *hints_only = FALSE;
  if (! model_arg || ! *model_arg)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "No model given: use \"cnn\", \"resnet18\", \"%s\" or "
                   "the path of a .weights file.", COLORIZE_MODEL_HINTS_ONLY);
      return FALSE;
    }
  if (! strcmp (model_arg, COLORIZE_MODEL_HINTS_ONLY))
    {
      if (! has_hints_dir)
        {
          g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                       "The model \"%s\" colours from hints alone: use "
                       "plug-in-colorize-dir-hints with a hints folder.",
                       COLORIZE_MODEL_HINTS_ONLY);
          return FALSE;
        }
      *hints_only = TRUE;
      return TRUE;
    }
  nn_arch_parse (model_arg, &arch);
  path   = colorize_weights_path (progname, model_arg);
  *model = colorize_model_load (path, arch, error);
  g_free (path);
  return *model != NULL;
}
