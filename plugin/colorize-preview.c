/* colorize-preview.c - the dialog preview shared by both hosts.
 * See colorize-preview.h.
 */
#include <string.h>

#include <gtk/gtk.h>
#include <gegl.h>
#include <babl/babl.h>
#include <libgimpwidgets/gimpwidgets.h>

#include "colorize-core.h"
#include "colorize-preview.h"

/* Wait this long after the last change before recomputing. */
#define PREVIEW_DELAY_MS 250

typedef struct
{
  ColorizePreview *preview;   /* NULL once the preview gave up on the job */
  nn_model        *model;     /* borrowed from the preview */
  gfloat          *lab;
  gint             width;
  gint             height;
  gint             working_size;
  gdouble          strength;
  gdouble          vividness;
  ColorizeHints    hints;     /* in the job's pixels */
  volatile gint    cancel;
  guchar          *rgba;      /* result, display size */
  gint             disp_width;
  gint             disp_height;
  GError          *error;
  gdouble          seconds;
} PreviewJob;

struct _ColorizePreview
{
  GeglBuffer *src;
  GtkWidget  *area;
  GtkWidget  *status;
  nn_model   *model;
  gchar      *model_error;
  gint        working_size;
  gdouble     strength;
  gdouble     vividness;
  ColorizeHints hints;     /* full size, the drawable's pixels */
  gboolean    hints_only;
  guint       timeout_id;
  GThread    *thread;
  PreviewJob *job;
  gboolean    pending;
  /* the scaled source, kept while the working size does not change */
  gfloat     *lab;
  gint        lab_side;
  gint        lab_width;
  gint        lab_height;
  /* the last result shown, redrawn when the area is resized */
  guchar     *shown;
  gint        shown_width;
  gint        shown_height;
};

static void preview_start (ColorizePreview *preview);
static void preview_schedule (ColorizePreview *preview);

static void
job_free (PreviewJob *job)
{
  g_clear_error (&job->error);
  colorize_hints_clear (&job->hints);
  g_free (job->lab);
  g_free (job->rgba);
  g_free (job);
}

static void
display_size (gint width, gint height, gint *dw, gint *dh)
{
  gint side = MAX (width, height);

  if (side <= COLORIZE_PREVIEW_SIZE)
    {
      *dw = width;
      *dh = height;
      return;
    }
  *dw = MAX (1, width * COLORIZE_PREVIEW_SIZE / side);
  *dh = MAX (1, height * COLORIZE_PREVIEW_SIZE / side);
}

static gpointer
preview_worker (gpointer data)
{
  PreviewJob *job   = data;
  gint64      start = g_get_monotonic_time ();
  gsize       n     = (gsize) job->width * job->height;

  if (colorize_pixels (job->model, job->lab, job->width, job->height,
                       job->working_size, job->strength, job->vividness,
                       &job->hints, NULL, NULL,
                       &job->cancel, &job->error))
    {
      const Babl *linear = babl_format_with_space ("RGBA float", NULL);
      const Babl *u8     = babl_format ("R'G'B'A u8");
      gfloat     *rgba   = g_try_new (gfloat, 4 * n);
      guchar     *full   = g_try_malloc (4 * n);

      if (rgba && full)
        {
          GeglBuffer *buf;

          colorize_gamut_map (linear, job->lab, rgba, n);
          babl_process (babl_fish (linear, u8), rgba, full, n);

          display_size (job->width, job->height,
                        &job->disp_width, &job->disp_height);
          job->rgba = g_malloc (4 * job->disp_width * job->disp_height);
          buf = gegl_buffer_linear_new_from_data (
                  full, u8, GEGL_RECTANGLE (0, 0, job->width, job->height),
                  4 * job->width, NULL, NULL);
          gegl_buffer_get (buf,
                           GEGL_RECTANGLE (0, 0,
                                           job->disp_width, job->disp_height),
                           (gdouble) job->disp_width / job->width,
                           u8, job->rgba, GEGL_AUTO_ROWSTRIDE,
                           GEGL_ABYSS_CLAMP);
          g_object_unref (buf);
        }
      else
        {
          g_set_error (&job->error, COLORIZE_ERROR, NN_ERR_NOMEM,
                       "Not enough memory for the preview.");
        }
      g_free (full);
      g_free (rgba);
    }
  job->seconds = (g_get_monotonic_time () - start) / 1e6;
  return NULL;
}

static void
preview_draw (ColorizePreview *preview)
{
  GtkAllocation alloc;
  gint          x, y;

  gtk_widget_get_allocation (preview->area, &alloc);
  if (alloc.width <= 1 || alloc.height <= 1)
    return;

  gimp_preview_area_fill (GIMP_PREVIEW_AREA (preview->area),
                          0, 0, alloc.width, alloc.height, 128, 128, 128);
  if (! preview->shown)
    return;

  x = MAX (0, (alloc.width - preview->shown_width) / 2);
  y = MAX (0, (alloc.height - preview->shown_height) / 2);
  gimp_preview_area_draw (GIMP_PREVIEW_AREA (preview->area), x, y,
                          MIN (preview->shown_width, alloc.width),
                          MIN (preview->shown_height, alloc.height),
                          GIMP_RGBA_IMAGE, preview->shown,
                          4 * preview->shown_width);
}

static void
preview_size_allocate (GtkWidget     *widget,
                       GtkAllocation *allocation,
                       gpointer       data)
{
  (void) widget;
  (void) allocation;
  preview_draw (data);
}

static void
preview_status (ColorizePreview *preview, const gchar *text)
{
  gtk_label_set_text (GTK_LABEL (preview->status), text);
}

/* Runs in the main thread when a worker has finished. */
static gboolean
preview_job_done (gpointer data)
{
  PreviewJob      *job     = data;
  ColorizePreview *preview = job->preview;

  if (! preview)
    {
      job_free (job);
      return G_SOURCE_REMOVE;
    }

  g_thread_join (preview->thread);
  preview->thread = NULL;
  preview->job    = NULL;

  if (job->rgba && ! job->cancel)
    {
      gchar *text;
      gint   ws = job->working_size ? job->working_size
                  : nn_colorize_default_working_size (job->model);

      g_free (preview->shown);
      preview->shown        = job->rgba;
      preview->shown_width  = job->disp_width;
      preview->shown_height = job->disp_height;
      job->rgba = NULL;
      preview_draw (preview);
      if (! job->model)
        text = g_strdup_printf ("Preview: hints only at %d px, %zu hint "
                                "pixels, %.2f s", ws,
                                (size_t) job->hints.n, job->seconds);
      else if (colorize_model_has_vividness (job->model))
        text = g_strdup_printf ("Preview: network at %d px, temperature "
                                "%.2f, %zu hint pixels, %.2f s", ws,
                                colorize_model_temperature (job->model,
                                                            job->vividness),
                                (size_t) job->hints.n, job->seconds);
      else
        text = g_strdup_printf ("Preview: network at %d px, %zu hint "
                                "pixels, %.2f s", ws, (size_t) job->hints.n,
                                job->seconds);
      preview_status (preview, text);
      g_free (text);
    }
  else if (job->error && job->error->code != NN_ERR_CANCELLED)
    {
      preview_status (preview, job->error->message);
    }
  job_free (job);

  if (preview->pending)
    {
      preview->pending = FALSE;
      preview_start (preview);
    }
  return G_SOURCE_REMOVE;
}

static gpointer
preview_thread (gpointer data)
{
  preview_worker (data);
  g_idle_add (preview_job_done, data);
  return NULL;
}

/* Cancels the running job and waits for it; its idle callback will free
 * it without touching the preview. */
static void
preview_abandon_job (ColorizePreview *preview)
{
  if (! preview->thread)
    return;
  preview->job->cancel = 1;
  g_thread_join (preview->thread);
  preview->job->preview = NULL;
  preview->thread  = NULL;
  preview->job     = NULL;
}

static void
preview_start (ColorizePreview *preview)
{
  PreviewJob *job;
  GError     *error = NULL;
  gint        ws, side;

  if (preview->thread)
    {
      preview->job->cancel = 1;
      preview->pending = TRUE;
      return;
    }
  if (! preview->model && ! preview->hints_only)
    {
      preview_status (preview, preview->model_error ? preview->model_error
                               : "No model loaded.");
      return;
    }

  ws   = preview->working_size ? preview->working_size
         : nn_colorize_default_working_size (preview->hints_only ? NULL
                                          : preview->model);
  side = MAX (ws, COLORIZE_PREVIEW_SIZE);
  if (! preview->lab || preview->lab_side != side)
    {
      g_clear_pointer (&preview->lab, g_free);
      preview->lab = colorize_read_scaled (preview->src, side,
                                           &preview->lab_width,
                                           &preview->lab_height, &error);
      if (! preview->lab)
        {
          preview_status (preview, error->message);
          g_error_free (error);
          return;
        }
      preview->lab_side = side;
    }

  job = g_new0 (PreviewJob, 1);
  job->preview      = preview;
  job->model        = preview->hints_only ? NULL : preview->model;
  job->width        = preview->lab_width;
  job->height       = preview->lab_height;
  job->working_size = preview->working_size;
  job->strength     = preview->strength;
  job->vividness    = preview->vividness;
  job->lab          = g_memdup2 (preview->lab, (gsize) 4 * sizeof (gfloat)
                                 * job->width * job->height);
  if (preview->hints.n)
    {
      const GeglRectangle *ext = gegl_buffer_get_extent (preview->src);

      colorize_hints_scale (&preview->hints, ext->width, ext->height,
                            job->width, job->height, &job->hints);
    }
  preview->job    = job;
  preview->thread = g_thread_new ("colorize-preview", preview_thread, job);
  preview_status (preview, "Computing the preview...");
}

static gboolean
preview_timeout (gpointer data)
{
  ColorizePreview *preview = data;

  preview->timeout_id = 0;
  preview_start (preview);
  return G_SOURCE_REMOVE;
}

ColorizePreview *
colorize_preview_new (GeglBuffer *src, GtkWidget *area, GtkWidget *status)
{
  ColorizePreview *preview = g_new0 (ColorizePreview, 1);

  preview->src    = g_object_ref (src);
  preview->area   = area;
  preview->status = status;
  preview->strength = 1.0;
  preview->vividness = COLORIZE_VIVIDNESS_DEFAULT;
  gtk_widget_set_size_request (area, COLORIZE_PREVIEW_SIZE,
                               COLORIZE_PREVIEW_SIZE);
  g_signal_connect (area, "size-allocate",
                    G_CALLBACK (preview_size_allocate), preview);
  return preview;
}

void
colorize_preview_set_weights (ColorizePreview *preview, const gchar *path,
                              nn_arch arch)
{
  GError *error = NULL;

  preview_abandon_job (preview);
  g_clear_pointer (&preview->model, nn_model_free);
  g_clear_pointer (&preview->model_error, g_free);

  preview->model = colorize_model_load (path, arch, &error);
  if (! preview->model)
    {
      preview->model_error = g_strdup (error->message);
      g_error_free (error);
      g_clear_pointer (&preview->shown, g_free);
      preview_draw (preview);
      preview_status (preview, preview->model_error);
      return;
    }
  preview_start (preview);
}

const nn_model *
colorize_preview_get_model (ColorizePreview *preview)
{
  return preview->model;
}

void
colorize_preview_update (ColorizePreview *preview, gint working_size,
                         gdouble strength, gdouble vividness)
{
  preview->working_size = working_size;
  preview->strength     = strength;
  preview->vividness    = vividness;
  preview_schedule (preview);
}

static void
preview_schedule (ColorizePreview *preview)
{
  if (preview->timeout_id)
    g_source_remove (preview->timeout_id);
  preview->timeout_id = g_timeout_add (PREVIEW_DELAY_MS, preview_timeout,
                                       preview);
}

void
colorize_preview_set_hints (ColorizePreview *preview, ColorizeHints *hints)
{
  colorize_hints_clear (&preview->hints);
  preview->hints = *hints;
  *hints = COLORIZE_HINTS_NONE;
  preview_schedule (preview);
}

void
colorize_preview_set_hints_only (ColorizePreview *preview,
                                 gboolean         hints_only)
{
  preview->hints_only = hints_only;
  preview_schedule (preview);
}

void
colorize_preview_free (ColorizePreview *preview)
{
  if (! preview)
    return;
  if (preview->timeout_id)
    g_source_remove (preview->timeout_id);
  preview_abandon_job (preview);
  g_signal_handlers_disconnect_by_data (preview->area, preview);
  g_clear_pointer (&preview->model, nn_model_free);
  g_free (preview->model_error);
  colorize_hints_clear (&preview->hints);
  g_free (preview->lab);
  g_free (preview->shown);
  g_object_unref (preview->src);
  g_free (preview);
}
