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
#include "colorize-host.h"
#include "colorize-preview.h"

#define PLUG_IN_BINARY "colorize"
#define PROC_CNN       "plug-in-colorize-cnn"
#define PROC_RESNET18  "plug-in-colorize-resnet18"
#define PROC_DIR       "plug-in-colorize-dir"
#define PROC_DIR_HINTS "plug-in-colorize-dir-hints"
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
  list = g_list_append (list, g_strdup (PROC_DIR_HINTS));
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

/* ---- one layer: the host of colorize-host.c --------------------------- */

static gboolean
h_in_image (gpointer image, gpointer item)
{
  return gimp_item_get_image (GIMP_ITEM (item)) == image;
}

static gboolean h_is_layer (gpointer item) { return GIMP_IS_LAYER (item); }
static gboolean h_is_group (gpointer item) { return gimp_item_is_group (GIMP_ITEM (item)); }
static gchar   *h_name (gpointer item)     { return gimp_item_get_name (GIMP_ITEM (item)); }
static gint     h_width (gpointer d)       { return gimp_drawable_get_width (GIMP_DRAWABLE (d)); }
static gint     h_height (gpointer d)      { return gimp_drawable_get_height (GIMP_DRAWABLE (d)); }
static void     h_progress_end (void)      { gimp_progress_end (); }
static gboolean h_is_rgb (gpointer image)  { return gimp_image_get_base_type (image) == GIMP_RGB; }
static gboolean h_convert_rgb (gpointer i) { return gimp_image_convert_rgb (i); }

static void
h_offsets (gpointer drawable, gint *x, gint *y)
{
  gimp_drawable_get_offsets (GIMP_DRAWABLE (drawable), x, y);
}

static GeglBuffer *
h_buffer (gpointer drawable)
{
  return gimp_drawable_get_buffer (GIMP_DRAWABLE (drawable));
}

static gboolean
h_mask_intersect (gpointer drawable)
{
  gint x, y, w, h;

  return gimp_drawable_mask_intersect (GIMP_DRAWABLE (drawable), &x, &y, &w,
                                       &h);
}

static gboolean
h_selection_empty (gpointer image)
{
  return gimp_selection_is_empty (image);
}

static void
h_progress_init (const gchar *message)
{
  gimp_progress_init (message);
}

static void
h_undo_group (gpointer image, gboolean start)
{
  if (start)
    gimp_image_undo_group_start (image);
  else
    gimp_image_undo_group_end (image);
}

static gpointer
h_new_layer_above (gpointer image, gpointer drawable, const gchar *name,
                   gint w, gint h)
{
  GimpItem  *item = GIMP_ITEM (drawable);
  gint       off_x, off_y;
  GimpLayer *layer = gimp_layer_new (image, name, w, h, GIMP_RGBA_IMAGE,
                                     100.0,
                                     gimp_image_get_default_new_layer_mode (
                                       image));

  if (! layer ||
      ! gimp_image_insert_layer (image, layer,
                                 GIMP_LAYER (gimp_item_get_parent (item)),
                                 gimp_image_get_item_position (image, item)))
    return NULL;
  gimp_drawable_get_offsets (GIMP_DRAWABLE (drawable), &off_x, &off_y);
  gimp_layer_set_offsets (layer, off_x, off_y);
  return layer;
}

static gboolean
h_add_selection_mask (gpointer layer)
{
  GimpLayerMask *mask = gimp_layer_create_mask (layer,
                                                GIMP_ADD_MASK_SELECTION);

  return mask && gimp_layer_add_mask (layer, mask);
}

static void
h_update (gpointer layer, gint w, gint h)
{
  gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0, w, h);
}

static void
h_remove_layer (gpointer image, gpointer layer)
{
  gimp_image_remove_layer (image, layer);
}

static const ColorizeHost host;  /* the table, after the folder calls */

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
  GimpLayer  *hints = NULL;
  gboolean    hints_only, ok;
  ColorizeRun run = { arch, NULL, gimp_get_progname (), 0, 1.0, -1.0, NULL,
                      FALSE };

  g_object_get (config, "hints", &hints, "hints-only", &hints_only,
                "working-size", &run.working_size, "strength", &run.strength,
                "vividness", &run.vividness, NULL);
  run.weights    = hints_only ? NULL : config_weights_path (config, arch);
  run.hints      = hints;
  run.hints_only = hints_only;
  ok = colorize_layer_run (&host, image, drawable, &run, error);
  g_free (run.weights);
  g_clear_object (&hints);
  return ok;
}

/* ---- dialog ------------------------------------------------------------ */

typedef struct
{
  GimpProcedureConfig *config;
  nn_arch              arch;
  GimpDrawable        *drawable;
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

/* The preview's hints follow the "hints" argument (loaded here, not on
 * its notify: setting the value it already has, as the combo does at
 * start, need not notify). */
static void
dialog_load_hints (DialogState *st)
{
  GimpLayer     *layer = NULL;
  ColorizeHints  hints;
  GError        *error = NULL;

  g_object_get (st->config, "hints", &layer, NULL);
  if (! colorize_layer_read_hints (&host, st->drawable, layer, &hints,
                                  &error))
    {
      g_message ("%s", error->message);
      g_error_free (error);
    }
  colorize_preview_set_hints (st->preview, &hints);
  g_clear_object (&layer);
}

static void
dialog_config_notify (GObject *config, GParamSpec *pspec, DialogState *st)
{
  gint     working_size;
  gdouble  strength, vividness;
  gboolean hints_only;

  if (! strcmp (pspec->name, "weights-file"))
    dialog_load_weights (st);
  else if (! strcmp (pspec->name, "hints-only"))
    {
      g_object_get (config, "hints-only", &hints_only, NULL);
      colorize_preview_set_hints_only (st->preview, hints_only);
    }
  else if (! strcmp (pspec->name, "vividness") && ! st->syncing)
    st->vividness_default = FALSE;
  g_object_get (config, "working-size", &working_size,
                "strength", &strength, "vividness", &vividness, NULL);
  colorize_preview_update (st->preview, working_size, strength, vividness);
}

/* The hints combo lists the layers of the image but the one colorized
 * and groups. */
static gboolean
dialog_hints_constraint (GimpImage *image, GimpItem *item, gpointer data)
{
  GimpItem *drawable = data;

  return image == gimp_item_get_image (drawable) && item != drawable &&
         ! gimp_item_is_group (item);
}

static void
dialog_hints_changed (GtkWidget *combo, DialogState *st)
{
  gint id = -1;

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id);
  g_object_set (st->config, "hints",
                id == -1 ? NULL : gimp_layer_get_by_id (id), NULL);
  dialog_load_hints (st);
}

/* "Colour hints": a layer combo with "None" first, for the "hints"
 * argument (GIMP's own chooser for it offers no "none"). */
static void
dialog_add_hints (GtkWidget *vbox, DialogState *st)
{
  GtkWidget *hbox, *label, *combo;
  GimpLayer *layer = NULL;
  gint       id    = -1;

  g_object_get (st->config, "hints", &layer, NULL);
  if (layer)
    id = gimp_item_get_id (GIMP_ITEM (layer));
  g_clear_object (&layer);

  hbox  = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
  label = gtk_label_new_with_mnemonic ("Colour _hints:");
  gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
  combo = gimp_layer_combo_box_new (dialog_hints_constraint, st->drawable,
                                    NULL);
  gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                              GIMP_INT_STORE_VALUE, -1,
                              GIMP_INT_STORE_LABEL, "None", -1);
  gimp_help_set_help_data (combo, COLORIZE_HINTS_TOOLTIP, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
  gtk_box_pack_start (GTK_BOX (hbox), combo, TRUE, TRUE, 0);
  /* Not gimp_int_combo_box_connect: its first call of the callback does
   * not come when the combo already shows that layer. */
  if (! gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), id))
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), -1);
  g_signal_connect (combo, "changed", G_CALLBACK (dialog_hints_changed), st);
  dialog_hints_changed (combo, st);
  gtk_widget_show_all (hbox);
}

static gboolean
colorize_dialog (GimpProcedure *procedure, GimpProcedureConfig *config,
                 GimpDrawable *drawable, nn_arch arch)
{
  DialogState  st = { config, arch, drawable, NULL, NULL, FALSE, FALSE };
  GtkWidget   *dialog, *vbox, *frame, *area, *status, *scale;
  GeglBuffer  *buffer;
  gchar       *title;
  gint         working_size;
  gdouble      strength, vividness;
  gboolean     run, hints_only;

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
                              "weights-file", "hints-only", NULL);

  g_object_get (config, "vividness", &vividness, NULL);
  st.vividness_default = vividness < 0.0;
  dialog_load_weights (&st);
  g_signal_connect (config, "notify",
                    G_CALLBACK (dialog_config_notify), &st);
  dialog_add_hints (vbox, &st);
  g_object_get (config, "hints-only", &hints_only, NULL);
  colorize_preview_set_hints_only (st.preview, hints_only);
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

/* The last values' hints layer may belong to another image (or be the
 * layer now colorized): forget it. */
static void
forget_stale_hints (GimpImage *image, GimpDrawable *drawable,
                    GimpProcedureConfig *config)
{
  GimpLayer *layer = NULL;

  g_object_get (config, "hints", &layer, NULL);
  if (layer && ! dialog_hints_constraint (image, GIMP_ITEM (layer),
                                          drawable))
    g_object_set (config, "hints", NULL, NULL);
  g_clear_object (&layer);
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
  if (! colorize_layer_check (&host, image, drawables[0], &error))
    return gimp_procedure_new_return_values (procedure,
                                             GIMP_PDB_EXECUTION_ERROR,
                                             error);

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    forget_stale_hints (image, drawables[0], config);
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

/* ---- the folder procedure: the host's file calls ---------------------- */

static gpointer
h_file_load (const gchar *path)
{
  GFile     *file  = g_file_new_for_path (path);
  GimpImage *image = gimp_file_load (GIMP_RUN_NONINTERACTIVE, file);

  g_object_unref (file);
  return image;
}

static void     h_image_delete (gpointer image) { gimp_image_delete (image); }
static gboolean h_has_alpha (gpointer d)        { return gimp_drawable_has_alpha (GIMP_DRAWABLE (d)); }
static gboolean h_flatten (gpointer layer)      { return gimp_layer_flatten (layer); }

static void
h_image_size (gpointer image, gint *w, gint *h)
{
  *w = gimp_image_get_width (image);
  *h = gimp_image_get_height (image);
}

static gpointer
h_merge_visible (gpointer image)
{
  return gimp_image_merge_visible_layers (image, GIMP_CLIP_TO_IMAGE);
}

/* Whether any layer of the image has an alpha channel: an output keeps
 * the input's kind, and merging visible layers adds one. */
static gboolean
h_image_has_alpha (gpointer image)
{
  GimpLayer **layers = gimp_image_get_layers (image);
  gboolean    alpha  = FALSE;
  gint        i;

  for (i = 0; layers && layers[i] && ! alpha; i++)
    alpha = gimp_drawable_has_alpha (GIMP_DRAWABLE (layers[i]));
  g_free (layers);
  return alpha;
}

/* The quality of the JPEG the image was loaded from (its "jpeg-settings"
 * parasite), else COLORIZE_DIR_JPEG_QUALITY_DEFAULT. */
static gint
h_jpeg_quality (gpointer image)
{
  GimpParasite *parasite = gimp_image_get_parasite (image, "jpeg-settings");
  guint32       size = 0;
  gconstpointer data;
  gint          q = -1;

  if (parasite)
    {
      data = gimp_parasite_get_data (parasite, &size);
      q    = colorize_dir_jpeg_quality (data, size);
      gimp_parasite_free (parasite);
    }
  return q > 0 ? q : COLORIZE_DIR_JPEG_QUALITY_DEFAULT;
}

/* The export procedures called with options of their own (gimp_file_save
 * passes none: GIMP 3.0 then writes no colour profile and JPEG quality
 * 0.9); other formats go through gimp_file_save. */
static const gchar *
export_procedure (const gchar *path)
{
  static const gchar * const table[][2] = {
    { "png", "file-png-export" },   { "jpg", "file-jpeg-export" },
    { "jpeg", "file-jpeg-export" }, { "jpe", "file-jpeg-export" },
    { "tif", "file-tiff-export" },  { "tiff", "file-tiff-export" },
    { "webp", "file-webp-export" },
  };
  const gchar *dot = strrchr (path, '.');
  gsize        i;

  for (i = 0; dot && i < G_N_ELEMENTS (table); i++)
    if (! g_ascii_strcasecmp (dot + 1, table[i][0]))
      return table[i][1];
  return NULL;
}

/* Saves through the format's export procedure: the image's own colour
 * profile included when it has one, a JPEG at jpeg_quality. */
static gboolean
export_with_options (GimpImage *image, GFile *file, const gchar *proc_name,
                     gint jpeg_quality)
{
  GimpProcedure       *proc;
  GimpProcedureConfig *config;
  GimpValueArray      *ret;
  GimpColorProfile    *profile = gimp_image_get_color_profile (image);
  gboolean             ok;

  proc = gimp_pdb_lookup_procedure (gimp_get_pdb (), proc_name);
  if (! proc)
    return gimp_file_save (GIMP_RUN_NONINTERACTIVE, image, file, NULL);
  config = gimp_procedure_create_config (proc);
  g_object_set (config, "run-mode", GIMP_RUN_NONINTERACTIVE,
                "image", image, "file", file, NULL);
  if (profile && g_object_class_find_property (G_OBJECT_GET_CLASS (config),
                                               "include-color-profile"))
    g_object_set (config, "include-color-profile", TRUE, NULL);
  if (colorize_dir_is_jpeg (g_file_peek_path (file)))
    g_object_set (config, "quality", jpeg_quality / 100.0, NULL);
  ret = gimp_procedure_run_config (proc, config);
  ok  = GIMP_VALUES_GET_ENUM (ret, 0) == GIMP_PDB_SUCCESS;
  gimp_value_array_unref (ret);
  g_object_unref (config);
  g_clear_object (&profile);
  return ok;
}

static gboolean
h_convert_indexed (gpointer image)
{
  return gimp_image_convert_indexed (image, GIMP_CONVERT_DITHER_FS,
                                     GIMP_CONVERT_PALETTE_GENERATE,
                                     COLORIZE_DIR_INDEXED_COLOURS, FALSE,
                                     FALSE, "");
}

/* Through the format's export procedure where it has options we set
 * (colour profile, JPEG quality), else gimp_file_save. */
static gboolean
h_save (gpointer image, gpointer layer, const gchar *path, gint quality)
{
  const gchar *proc_name = export_procedure (path);
  GFile       *file      = g_file_new_for_path (path);
  gboolean     saved;

  (void) layer;
  saved = proc_name
          ? export_with_options (image, file, proc_name, quality)
          : gimp_file_save (GIMP_RUN_NONINTERACTIVE, image, file, NULL);
  g_object_unref (file);
  return saved;
}

static const ColorizeHost host = {
  h_in_image, h_is_layer, h_is_group, h_name, h_offsets, h_width, h_height,
  h_buffer, h_mask_intersect, h_selection_empty, h_progress_init,
  progress_cb, h_progress_end, h_undo_group, h_is_rgb, h_convert_rgb,
  h_new_layer_above, h_add_selection_mask, h_update, h_remove_layer,
  pdb_error, h_file_load, h_image_delete, h_image_size, h_merge_visible,
  h_image_has_alpha, h_jpeg_quality, h_has_alpha, h_flatten,
  h_convert_indexed, h_save
};

/* plug-in-colorize-dir and (run_data non-NULL) plug-in-colorize-dir-hints. */
static GimpValueArray *
colorize_dir_run (GimpProcedure       *procedure,
                  GimpProcedureConfig *config,
                  gpointer             run_data)
{
  gchar    *model_arg = NULL, *in_dir = NULL, *out_dir = NULL;
  gchar    *hints_dir = NULL;
  gdouble   vividness = COLORIZE_VIVIDNESS_DEFAULT;
  GError   *error = NULL;
  gboolean  ok;

  g_object_get (config, "model", &model_arg, "input-dir", &in_dir,
                "output-dir", &out_dir, "vividness", &vividness, NULL);
  if (run_data)
    g_object_get (config, "hints-dir", &hints_dir, NULL);
  ok = colorize_folder_run (&host, gimp_get_progname (), model_arg, in_dir,
                            out_dir, vividness,
                            run_data ? (hints_dir ? hints_dir : "") : NULL,
                            &error);
  g_free (hints_dir);
  g_free (model_arg);
  g_free (in_dir);
  g_free (out_dir);
  return gimp_procedure_new_return_values (procedure,
                                           ok ? GIMP_PDB_SUCCESS
                                              : GIMP_PDB_EXECUTION_ERROR,
                                           error);
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
                                          0.0, COLORIZE_MAX_STRENGTH, 1.0,
                                          G_PARAM_READWRITE);
      gimp_procedure_add_file_argument (procedure, "weights-file",
                                        "Weights _file",
                                        "A .weights file (none = the "
                                        "bundled one)",
                                        GIMP_FILE_CHOOSER_ACTION_OPEN,
                                        TRUE, NULL, G_PARAM_READWRITE);
      add_vividness_argument (procedure);
      gimp_procedure_add_layer_argument (procedure, "hints",
                                         "Colour _hints",
                                         "A layer of the image (not the "
                                         "input layer) with strokes of "
                                         "colour where the result must "
                                         "have it; only its pixels with "
                                         "alpha > 0 over the input layer "
                                         "count (none = no hints)",
                                         TRUE, G_PARAM_READWRITE);
      gimp_procedure_add_boolean_argument (procedure, "hints-only",
                                           "Hints only (_no network)",
                                           "No network: the colour comes "
                                           "from the hints alone (on "
                                           "grey); needs hints",
                                           FALSE, G_PARAM_READWRITE);
      return procedure;
    }

  if (! strcmp (name, PROC_DIR) || ! strcmp (name, PROC_DIR_HINTS))
    {
      gboolean hints = ! strcmp (name, PROC_DIR_HINTS);

      procedure = gimp_procedure_new (plug_in, name,
                                      GIMP_PDB_PROC_TYPE_PLUGIN,
                                      colorize_dir_run,
                                      GINT_TO_POINTER (hints), NULL);
      if (! hints)
        gimp_procedure_set_documentation (
          procedure, "Colorize every image of a folder",
          "Loads every file of the input folder (not recursive), colorizes "
          "it and saves it under the same name and format in the output "
          "folder (GIF results are converted back to indexed colour: 256 "
          "colours, dithered).  Files that fail are named and skipped; "
          "the procedure then returns an error.  The input folder is "
          "never written to.",
          name);
      else
        gimp_procedure_set_documentation (
          procedure, "Colorize every image of a folder, with colour hints",
          "As plug-in-colorize-dir, with a folder of colour hints: for the "
          "photo NAME.EXT the PNG NAME.png there, of the photo's size, "
          "whose pixels with alpha > 0 give the colour the result must "
          "have there.  A hints file of another size fails that photo.  "
          "The model \"" COLORIZE_MODEL_HINTS_ONLY "\" runs no network "
          "(every photo then needs a hints file).",
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
      if (hints)
        gimp_procedure_add_string_argument (procedure, "hints-dir",
                                            "Hints folder",
                                            "Folder of colour hints: "
                                            "NAME.png (the photo's size, "
                                            "transparent but for the "
                                            "strokes) for the photo "
                                            "NAME.EXT; photos without one "
                                            "are colorized without hints",
                                            NULL, G_PARAM_READWRITE);
      return procedure;
    }
  return NULL;
}
