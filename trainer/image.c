/* image.c - image files through GEGL and babl (see image.h).
 *
 * Loading picks the loader the way gegl:load does (GIO's content type
 * from the name, sniffing the first 4 KiB when unsure, then GEGL's
 * handler table) but refuses what gegl:load would paper over: no loader
 * (gegl:load falls back to ImageMagick, or renders a "load failed" text),
 * an empty or huge bounding box, or a warning logged while loading.
 *
 * JPEG files are first decoded by libjpeg itself (at 1/8 scale, with an
 * error handler that returns): GEGL 0.4's jpg-load keeps libjpeg's
 * default error handler, which calls exit() on a corrupt file.  libjpeg
 * is found with dlopen (it is already loaded with GEGL's JPEG loader);
 * without it, the check is skipped.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gegl.h>
#include <gegl-plugin.h>
#include <gio/gio.h>
#include <jpeglib.h>
#include "gamut.h"
#include "image.h"
#include "weights.h"

static pthread_mutex_t gegl_lock = PTHREAD_MUTEX_INITIALIZER;

/* Warnings logged while this thread loads a file (captured, not printed). */
static __thread char *captured;
static GLogFunc previous_handler;

static void
log_handler (const gchar *domain, GLogLevelFlags level, const gchar *message,
             gpointer data)
{
  if (captured && (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL
                            | G_LOG_LEVEL_ERROR)))
    {
      if (!captured[0])
        snprintf (captured, 256, "%s", message);
      return;
    }
  if (captured)
    return; /* debug and info noise while loading */
  g_log_default_handler (domain, level, message, data);
}

void
image_init (void)
{
  gegl_init (NULL, NULL);
  /* Loaders register their content types when their classes are made. */
  guint n;
  g_free (gegl_list_operations (&n));
  previous_handler = g_log_set_default_handler (log_handler, NULL);
}

void
image_exit (void)
{
  gegl_exit ();
}

/* ---- libjpeg check ------------------------------------------------------- */

typedef struct jpeg_api {
  struct jpeg_error_mgr *(*std_error) (struct jpeg_error_mgr *);
  void (*create) (j_decompress_ptr, int, size_t);
  void (*destroy) (j_decompress_ptr);
  void (*mem_src) (j_decompress_ptr, const unsigned char *, unsigned long);
  int (*read_header) (j_decompress_ptr, boolean);
  boolean (*start) (j_decompress_ptr);
  JDIMENSION (*read_scanlines) (j_decompress_ptr, JSAMPARRAY, JDIMENSION);
  boolean (*finish) (j_decompress_ptr);
  int ok;
} jpeg_api;

static jpeg_api jpeg;
static pthread_once_t jpeg_once = PTHREAD_ONCE_INIT;

static void
jpeg_api_open (void)
{
  void *h = dlopen ("libjpeg.so.62", RTLD_NOW | RTLD_LOCAL);
  if (!h)
    return;
  jpeg.std_error = (struct jpeg_error_mgr * (*) (struct jpeg_error_mgr *))
    dlsym (h, "jpeg_std_error");
  jpeg.create = (void (*) (j_decompress_ptr, int, size_t))
    dlsym (h, "jpeg_CreateDecompress");
  jpeg.destroy = (void (*) (j_decompress_ptr)) dlsym (h, "jpeg_destroy_decompress");
  jpeg.mem_src = (void (*) (j_decompress_ptr, const unsigned char *, unsigned long))
    dlsym (h, "jpeg_mem_src");
  jpeg.read_header = (int (*) (j_decompress_ptr, boolean)) dlsym (h, "jpeg_read_header");
  jpeg.start = (boolean (*) (j_decompress_ptr)) dlsym (h, "jpeg_start_decompress");
  jpeg.read_scanlines = (JDIMENSION (*) (j_decompress_ptr, JSAMPARRAY, JDIMENSION))
    dlsym (h, "jpeg_read_scanlines");
  jpeg.finish = (boolean (*) (j_decompress_ptr)) dlsym (h, "jpeg_finish_decompress");
  jpeg.ok = jpeg.std_error && jpeg.create && jpeg.destroy && jpeg.mem_src
            && jpeg.read_header && jpeg.start && jpeg.read_scanlines
            && jpeg.finish;
}

typedef struct jpeg_check_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
} jpeg_check_err;

static void
jpeg_check_exit (j_common_ptr cinfo)
{
  jpeg_check_err *e = (jpeg_check_err *) cinfo->err;
  e->mgr.format_message (cinfo, e->message);
  longjmp (e->jump, 1);
}

static void
jpeg_check_emit (j_common_ptr cinfo, int level)
{
  jpeg_check_err *e = (jpeg_check_err *) cinfo->err;
  if (level < 0 && !e->message[0]) /* a warning: corrupt or truncated data */
    e->mgr.format_message (cinfo, e->message);
  if (level < 0)
    e->mgr.num_warnings++;
}

/* 0 when libjpeg decodes the file without error or warning. */
static int
jpeg_check (const char *path, char *msg, size_t msg_len)
{
  pthread_once (&jpeg_once, jpeg_api_open);
  if (!jpeg.ok)
    return 0;
  gchar *data;
  gsize size;
  GError *gerr = NULL;
  if (!g_file_get_contents (path, &data, &size, &gerr))
    {
      snprintf (msg, msg_len, "cannot read: %s", gerr->message);
      g_error_free (gerr);
      return -1;
    }
  struct jpeg_decompress_struct cinfo;
  jpeg_check_err err;
  memset (&err, 0, sizeof err);
  unsigned char *row = NULL;
  cinfo.err = jpeg.std_error (&err.mgr);
  err.mgr.error_exit = jpeg_check_exit;
  err.mgr.emit_message = jpeg_check_emit;
  int rc = -1;
  if (setjmp (err.jump))
    {
      snprintf (msg, msg_len, "corrupt JPEG: %s", err.message);
      goto done;
    }
  jpeg.create (&cinfo, JPEG_LIB_VERSION, sizeof cinfo);
  jpeg.mem_src (&cinfo, (const unsigned char *) data, size);
  jpeg.read_header (&cinfo, TRUE);
  cinfo.scale_num = 1;
  cinfo.scale_denom = 8;
  jpeg.start (&cinfo);
  row = malloc ((size_t) cinfo.output_width * cinfo.output_components + 16);
  if (!row)
    {
      snprintf (msg, msg_len, "out of memory");
      goto done;
    }
  while (cinfo.output_scanline < cinfo.output_height)
    {
      JSAMPROW rows[1] = { row };
      jpeg.read_scanlines (&cinfo, rows, 1);
    }
  jpeg.finish (&cinfo);
  if (err.mgr.num_warnings)
    snprintf (msg, msg_len, "corrupt JPEG: %s", err.message);
  else
    rc = 0;
done:
  jpeg.destroy (&cinfo);
  free (row);
  g_free (data);
  return rc;
}

/* ---- Loading -------------------------------------------------------------- */

static const char *
loader_for (const char *path, char *msg, size_t msg_len)
{
  gboolean uncertain = TRUE;
  gchar *type = g_content_type_guess (path, NULL, 0, &uncertain);
  if (uncertain || !g_str_has_prefix (type, "image/"))
    {
      guchar head[4096];
      size_t n = 0;
      FILE *f = fopen (path, "rb");
      if (f)
        {
          n = fread (head, 1, sizeof head, f);
          fclose (f);
        }
      g_free (type);
      type = g_content_type_guess (path, head, n, NULL);
    }
  const char *handler = NULL;
  if (g_str_has_prefix (type, "image/"))
    {
      captured = (char[256]) { 0 }; /* silence "falling back to magick" */
      handler = gegl_operation_handlers_get_loader (type);
      captured = NULL;
      if (handler && !strcmp (handler, "gegl:magick-load"))
        handler = NULL;
      if (!handler)
        snprintf (msg, msg_len, "no GEGL loader for %s", type);
    }
  else
    snprintf (msg, msg_len, "not an image (%s)", type);
  g_free (type);
  return handler;
}

void *
image_load (const char *path, const char *format, int *width, int *height,
            char *msg, size_t msg_len)
{
  struct stat st;
  if (stat (path, &st))
    {
      snprintf (msg, msg_len, "%s", strerror (errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      snprintf (msg, msg_len, "not a regular file");
      return NULL;
    }
  const Babl *fmt = babl_format (format);
  int bpp = babl_format_get_bytes_per_pixel (fmt);
  const char *handler = loader_for (path, msg, msg_len);
  if (!handler)
    return NULL;
  if (!strcmp (handler, "gegl:jpg-load") && jpeg_check (path, msg, msg_len))
    return NULL;

  char warn[256] = "";
  void *pixels = NULL;
  pthread_mutex_lock (&gegl_lock);
  captured = warn;
  GeglNode *graph = gegl_node_new ();
  GeglNode *load = gegl_node_new_child (graph, "operation", handler, "path",
                                        path, NULL);
  GeglRectangle r = gegl_node_get_bounding_box (load);
  if (warn[0])
    snprintf (msg, msg_len, "%s", warn);
  else if (r.width <= 0 || r.height <= 0)
    snprintf (msg, msg_len, "GEGL found no pixels (corrupt or empty file)");
  else if ((long) r.width * r.height > IMAGE_MAX_PIXELS)
    snprintf (msg, msg_len, "too large: %dx%d pixels, at most %ld",
              r.width, r.height, IMAGE_MAX_PIXELS);
  else if (!(pixels = malloc ((size_t) r.width * r.height * bpp)))
    snprintf (msg, msg_len, "out of memory for %dx%d pixels", r.width,
              r.height);
  else
    {
      gegl_node_blit (load, 1.0, &r, fmt, pixels, GEGL_AUTO_ROWSTRIDE,
                      GEGL_BLIT_DEFAULT);
      if (warn[0])
        {
          snprintf (msg, msg_len, "%s", warn);
          free (pixels);
          pixels = NULL;
        }
    }
  g_object_unref (graph);
  captured = NULL;
  pthread_mutex_unlock (&gegl_lock);
  if (pixels)
    {
      *width = r.width;
      *height = r.height;
    }
  return pixels;
}

/* ---- Saving --------------------------------------------------------------- */

int
image_save (const char *path, const void *pixels, int width, int height,
            const char *format, char *msg, size_t msg_len)
{
  const char *dot = strrchr (path, '.');
  const char *saver = NULL;
  if (dot)
    {
      /* Unknown extensions fall back to PNG with a warning: refuse them. */
      char fallback[256] = "";
      captured = fallback;
      saver = gegl_operation_handlers_get_saver (dot);
      captured = NULL;
      if (fallback[0])
        saver = NULL;
    }
  if (!saver)
    {
      snprintf (msg, msg_len, "no GEGL saver for the extension of %s "
                "(expected .png, .jpg, .tif, .webp ...)", path);
      return -1;
    }
  char *tmp = nn_temp_path (path);  /* whole or not at all (tmpfile.h) */
  if (!tmp)
    {
      snprintf (msg, msg_len, "out of memory");
      return -1;
    }
  const Babl *fmt = babl_format (format);
  GeglRectangle r = { 0, 0, width, height };
  char warn[256] = "";
  pthread_mutex_lock (&gegl_lock);
  captured = warn;
  GeglBuffer *buf = gegl_buffer_new (&r, fmt);
  gegl_buffer_set (buf, &r, 0, fmt, pixels, GEGL_AUTO_ROWSTRIDE);
  GeglNode *graph = gegl_node_new ();
  GeglNode *src = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                       "buffer", buf, NULL);
  GeglNode *save = gegl_node_new_child (graph, "operation", saver, "path",
                                        tmp, NULL);
  if (!strcmp (saver, "gegl:png-save"))
    gegl_node_set (save, "bitdepth", 8, NULL);
  gegl_node_link (src, save);
  gegl_node_process (save);
  g_object_unref (graph);
  g_object_unref (buf);
  captured = NULL;
  pthread_mutex_unlock (&gegl_lock);
  struct stat st;
  if (warn[0] || stat (tmp, &st) || st.st_size == 0)
    snprintf (msg, msg_len, "%s", warn[0] ? warn : "nothing written");
  else if (rename (tmp, path))
    snprintf (msg, msg_len, "cannot replace %s: %s", path, strerror (errno));
  else
    {
      free (tmp);
      return 0;
    }
  unlink (tmp);
  free (tmp);
  return -1;
}

void
image_convert (const void *src, const char *src_format, void *dst,
               const char *dst_format, long n)
{
  babl_process (babl_fish (babl_format (src_format), babl_format (dst_format)),
                src, dst, n);
}

/* ---- Gamut mapping -------------------------------------------------------- */

#define GAMUT_CHUNK 4096

/* nn_gamut_map's conversion: babl's fish to linear RGB. */
static void
babl_lab_to_rgb (const float *lab, float *rgb, size_t n, void *fish)
{
  babl_process ((const Babl *) fish, lab, rgb, (long) n);
}

/* As the plug-in writes a layer (plugin/colorize-core.c): gamut-mapped
 * linear RGB float (nn/gamut.h), then 8-bit sRGB from it. */
void
image_lab_to_rgb_u8 (const float *lab, int channels, unsigned char *rgb,
                     long n)
{
  const Babl *to_lin = babl_fish (babl_format ("CIE Lab float"),
                                  babl_format ("RGB float"));
  const Babl *to_u8 = babl_fish (babl_format ("RGB float"),
                                 babl_format ("R'G'B' u8"));
  float *buf = malloc (GAMUT_CHUNK * 6 * sizeof *buf);
  float one[6];
  long chunk = buf ? GAMUT_CHUNK : 1;  /* no memory: a pixel at a time */
  float *cur = buf ? buf : one, *lin = cur + 3 * chunk;
  nn_error err;
  for (long start = 0; start < n; start += chunk)
    {
      int m = n - start < chunk ? (int) (n - start) : (int) chunk;
      for (int i = 0; i < m; i++)
        for (int c = 0; c < 3; c++)
          cur[i * 3 + c] = lab[(start + i) * channels + c];
      nn_gamut_map (cur, lin, (size_t) m, 3, babl_lab_to_rgb, (void *) to_lin,
                    &err);  /* out of memory: lin is the plain conversion */
      babl_process (to_u8, lin, rgb + start * 3, m);
    }
  free (buf);
}
