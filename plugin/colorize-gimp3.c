/* colorize-gimp3.c - the GIMP 3.0 host of the colorize plug-in (libgimp
 * 3.0 API): registration, arguments, dialog, undo, the new layer and its
 * mask, progress, and the folder procedure.  Pixels are handled by
 * colorize-core.c, shared with the GIMP 2.10 host.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "colorize-core.h"
#include "colorize-dir.h"
#include "colorize-preview.h"

#define PLUG_IN_BINARY "colorize"
#define PROC_CNN       "plug-in-colorize-cnn"
#define PROC_RESNET18  "plug-in-colorize-resnet18"
#define PROC_DIR       "plug-in-colorize-dir"
#define MENU_PATH      "<Image>/Filters/Colorize"

typedef struct _ColorizePlugIn      ColorizePlugIn;
typedef struct _ColorizePlugInClass ColorizePlugInClass;

struct _ColorizePlugIn
{
  GimpPlugIn parent_instance;
};

struct _ColorizePlugInClass
{
  GimpPlugInClass parent_class;
};

#define COLORIZE_TYPE_PLUG_IN (colorize_plug_in_get_type ())

GType colorize_plug_in_get_type (void) G_GNUC_CONST;

static GList         *colorize_query_procedures (GimpPlugIn   *plug_in);
static GimpProcedure *colorize_create_procedure (GimpPlugIn   *plug_in,
                                                 const gchar  *name);
static gboolean       colorize_set_i18n         (GimpPlugIn   *plug_in,
                                                 const gchar  *procedure_name,
                                                 gchar       **gettext_domain,
                                                 gchar       **catalog_dir);

G_DEFINE_TYPE (ColorizePlugIn, colorize_plug_in, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (COLORIZE_TYPE_PLUG_IN)

static void
colorize_plug_in_class_init (ColorizePlugInClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = colorize_query_procedures;
  plug_in_class->create_procedure = colorize_create_procedure;
  plug_in_class->set_i18n         = colorize_set_i18n;
}

static void
colorize_plug_in_init (ColorizePlugIn *self)
{
  (void) self;
}

static gboolean
colorize_set_i18n (GimpPlugIn   *plug_in,
                   const gchar  *procedure_name,
                   gchar       **gettext_domain,
                   gchar       **catalog_dir)
{
  (void) plug_in;
  (void) procedure_name;
  (void) gettext_domain;
  (void) catalog_dir;
  return FALSE; /* not translated */
}

static GList *
colorize_query_procedures (GimpPlugIn *plug_in)
{
  GList *list = NULL;

  (void) plug_in;
  list = g_list_append (list, g_strdup (PROC_CNN));
  list = g_list_append (list, g_strdup (PROC_RESNET18));
  list = g_list_append (list, g_strdup (PROC_DIR));
  return list;
}

/* ---- progress ---------------------------------------------------------- */

/* GIMP tells a plug-in nothing when the user cancels its progress: it
 * kills it (see "Cancelling a run" in plugin/README.md).  So this never
 * returns FALSE; the test hook stands in for GIMP's kill. */
static gboolean
progress_cb (gdouble fraction, gpointer data)
{
  (void) data;
  colorize_test_cancel_point (fraction);
  gimp_progress_update (fraction);
  return TRUE;
}

static const gchar *
pdb_error (void)
{
  const gchar *msg = gimp_pdb_get_last_error (gimp_get_pdb ());

  return msg && *msg ? msg : "unknown error";
}

/* ---- one layer --------------------------------------------------------- */

static gboolean
check_drawable (GimpImage *image, GimpDrawable *drawable, GError **error)
{
  if (! drawable || gimp_item_get_image (GIMP_ITEM (drawable)) != image)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The drawable is not part of the image.");
      return FALSE;
    }
  if (! GIMP_IS_LAYER (drawable))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Colorize works on a layer: select a layer, not a "
                   "channel or a layer mask.");
      return FALSE;
    }
  if (gimp_item_is_group (GIMP_ITEM (drawable)))
    {
      gchar *name = gimp_item_get_name (GIMP_ITEM (drawable));

      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "'%s' is a layer group: select one of its layers.",
                   name);
      g_free (name);
      return FALSE;
    }
  return TRUE;
}

/* The weights file of the procedure's config, or the bundled one. */
static gchar *
config_weights_path (GimpProcedureConfig *config, nn_arch arch)
{
  GFile *file = NULL;
  gchar *path = NULL;

  g_object_get (config, "weights-file", &file, NULL);
  if (file)
    {
      path = g_file_get_path (file);
      g_object_unref (file);
    }
  if (! path || ! *path)
    {
      g_free (path);
      path = colorize_weights_path (gimp_get_progname (),
                                    nn_arch_name (arch));
    }
  return path;
}

static gboolean
colorize_layer (GimpImage *image, GimpDrawable *drawable, nn_arch arch,
                GimpProcedureConfig *config, GError **error)
{
  nn_model   *model;
  GeglBuffer *buffer;
  GimpLayer  *layer;
  gfloat     *lab;
  gchar      *path, *name;
  gint        working_size;
  gdouble     strength, vividness;
  gint        x, y, w, h, off_x, off_y, position;
  gboolean    ok;
  gint64      t_start = g_get_monotonic_time ();
  gint64      t_loaded, t_computed;

  if (! check_drawable (image, drawable, error))
    return FALSE;
  if (! gimp_drawable_mask_intersect (drawable, &x, &y, &w, &h))
    {
      name = gimp_item_get_name (GIMP_ITEM (drawable));
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "The selection does not overlap the layer '%s': "
                   "nothing to colorize.", name);
      g_free (name);
      return FALSE;
    }

  g_object_get (config, "working-size", &working_size,
                "strength", &strength, "vividness", &vividness, NULL);
  path  = config_weights_path (config, arch);
  model = colorize_model_load (path, arch, error);
  g_free (path);
  if (! model)
    return FALSE;
  t_loaded = g_get_monotonic_time ();

  gimp_progress_init_printf ("Colorizing with %s",
                             colorize_arch_label (arch));

  /* Everything that can fail or be cancelled runs before the image is
   * touched. */
  buffer = gimp_drawable_get_buffer (drawable);
  w = gegl_buffer_get_width (buffer);
  h = gegl_buffer_get_height (buffer);
  lab = colorize_compute (model, buffer, working_size, strength, vividness,
                          progress_cb, NULL, error);
  g_object_unref (buffer);
  nn_model_free (model);
  if (! lab)
    return FALSE;
  t_computed = g_get_monotonic_time ();

  /* The point of no return.  GIMP cancels a plug-in by killing it, and
   * only while the plug-in's progress is on: ending the progress
   * disconnects GIMP's cancel handler, so a run that changes the image
   * can no longer be cancelled halfway.  Nothing below may report
   * progress (that would start a new, cancellable one): the bar stops at
   * 0.85, the write (a fraction of a second for 12 megapixels) runs
   * without it. */
  gimp_progress_end ();

  gimp_image_undo_group_start (image);

  if (gimp_image_get_base_type (image) != GIMP_RGB &&
      ! gimp_image_convert_rgb (image))
    {
      gimp_image_undo_group_end (image);
      g_free (lab);
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Could not convert the image to RGB: %s", pdb_error ());
      return FALSE;
    }

  gimp_drawable_get_offsets (drawable, &off_x, &off_y);
  position = gimp_image_get_item_position (image, GIMP_ITEM (drawable));
  name     = g_strdup_printf ("Colorized (%s)", colorize_arch_label (arch));
  layer    = gimp_layer_new (image, name, w, h, GIMP_RGBA_IMAGE, 100.0,
                             gimp_image_get_default_new_layer_mode (image));
  g_free (name);
  if (! layer ||
      ! gimp_image_insert_layer (image, layer,
                                 GIMP_LAYER (gimp_item_get_parent (
                                               GIMP_ITEM (drawable))),
                                 position))
    {
      gimp_image_undo_group_end (image);
      g_free (lab);
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Could not add the new layer: %s", pdb_error ());
      return FALSE;
    }
  gimp_layer_set_offsets (layer, off_x, off_y);

  buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  ok = colorize_write (lab, buffer, w, h, NULL, NULL, error);
  g_object_unref (buffer);
  g_free (lab);

  if (ok && ! gimp_selection_is_empty (image))
    {
      GimpLayerMask *mask = gimp_layer_create_mask (layer,
                                                    GIMP_ADD_MASK_SELECTION);

      if (! mask || ! gimp_layer_add_mask (layer, mask))
        {
          g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                       "Could not add the selection as a layer mask: %s",
                       pdb_error ());
          ok = FALSE;
        }
    }
  if (ok)
    gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0, w, h);
  else
    gimp_image_remove_layer (image, layer);

  gimp_image_undo_group_end (image);
  if (ok)
    colorize_log_times (colorize_arch_label (arch), w, h, t_start, t_loaded,
                        t_computed, g_get_monotonic_time ());
  return ok;
}

/* ---- dialog ------------------------------------------------------------ */

typedef struct
{
  GimpProcedureConfig *config;
  nn_arch              arch;
  ColorizePreview     *preview;
  GtkWidget           *vividness;         /* its scale entry */
  gboolean             vividness_default; /* not moved by the user yet */
  gboolean             syncing;           /* the dialog sets "vividness" */
} DialogState;

/* After the preview loaded a weights file: the slider is greyed for a
 * model without colour classes, and shows the model's default while the
 * vividness is the default (the argument goes back to -1 when the dialog
 * closes, so that the default follows the weights file). */
static void
dialog_sync_vividness (DialogState *st)
{
  const nn_model *model = colorize_preview_get_model (st->preview);
  gboolean        has   = ! model || colorize_model_has_vividness (model);

  gtk_widget_set_sensitive (st->vividness, has);
  gimp_help_set_help_data (st->vividness,
                           has ? COLORIZE_VIVIDNESS_TOOLTIP
                               : COLORIZE_VIVIDNESS_NO_CLASSES_TOOLTIP,
                           NULL);
  if (model && st->vividness_default)
    {
      st->syncing = TRUE;
      g_object_set (st->config, "vividness",
                    colorize_model_default_vividness (model), NULL);
      st->syncing = FALSE;
    }
}

static void
dialog_load_weights (DialogState *st)
{
  gchar *path = config_weights_path (st->config, st->arch);

  colorize_preview_set_weights (st->preview, path, st->arch);
  g_free (path);
  dialog_sync_vividness (st);
}

static void
dialog_config_notify (GObject *config, GParamSpec *pspec, DialogState *st)
{
  gint    working_size;
  gdouble strength, vividness;

  if (! strcmp (pspec->name, "weights-file"))
    dialog_load_weights (st);
  else if (! strcmp (pspec->name, "vividness") && ! st->syncing)
    st->vividness_default = FALSE;
  g_object_get (config, "working-size", &working_size,
                "strength", &strength, "vividness", &vividness, NULL);
  colorize_preview_update (st->preview, working_size, strength, vividness);
}

static gboolean
colorize_dialog (GimpProcedure *procedure, GimpProcedureConfig *config,
                 GimpDrawable *drawable, nn_arch arch)
{
  DialogState  st = { config, arch, NULL, NULL, FALSE, FALSE };
  GtkWidget   *dialog, *vbox, *frame, *area, *status, *scale;
  GeglBuffer  *buffer;
  gchar       *title;
  gint         working_size;
  gdouble      strength, vividness;
  gboolean     run;

  gimp_ui_init (PLUG_IN_BINARY);

  title  = g_strdup_printf ("Colorize with %s", colorize_arch_label (arch));
  dialog = gimp_procedure_dialog_new (procedure, config, title);
  g_free (title);

  vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      vbox, TRUE, TRUE, 0);

  frame = gtk_frame_new (NULL);
  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  gtk_box_pack_start (GTK_BOX (vbox), frame, TRUE, TRUE, 0);
  area = gimp_preview_area_new ();
  gtk_container_add (GTK_CONTAINER (frame), area);

  status = gtk_label_new ("");
  gtk_label_set_xalign (GTK_LABEL (status), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (status), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (status), 48);
  gtk_box_pack_start (GTK_BOX (vbox), status, FALSE, FALSE, 0);
  gtk_widget_show_all (vbox);

  buffer = gimp_drawable_get_buffer (drawable);
  st.preview = colorize_preview_new (buffer, area, status);
  g_object_unref (buffer);

  /* Sliders; the arguments' full ranges stay reachable by typing. */
  scale = gimp_procedure_dialog_get_scale_entry (GIMP_PROCEDURE_DIALOG (dialog),
                                                 "working-size", 1.0);
  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (scale), 0, 1024, TRUE);
  gimp_label_spin_set_increments (GIMP_LABEL_SPIN (scale), 8, 64);
  scale = gimp_procedure_dialog_get_scale_entry (GIMP_PROCEDURE_DIALOG (dialog),
                                                 "strength", 1.0);
  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (scale), 0.0, 2.0, TRUE);
  /* -1 (the model's default) is for the PDB: the slider shows 0..1. */
  st.vividness = gimp_procedure_dialog_get_scale_entry (
                   GIMP_PROCEDURE_DIALOG (dialog), "vividness", 1.0);
  gimp_scale_entry_set_bounds (GIMP_SCALE_ENTRY (st.vividness), 0.0, 1.0,
                               TRUE);
  gimp_label_spin_set_increments (GIMP_LABEL_SPIN (st.vividness), 0.01,
                                  0.1);
  gimp_label_spin_set_digits (GIMP_LABEL_SPIN (st.vividness), 2);
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog),
                              "working-size", "strength", "vividness",
                              "weights-file", NULL);

  g_object_get (config, "vividness", &vividness, NULL);
  st.vividness_default = vividness < 0.0;
  dialog_load_weights (&st);
  g_signal_connect (config, "notify",
                    G_CALLBACK (dialog_config_notify), &st);
  g_object_get (config, "working-size", &working_size,
                "strength", &strength, "vividness", &vividness, NULL);
  colorize_preview_update (st.preview, working_size, strength, vividness);

  run = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handlers_disconnect_by_func (config, dialog_config_notify, &st);
  if (st.vividness_default)
    g_object_set (config, "vividness", COLORIZE_VIVIDNESS_DEFAULT, NULL);
  colorize_preview_free (st.preview);
  gtk_widget_destroy (dialog);
  return run;
}

static GimpValueArray *
colorize_image_run (GimpProcedure        *procedure,
                    GimpRunMode           run_mode,
                    GimpImage            *image,
                    GimpDrawable        **drawables,
                    GimpProcedureConfig  *config,
                    gpointer              run_data)
{
  nn_arch  arch  = (nn_arch) GPOINTER_TO_INT (run_data);
  GError  *error = NULL;
  gint     n     = 0;

  while (drawables && drawables[n])
    n++;
  if (n != 1)
    {
      g_set_error (&error, COLORIZE_ERROR, NN_ERR_ARG,
                   "Colorize works on one layer at a time; %d are "
                   "selected.", n);
      return gimp_procedure_new_return_values (procedure,
                                               GIMP_PDB_CALLING_ERROR,
                                               error);
    }
  if (! check_drawable (image, drawables[0], &error))
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_EXECUTION_ERROR,
                                             error);

  if (run_mode == GIMP_RUN_INTERACTIVE &&
      ! colorize_dialog (procedure, config, drawables[0], arch))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL,
                                             NULL);

  if (! colorize_layer (image, drawables[0], arch, config, &error))
    return gimp_procedure_new_return_values (
             procedure,
             g_error_matches (error, COLORIZE_ERROR, NN_ERR_CANCELLED)
             ? GIMP_PDB_CANCEL : GIMP_PDB_EXECUTION_ERROR,
             error);

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();
  return gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS,
                                           NULL);
}

/* ---- the folder procedure ---------------------------------------------- */

/* The folder procedure's model and settings, for each file. */
typedef struct
{
  nn_model *model;
  gdouble   vividness;
} DirJob;

static gboolean
colorize_file (const DirJob *job, const gchar *in_path,
               const gchar *tmp_path, GError **error)
{
  GimpImage  *image;
  GimpLayer  *layer;
  GeglBuffer *buffer;
  GFile      *file;
  gfloat     *lab;
  gint        w, h;
  gboolean    ok;

  file  = g_file_new_for_path (in_path);
  image = gimp_file_load (GIMP_RUN_NONINTERACTIVE, file);
  g_object_unref (file);
  if (! image)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                   "GIMP could not load it: %s", pdb_error ());
      return FALSE;
    }

  layer = gimp_image_merge_visible_layers (image, GIMP_CLIP_TO_IMAGE);
  if (! layer)
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "it has no visible layer: %s", pdb_error ());
      gimp_image_delete (image);
      return FALSE;
    }

  buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  w = gegl_buffer_get_width (buffer);
  h = gegl_buffer_get_height (buffer);
  lab = colorize_compute (job->model, buffer, 0, 1.0, job->vividness,
                          progress_cb, NULL, error);
  g_object_unref (buffer);
  if (! lab)
    {
      gimp_image_delete (image);
      return FALSE;
    }

  if (gimp_image_get_base_type (image) != GIMP_RGB &&
      ! gimp_image_convert_rgb (image))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "could not convert it to RGB: %s", pdb_error ());
      g_free (lab);
      gimp_image_delete (image);
      return FALSE;
    }

  /* The loaded copy's own layer takes the colour: L and alpha are the
   * source's, so this is the colour layer merged onto the original. */
  buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  ok = colorize_write (lab, buffer, w, h, progress_cb, NULL, error);
  g_object_unref (buffer);
  g_free (lab);

  if (ok && colorize_dir_indexed_only (tmp_path) &&
      ! gimp_image_convert_indexed (image, GIMP_CONVERT_DITHER_FS,
                                    GIMP_CONVERT_PALETTE_GENERATE,
                                    COLORIZE_DIR_INDEXED_COLOURS, FALSE,
                                    FALSE, ""))
    {
      g_set_error (error, COLORIZE_ERROR, NN_ERR_ARG,
                   "could not convert it back to indexed colour for "
                   "'%s': %s", tmp_path, pdb_error ());
      ok = FALSE;
    }
  if (ok)
    {
      file = g_file_new_for_path (tmp_path);
      if (! gimp_file_save (GIMP_RUN_NONINTERACTIVE, image, file, NULL))
        {
          g_set_error (error, COLORIZE_ERROR, NN_ERR_IO,
                       "GIMP could not save '%s': %s", tmp_path,
                       pdb_error ());
          ok = FALSE;
        }
      g_object_unref (file);
    }
  gimp_image_delete (image);
  return ok;
}

/* colorize_dir_each's per-file step: progress, then colorize_file. */
static gboolean
colorize_dir_file (const gchar *name, gint index, gint count,
                   const gchar *in_path, const gchar *tmp_path,
                   gpointer data, GError **error)
{
  gimp_progress_init_printf ("Colorizing %s (%d of %d)", name, index + 1,
                             count);
  return colorize_file (data, in_path, tmp_path, error);
}

static GimpValueArray *
colorize_dir_run (GimpProcedure       *procedure,
                  GimpProcedureConfig *config,
                  gpointer             run_data)
{
  DirJob    job   = { NULL, COLORIZE_VIVIDNESS_DEFAULT };
  gchar   **names;
  gchar    *model_arg = NULL, *in_dir = NULL, *out_dir = NULL, *path;
  nn_arch   arch  = (nn_arch) -1;
  GError   *error = NULL;
  gboolean  ok;

  (void) run_data;
  g_object_get (config, "model", &model_arg, "input-dir", &in_dir,
                "output-dir", &out_dir, "vividness", &job.vividness, NULL);

  if (! model_arg || ! *model_arg)
    {
      g_set_error (&error, COLORIZE_ERROR, NN_ERR_ARG,
                   "No model given: use \"cnn\", \"resnet18\" or the path "
                   "of a .weights file.");
      goto fail;
    }
  if (! colorize_vividness_check (job.vividness, &error))
    goto fail;
  names = colorize_dir_prepare (in_dir, out_dir, &error);
  if (! names)
    goto fail;

  nn_arch_parse (model_arg, &arch);
  path      = colorize_weights_path (gimp_get_progname (), model_arg);
  job.model = colorize_model_load (path, arch, &error);
  g_free (path);
  if (! job.model)
    {
      g_strfreev (names);
      goto fail;
    }

  ok = colorize_dir_each (in_dir, out_dir, names, colorize_dir_file, &job,
                          &error);
  nn_model_free (job.model);
  g_strfreev (names);
  if (! ok)
    goto fail;

  g_free (model_arg);
  g_free (in_dir);
  g_free (out_dir);
  return gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS,
                                           NULL);

 fail:
  g_free (model_arg);
  g_free (in_dir);
  g_free (out_dir);
  return gimp_procedure_new_return_values (procedure,
                                           GIMP_PDB_EXECUTION_ERROR, error);
}

/* ---- registration ------------------------------------------------------ */

/* The last argument of every procedure, so that callers from before it
 * still work (an omitted trailing argument gets its default). */
static void
add_vividness_argument (GimpProcedure *procedure)
{
  gimp_procedure_add_double_argument (procedure, "vividness", "_Vividness",
                                      "Colour-class models only: 0 = dull "
                                      "(temperature 1.0) .. 1 = vivid "
                                      "(temperature 0.2), -1 = the model's "
                                      "default",
                                      COLORIZE_VIVIDNESS_DEFAULT, 1.0,
                                      COLORIZE_VIVIDNESS_DEFAULT,
                                      G_PARAM_READWRITE);
}

static GimpProcedure *
colorize_create_procedure (GimpPlugIn *plug_in, const gchar *name)
{
  GimpProcedure *procedure;

  if (! strcmp (name, PROC_CNN) || ! strcmp (name, PROC_RESNET18))
    {
      nn_arch arch = strcmp (name, PROC_CNN) ? NN_ARCH_RESNET18
                                             : NN_ARCH_CNN;

      procedure = gimp_image_procedure_new (plug_in, name,
                                            GIMP_PDB_PROC_TYPE_PLUGIN,
                                            colorize_image_run,
                                            GINT_TO_POINTER (arch), NULL);
      gimp_procedure_set_image_types (procedure, "RGB*, GRAY*, INDEXED*");
      gimp_procedure_set_sensitivity_mask (procedure,
                                           GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
      gimp_procedure_set_menu_label (procedure,
                                     arch == NN_ARCH_CNN
                                     ? "Colorize with _CNN..."
                                     : "Colorize with _ResNet18...");
      gimp_procedure_add_menu_path (procedure, MENU_PATH);
      gimp_procedure_set_documentation (
        procedure,
        arch == NN_ARCH_CNN
        ? "Colorize a black-and-white layer with the CNN"
        : "Colorize a black-and-white layer with ResNet18",
        "Predicts the colours of a black-and-white layer with a neural "
        "network and puts them in a new layer above it; the layer itself "
        "is not changed.  A selection becomes the new layer's mask.",
        name);
      gimp_procedure_set_attribution (procedure, "colorize authors",
                                      "colorize authors", "2025");

      gimp_procedure_add_int_argument (procedure, "working-size",
                                       "_Working size",
                                       "Longer side, in pixels, of the "
                                       "picture the network sees (0 = the "
                                       "model's default, else 64..2048); "
                                       "lower often gives more vivid colour",
                                       0, COLORIZE_MAX_WORKING_SIZE, 0,
                                       G_PARAM_READWRITE);
      gimp_procedure_add_double_argument (procedure, "strength",
                                          "_Strength",
                                          "Chroma multiplier (1.0 = as "
                                          "predicted)",
                                          0.0, 10.0, 1.0, G_PARAM_READWRITE);
      gimp_procedure_add_file_argument (procedure, "weights-file",
                                        "Weights _file",
                                        "A .weights file (none = the "
                                        "bundled one)",
                                        GIMP_FILE_CHOOSER_ACTION_OPEN,
                                        TRUE, NULL, G_PARAM_READWRITE);
      add_vividness_argument (procedure);
      return procedure;
    }

  if (! strcmp (name, PROC_DIR))
    {
      procedure = gimp_procedure_new (plug_in, name,
                                      GIMP_PDB_PROC_TYPE_PLUGIN,
                                      colorize_dir_run, NULL, NULL);
      gimp_procedure_set_documentation (
        procedure, "Colorize every image of a folder",
        "Loads every file of the input folder (not recursive), colorizes "
        "it and saves it under the same name and format in the output "
        "folder (GIF results are converted back to indexed colour: 256 "
        "colours, dithered).  Files that fail are named and skipped; the "
        "procedure then returns an error.  The input folder is never "
        "written to.",
        name);
      gimp_procedure_set_attribution (procedure, "colorize authors",
                                      "colorize authors", "2025");
      gimp_procedure_add_enum_argument (procedure, "run-mode", "Run mode",
                                        "The run mode", GIMP_TYPE_RUN_MODE,
                                        GIMP_RUN_NONINTERACTIVE,
                                        G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "model", "Model",
                                          "\"cnn\", \"resnet18\" or the "
                                          "path of a .weights file",
                                          "resnet18", G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "input-dir",
                                          "Input folder",
                                          "Folder of images to colorize "
                                          "(not recursive, never written "
                                          "to)", NULL, G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "output-dir",
                                          "Output folder",
                                          "Folder for the results (created "
                                          "if missing)", NULL,
                                          G_PARAM_READWRITE);
      add_vividness_argument (procedure);
      return procedure;
    }
  return NULL;
}
