/* colorize-gimp2.c - the GIMP 2.10 host of the colorize plug-in (libgimp
 * 2.0 API): registration, arguments, dialog, undo, the new layer and its
 * mask, progress, and the folder procedure.  Pixels are handled by
 * colorize-core.c, shared with the GIMP 3.0 host.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "colorize-core.h"
#include "colorize-dir.h"
#include "colorize-host.h"
#include "colorize-preview.h"

#define PLUG_IN_BINARY   "colorize"
#define PLUG_IN_ROLE     "gimp-colorize"
#define PROC_CNN         "plug-in-colorize-cnn"
#define PROC_RESNET18    "plug-in-colorize-resnet18"
#define PROC_DIR         "plug-in-colorize-dir"
#define PROC_DIR_HINTS   "plug-in-colorize-dir-hints"
#define MENU_PATH        "<Image>/Filters/Colorize"
#define WEIGHTS_PATH_MAX 4096
#define VIVIDNESS_HELP   "Colour-class models only: 0 = dull (temperature 1.0) .. 1 = vivid (temperature 0.2), -1 = the model's default"
#define MODEL_HELP       "\"cnn\", \"resnet18\" or the path of a .weights file"
/* Parameters of the filters: 6 before the vividness, 7 before the hints,
 * 9 now (C callers may still pass 6, 7 or 8). */
#define IMAGE_ARGS_MIN   6

/* Last-used values, per procedure (gimp_set_data).  New fields go at the
 * end: gimp_get_data copies what an older version stored, and the rest
 * keeps its default. */
typedef struct
{
  gint32  working_size;
  gdouble strength;
  gchar   weights[WEIGHTS_PATH_MAX];
  gdouble vividness; /* COLORIZE_VIVIDNESS_DEFAULT until the user moves it */
  gint32  hints;     /* the colour hints layer, -1 = none */
  gint32  hints_only;
} ColorizeVals;

static const ColorizeVals default_vals = { 0, 1.0, "",
                                           COLORIZE_VIVIDNESS_DEFAULT, -1,
                                           FALSE };

/* Runs before main.  gegl_init loads all of GEGL's operation modules,
 * which costs about a second at every start of the plug-in process; this
 * process converts pixels through babl and reads and writes buffers, and
 * uses no GEGL operation: skip them. */
__attribute__ ((constructor)) static void
colorize_fast_start (void)
{
  g_setenv ("GEGL_PATH", "/nonexistent/colorize-needs-no-gegl-ops", TRUE);
}

static void query (void);
static void run   (const gchar      *name,
                   gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN ()

static void
query (void)
{
  static const GimpParamDef image_args[] =
  {
    { GIMP_PDB_INT32,    "run-mode",     "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" },
    { GIMP_PDB_IMAGE,    "image",        "Input image" },
    { GIMP_PDB_DRAWABLE, "drawable",     "Input layer" },
    { GIMP_PDB_INT32,    "working-size", "Longer side, in pixels, of the picture the network sees (0 = the model's default, else 64..2048)" },
    { GIMP_PDB_FLOAT,    "strength",     "Chroma multiplier (1.0 = as predicted, 0..10)" },
    { GIMP_PDB_STRING,   "weights-file", "A .weights file (empty = the bundled one)" },
    { GIMP_PDB_FLOAT,    "vividness",    VIVIDNESS_HELP },
    { GIMP_PDB_DRAWABLE, "hints",        "Colour hints: a layer of the image (not the input layer) with strokes of colour where the result must have it; only its pixels with alpha > 0 over the input layer count (-1 = none)" },
    { GIMP_PDB_INT32,    "hints-only",   "TRUE: no network, the colour comes from the hints alone (on grey); needs hints" }
  };
  static const GimpParamDef dir_args[] =
  {
    { GIMP_PDB_INT32,  "run-mode",   "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_STRING, "model",      MODEL_HELP },
    { GIMP_PDB_STRING, "input-dir",  "Folder of images to colorize (not recursive, never written to)" },
    { GIMP_PDB_STRING, "output-dir", "Folder for the results (created if missing)" },
    { GIMP_PDB_FLOAT,  "vividness",  VIVIDNESS_HELP }
  };
  static const GimpParamDef dir_hints_args[] =
  {
    { GIMP_PDB_INT32,  "run-mode",   "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }" },
    { GIMP_PDB_STRING, "model",      MODEL_HELP " or \"" COLORIZE_MODEL_HINTS_ONLY "\" (no network)" },
    { GIMP_PDB_STRING, "input-dir",  "Folder of images to colorize (not recursive, never written to)" },
    { GIMP_PDB_STRING, "output-dir", "Folder for the results (created if missing)" },
    { GIMP_PDB_FLOAT,  "vividness",  VIVIDNESS_HELP },
    { GIMP_PDB_STRING, "hints-dir",  "Folder of colour hints: NAME.png (the photo's size, transparent but for the strokes) for the photo NAME.EXT; photos without one are colorized without hints" }
  };
  const gchar *help =
    "Predicts the colours of a black-and-white layer with a neural network "
    "and puts them in a new layer above it; the layer itself is not "
    "changed.  A selection becomes the new layer's mask.";

  gimp_install_procedure (PROC_CNN,
                          "Colorize a black-and-white layer with the CNN",
                          help, "colorize authors", "colorize authors",
                          "2025", "Colorize with _CNN...",
                          "RGB*, GRAY*, INDEXED*", GIMP_PLUGIN,
                          G_N_ELEMENTS (image_args), 0, image_args, NULL);
  gimp_plugin_menu_register (PROC_CNN, MENU_PATH);

  gimp_install_procedure (PROC_RESNET18,
                          "Colorize a black-and-white layer with ResNet18",
                          help, "colorize authors", "colorize authors",
                          "2025", "Colorize with _ResNet18...",
                          "RGB*, GRAY*, INDEXED*", GIMP_PLUGIN,
                          G_N_ELEMENTS (image_args), 0, image_args, NULL);
  gimp_plugin_menu_register (PROC_RESNET18, MENU_PATH);

  gimp_install_procedure (PROC_DIR,
                          "Colorize every image of a folder",
                          "Loads every file of the input folder (not "
                          "recursive), colorizes it and saves it under the "
                          "same name and format in the output folder "
                          "(GIF results are converted back to indexed "
                          "colour: 256 colours, dithered).  "
                          "Files that fail are named and skipped; the "
                          "procedure then returns an error.  The input "
                          "folder is never written to.",
                          "colorize authors", "colorize authors", "2025",
                          NULL, NULL, GIMP_PLUGIN,
                          G_N_ELEMENTS (dir_args), 0, dir_args, NULL);

  gimp_install_procedure (PROC_DIR_HINTS,
                          "Colorize every image of a folder, with colour "
                          "hints",
                          "As plug-in-colorize-dir, with a folder of colour "
                          "hints: for the photo NAME.EXT the PNG NAME.png "
                          "there, of the photo's size, whose pixels with "
                          "alpha > 0 give the colour the result must have "
                          "there.  A hints file of another size fails that "
                          "photo.  The model \"" COLORIZE_MODEL_HINTS_ONLY
                          "\" runs no network (every photo then needs a "
                          "hints file).",
                          "colorize authors", "colorize authors", "2025",
                          NULL, NULL, GIMP_PLUGIN,
                          G_N_ELEMENTS (dir_hints_args), 0, dir_hints_args,
                          NULL);
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

/* ---- one layer: the host of colorize-host.c --------------------------- */

/* Items travel as GINT_TO_POINTER (ID); -1 (none) as NULL. */
#define ID(p)     GPOINTER_TO_INT (p)
#define ITEM(id)  ((id) == -1 ? NULL : GINT_TO_POINTER (id))

static gboolean
h_in_image (gpointer image, gpointer item)
{
  return gimp_item_is_valid (ID (item)) &&
         gimp_item_get_image (ID (item)) == ID (image);
}

static gboolean h_is_layer (gpointer item) { return gimp_item_is_layer (ID (item)); }
static gboolean h_is_group (gpointer item) { return gimp_item_is_group (ID (item)); }
static gchar   *h_name (gpointer item)     { return gimp_item_get_name (ID (item)); }
static gint     h_width (gpointer d)       { return gimp_drawable_width (ID (d)); }
static gint     h_height (gpointer d)      { return gimp_drawable_height (ID (d)); }
static void     h_progress_end (void)      { gimp_progress_end (); }
static gboolean h_is_rgb (gpointer image)  { return gimp_image_base_type (ID (image)) == GIMP_RGB; }
static gboolean h_convert_rgb (gpointer i) { return gimp_image_convert_rgb (ID (i)); }
static const gchar *h_pdb_error (void)     { return gimp_get_pdb_error (); }

static void
h_offsets (gpointer drawable, gint *x, gint *y)
{
  gimp_drawable_offsets (ID (drawable), x, y);
}

static GeglBuffer *
h_buffer (gpointer drawable)
{
  return gimp_drawable_get_buffer (ID (drawable));
}

static gboolean
h_mask_intersect (gpointer drawable)
{
  gint x, y, w, h;

  return gimp_drawable_mask_intersect (ID (drawable), &x, &y, &w, &h);
}

static gboolean
h_selection_empty (gpointer image)
{
  return gimp_selection_is_empty (ID (image));
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
    gimp_image_undo_group_start (ID (image));
  else
    gimp_image_undo_group_end (ID (image));
}

static gpointer
h_new_layer_above (gpointer image, gpointer drawable, const gchar *name,
                   gint w, gint h)
{
  gint   off_x, off_y;
  gint32 layer = gimp_layer_new (ID (image), name, w, h, GIMP_RGBA_IMAGE,
                                 100.0, GIMP_LAYER_MODE_NORMAL);

  if (layer < 0 ||
      ! gimp_image_insert_layer (ID (image), layer,
                                 gimp_item_get_parent (ID (drawable)),
                                 gimp_image_get_item_position (ID (image),
                                                               ID (drawable))))
    return NULL;
  gimp_drawable_offsets (ID (drawable), &off_x, &off_y);
  gimp_layer_set_offsets (layer, off_x, off_y);
  return GINT_TO_POINTER (layer);
}

static gboolean
h_add_selection_mask (gpointer layer)
{
  gint32 mask = gimp_layer_create_mask (ID (layer), GIMP_ADD_MASK_SELECTION);

  return mask >= 0 && gimp_layer_add_mask (ID (layer), mask);
}

static void
h_update (gpointer layer, gint w, gint h)
{
  gimp_drawable_update (ID (layer), 0, 0, w, h);
}

static void
h_remove_layer (gpointer image, gpointer layer)
{
  gimp_image_remove_layer (ID (image), ID (layer));
}

static const ColorizeHost host;  /* the table, after the folder calls */

/* Colorizes `drawable` of `image` into a new layer above it. */
static gboolean
colorize_layer (gint32 image, gint32 drawable, nn_arch arch,
                const ColorizeVals *vals, GError **error)
{
  ColorizeRun run = { arch, (gchar *) vals->weights, gimp_get_progname (),
                      vals->working_size, vals->strength, vals->vividness,
                      ITEM (vals->hints), vals->hints_only };

  return colorize_layer_run (&host, ITEM (image), ITEM (drawable), &run,
                             error);
}

/* ---- dialog ------------------------------------------------------------ */

typedef struct
{
  ColorizeVals    *vals;
  nn_arch          arch;
  gint32           drawable;
  ColorizePreview *preview;
  GtkObject       *size_adj;
  GtkObject       *strength_adj;
  GtkObject       *vividness_adj;
  gboolean         syncing;      /* the dialog itself sets vividness_adj */
  GtkWidget       *chooser;
} DialogState;

static void
dialog_values_changed (DialogState *st)
{
  st->vals->working_size = RINT (gtk_adjustment_get_value (
                                   GTK_ADJUSTMENT (st->size_adj)));
  st->vals->strength = gtk_adjustment_get_value (
                         GTK_ADJUSTMENT (st->strength_adj));
  colorize_preview_update (st->preview, st->vals->working_size,
                           st->vals->strength, st->vals->vividness);
}

static void
dialog_adjustment_changed (GtkAdjustment *adj, DialogState *st)
{
  (void) adj;
  dialog_values_changed (st);
}

/* The user moved the Vividness slider: from now on its value counts (until
 * then the vividness stays "the model's default", which follows the
 * weights file). */
static void
dialog_vividness_changed (GtkAdjustment *adj, DialogState *st)
{
  if (! st->syncing)
    st->vals->vividness = gtk_adjustment_get_value (adj);
  dialog_values_changed (st);
}

static void
dialog_vividness_tooltip (GtkObject *adj, const gchar *tip)
{
  gimp_help_set_help_data (GIMP_SCALE_ENTRY_LABEL (adj), tip, NULL);
  gimp_help_set_help_data (GIMP_SCALE_ENTRY_SCALE (adj), tip, NULL);
  gimp_help_set_help_data (GIMP_SCALE_ENTRY_SPINBUTTON (adj), tip, NULL);
}

/* After the preview loaded a weights file: the slider is greyed for a
 * model without colour classes, and shows the model's default while the
 * vividness is the default. */
static void
dialog_sync_vividness (DialogState *st)
{
  const nn_model *model = colorize_preview_get_model (st->preview);
  gboolean        has   = ! model || colorize_model_has_vividness (model);

  gimp_scale_entry_set_sensitive (st->vividness_adj, has);
  dialog_vividness_tooltip (st->vividness_adj,
                            has ? COLORIZE_VIVIDNESS_TOOLTIP
                                : COLORIZE_VIVIDNESS_NO_CLASSES_TOOLTIP);
  if (model && st->vals->vividness < 0.0)
    {
      st->syncing = TRUE;
      gtk_adjustment_set_value (GTK_ADJUSTMENT (st->vividness_adj),
                                colorize_model_default_vividness (model));
      st->syncing = FALSE;
    }
}

static void
dialog_load_weights (DialogState *st)
{
  gchar *path = st->vals->weights[0] ? g_strdup (st->vals->weights)
                : colorize_weights_path (gimp_get_progname (),
                                         nn_arch_name (st->arch));

  colorize_preview_set_weights (st->preview, path, st->arch);
  g_free (path);
  dialog_sync_vividness (st);
}

static void
dialog_file_set (GtkFileChooserButton *button, DialogState *st)
{
  gchar *file = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (button));

  g_strlcpy (st->vals->weights, file ? file : "", WEIGHTS_PATH_MAX);
  g_free (file);
  dialog_load_weights (st);
}

static void
dialog_use_bundled (GtkButton *button, DialogState *st)
{
  (void) button;
  st->vals->weights[0] = '\0';
  gtk_file_chooser_unselect_all (GTK_FILE_CHOOSER (st->chooser));
  dialog_load_weights (st);
}

/* The hints combo lists the layers of the image but the one colorized
 * and groups. */
static gboolean
dialog_hints_constraint (gint32 image, gint32 item, gpointer data)
{
  gint32 drawable = GPOINTER_TO_INT (data);

  return image == gimp_item_get_image (drawable) && item != drawable &&
         ! gimp_item_is_group (item);
}

static void
dialog_hints_changed (GtkWidget *combo, DialogState *st)
{
  ColorizeHints hints;
  GError       *error = NULL;
  gint          id    = -1;

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id);
  st->vals->hints = id;
  if (! colorize_layer_read_hints (&host, ITEM (st->drawable), ITEM (id),
                                  &hints, &error))
    {
      g_message ("%s", error->message);
      g_error_free (error);
    }
  colorize_preview_set_hints (st->preview, &hints);
}

static void
dialog_hints_only_toggled (GtkToggleButton *toggle, DialogState *st)
{
  st->vals->hints_only = gtk_toggle_button_get_active (toggle);
  colorize_preview_set_hints_only (st->preview, st->vals->hints_only);
}

/* The "Colour hints" layer (none by default) and "Hints only". */
static void
dialog_add_hints (GtkWidget *vbox, DialogState *st)
{
  GtkWidget *hbox, *label, *combo, *toggle;

  hbox  = gtk_hbox_new (FALSE, 6);
  gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
  label = gtk_label_new_with_mnemonic ("Colour _hints:");
  gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
  combo = gimp_layer_combo_box_new (dialog_hints_constraint,
                                    GINT_TO_POINTER (st->drawable));
  gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                              GIMP_INT_STORE_VALUE, -1,
                              GIMP_INT_STORE_LABEL, "None", -1);
  gimp_help_set_help_data (combo, COLORIZE_HINTS_TOOLTIP, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), combo);
  gtk_box_pack_start (GTK_BOX (hbox), combo, TRUE, TRUE, 0);
  if (! gimp_item_is_valid (st->vals->hints) ||
      ! dialog_hints_constraint (gimp_item_get_image (st->vals->hints),
                                 st->vals->hints,
                                 GINT_TO_POINTER (st->drawable)))
    st->vals->hints = -1;
  /* Not gimp_int_combo_box_connect: its first call of the callback does
   * not come when the combo already shows that layer. */
  if (! gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo),
                                       st->vals->hints))
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), -1);
  g_signal_connect (combo, "changed", G_CALLBACK (dialog_hints_changed), st);
  dialog_hints_changed (combo, st);

  toggle = gtk_check_button_new_with_mnemonic ("Hints only (_no network)");
  gimp_help_set_help_data (toggle, COLORIZE_HINTS_ONLY_TOOLTIP, NULL);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (toggle),
                                st->vals->hints_only);
  colorize_preview_set_hints_only (st->preview, st->vals->hints_only);
  gtk_box_pack_start (GTK_BOX (vbox), toggle, FALSE, FALSE, 0);
  g_signal_connect (toggle, "toggled",
                    G_CALLBACK (dialog_hints_only_toggled), st);
}

static gboolean
colorize_dialog (gint32 drawable, nn_arch arch, const gchar *proc,
                 ColorizeVals *vals)
{
  DialogState    st = { vals, arch, drawable, NULL, NULL, NULL, NULL, FALSE,
                        NULL };
  GtkWidget     *dialog, *vbox, *frame, *area, *status, *table, *hbox;
  GtkWidget     *button, *label;
  GtkFileFilter *filter;
  GeglBuffer    *buffer;
  gchar         *title;
  gboolean       run;

  gimp_ui_init (PLUG_IN_BINARY, FALSE);

  title = g_strdup_printf ("Colorize with %s", colorize_arch_label (arch));
  dialog = gimp_dialog_new (title, PLUG_IN_ROLE, NULL, 0,
                            gimp_standard_help_func, proc,
                            "_Cancel", GTK_RESPONSE_CANCEL,
                            "_OK",     GTK_RESPONSE_OK,
                            NULL);
  g_free (title);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog),
                                            GTK_RESPONSE_OK,
                                            GTK_RESPONSE_CANCEL, -1);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  vbox = gtk_vbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      vbox, TRUE, TRUE, 0);

  frame = gtk_frame_new (NULL);
  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  gtk_box_pack_start (GTK_BOX (vbox), frame, TRUE, TRUE, 0);
  area = gimp_preview_area_new ();
  gtk_container_add (GTK_CONTAINER (frame), area);

  status = gtk_label_new ("");
  gtk_misc_set_alignment (GTK_MISC (status), 0.0, 0.5);
  gtk_label_set_line_wrap (GTK_LABEL (status), TRUE);
  gtk_widget_set_size_request (status, COLORIZE_PREVIEW_SIZE, -1);
  gtk_box_pack_start (GTK_BOX (vbox), status, FALSE, FALSE, 0);

  buffer = gimp_drawable_get_buffer (drawable);
  st.preview = colorize_preview_new (buffer, area, status);
  g_object_unref (buffer);

  table = gtk_table_new (3, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_box_pack_start (GTK_BOX (vbox), table, FALSE, FALSE, 0);

  st.size_adj = gimp_scale_entry_new (GTK_TABLE (table), 0, 0,
                                      "_Working size:", 200, 6,
                                      vals->working_size, 0,
                                      COLORIZE_MAX_WORKING_SIZE, 8, 64, 0,
                                      TRUE, 0, 0,
                                      "Longer side of the picture the "
                                      "network sees, in pixels (0 = the "
                                      "model's default, else 64 or more). "
                                      "Lower often gives more vivid "
                                      "colour.", NULL);
  st.strength_adj = gimp_scale_entry_new (GTK_TABLE (table), 0, 1,
                                          "_Strength:", 200, 6,
                                          vals->strength, 0.0, 2.0, 0.05,
                                          0.25, 2, FALSE, 0.0, 10.0,
                                          "Multiplies the predicted chroma "
                                          "(1.0 = as predicted).", NULL);
  /* Until the weights are loaded, the slider shows the usual default. */
  st.vividness_adj = gimp_scale_entry_new (
                       GTK_TABLE (table), 0, 2, "_Vividness:", 200, 6,
                       vals->vividness >= 0.0 ? vals->vividness
                       : colorize_temperature_to_vividness (
                           NN_HEAD_DEFAULT_TEMPERATURE),
                       0.0, 1.0, 0.01, 0.1, 2, TRUE, 0.0, 0.0,
                       COLORIZE_VIVIDNESS_TOOLTIP, NULL);
  g_signal_connect (st.size_adj, "value-changed",
                    G_CALLBACK (dialog_adjustment_changed), &st);
  g_signal_connect (st.strength_adj, "value-changed",
                    G_CALLBACK (dialog_adjustment_changed), &st);
  g_signal_connect (st.vividness_adj, "value-changed",
                    G_CALLBACK (dialog_vividness_changed), &st);

  hbox = gtk_hbox_new (FALSE, 6);
  gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
  label = gtk_label_new_with_mnemonic ("Weights _file:");
  gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
  st.chooser = gtk_file_chooser_button_new ("Choose a weights file",
                                            GTK_FILE_CHOOSER_ACTION_OPEN);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), st.chooser);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, "Colorize weights (*.weights)");
  gtk_file_filter_add_pattern (filter, "*.weights");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (st.chooser), filter);
  if (vals->weights[0])
    gtk_file_chooser_set_filename (GTK_FILE_CHOOSER (st.chooser),
                                   vals->weights);
  gtk_box_pack_start (GTK_BOX (hbox), st.chooser, TRUE, TRUE, 0);
  g_signal_connect (st.chooser, "file-set",
                    G_CALLBACK (dialog_file_set), &st);
  button = gtk_button_new_with_mnemonic ("Use _bundled");
  gimp_help_set_help_data (button, "Use the weights installed with the "
                           "plug-in", NULL);
  gtk_box_pack_start (GTK_BOX (hbox), button, FALSE, FALSE, 0);
  g_signal_connect (button, "clicked", G_CALLBACK (dialog_use_bundled), &st);

  dialog_add_hints (vbox, &st);
  gtk_widget_show_all (dialog);

  dialog_load_weights (&st);
  colorize_preview_update (st.preview, vals->working_size, vals->strength,
                           vals->vividness);

  run = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;

  colorize_preview_free (st.preview);
  gtk_widget_destroy (dialog);
  return run;
}

/* ---- the folder procedure: the host's file calls ---------------------- */

static gpointer
h_file_load (const gchar *path)
{
  return ITEM (gimp_file_load (GIMP_RUN_NONINTERACTIVE, path, path));
}

static void     h_image_delete (gpointer image) { gimp_image_delete (ID (image)); }
static gboolean h_has_alpha (gpointer d)        { return gimp_drawable_has_alpha (ID (d)); }
static gboolean h_flatten (gpointer layer)      { return gimp_layer_flatten (ID (layer)); }

static void
h_image_size (gpointer image, gint *w, gint *h)
{
  *w = gimp_image_width (ID (image));
  *h = gimp_image_height (ID (image));
}

static gpointer
h_merge_visible (gpointer image)
{
  return ITEM (gimp_image_merge_visible_layers (ID (image),
                                                GIMP_CLIP_TO_IMAGE));
}

/* Whether any layer of the image has an alpha channel: an output keeps
 * the input's kind, and merging visible layers adds one. */
static gboolean
h_image_has_alpha (gpointer image)
{
  gint    n, i;
  gint32 *layers = gimp_image_get_layers (ID (image), &n);
  gboolean alpha = FALSE;

  for (i = 0; i < n && ! alpha; i++)
    alpha = gimp_drawable_has_alpha (layers[i]);
  g_free (layers);
  return alpha;
}

/* The quality of the JPEG the image was loaded from (its "jpeg-settings"
 * parasite), else COLORIZE_DIR_JPEG_QUALITY_DEFAULT. */
static gint
h_jpeg_quality (gpointer image)
{
  GimpParasite *parasite = gimp_image_get_parasite (ID (image), "jpeg-settings");
  gint          q = -1;

  if (parasite)
    {
      q = colorize_dir_jpeg_quality (gimp_parasite_data (parasite),
                                     gimp_parasite_data_size (parasite));
      gimp_parasite_free (parasite);
    }
  return q > 0 ? q : COLORIZE_DIR_JPEG_QUALITY_DEFAULT;
}

/* Saves a JPEG with the given quality through file-jpeg-save (GIMP's
 * gimp_file_save passes its default quality, 0.9); the other settings
 * are what gimp_file_save gives: optimized tables, 4:4:4, baseline. */
static gboolean
save_jpeg (gint32 image, gint32 layer, const gchar *path, gint quality)
{
  GimpParam *ret;
  gint       n_ret;
  gboolean   ok;

  ret = gimp_run_procedure ("file-jpeg-save", &n_ret,
                            GIMP_PDB_INT32, GIMP_RUN_NONINTERACTIVE,
                            GIMP_PDB_IMAGE, image, GIMP_PDB_DRAWABLE, layer,
                            GIMP_PDB_STRING, path, GIMP_PDB_STRING, path,
                            GIMP_PDB_FLOAT, quality / 100.0,
                            GIMP_PDB_FLOAT, 0.0,       /* smoothing */
                            GIMP_PDB_INT32, 1,         /* optimize */
                            GIMP_PDB_INT32, 0,         /* progressive */
                            GIMP_PDB_STRING, "",       /* comment */
                            GIMP_PDB_INT32, 2,         /* 4:4:4 */
                            GIMP_PDB_INT32, 1,         /* baseline */
                            GIMP_PDB_INT32, 0,         /* restart */
                            GIMP_PDB_INT32, 0,         /* integer DCT */
                            GIMP_PDB_END);
  ok = n_ret > 0 && ret[0].data.d_status == GIMP_PDB_SUCCESS;
  gimp_destroy_params (ret, n_ret);
  return ok;
}

static gboolean
h_convert_indexed (gpointer image)
{
  return gimp_image_convert_indexed (ID (image), GIMP_CONVERT_DITHER_FS,
                                     GIMP_CONVERT_PALETTE_GENERATE,
                                     COLORIZE_DIR_INDEXED_COLOURS, FALSE,
                                     FALSE, "");
}

/* JPEG through save_jpeg (the input's quality), the rest through
 * gimp_file_save. */
static gboolean
h_save (gpointer image, gpointer layer, const gchar *path, gint quality)
{
  return colorize_dir_is_jpeg (path)
         ? save_jpeg (ID (image), ID (layer), path, quality)
         : gimp_file_save (GIMP_RUN_NONINTERACTIVE, ID (image), ID (layer),
                           path, path);
}

static const ColorizeHost host = {
  h_in_image, h_is_layer, h_is_group, h_name, h_offsets, h_width, h_height,
  h_buffer, h_mask_intersect, h_selection_empty, h_progress_init,
  progress_cb, h_progress_end, h_undo_group, h_is_rgb, h_convert_rgb,
  h_new_layer_above, h_add_selection_mask, h_update, h_remove_layer,
  h_pdb_error, h_file_load, h_image_delete, h_image_size, h_merge_visible,
  h_image_has_alpha, h_jpeg_quality, h_has_alpha, h_flatten,
  h_convert_indexed, h_save
};

/* ---- run --------------------------------------------------------------- */

static void
run (const gchar      *name,
     gint              nparams,
     const GimpParam  *param,
     gint             *nreturn_vals,
     GimpParam       **return_vals)
{
  static GimpParam  values[2];
  static gchar     *message = NULL;
  GimpRunMode       run_mode;
  GimpPDBStatusType status = GIMP_PDB_SUCCESS;
  GError           *error  = NULL;

  *nreturn_vals = 1;
  *return_vals  = values;
  values[0].type = GIMP_PDB_STATUS;

  gegl_init (NULL, NULL);

  run_mode = nparams > 0 ? (GimpRunMode) param[0].data.d_int32
                         : GIMP_RUN_NONINTERACTIVE;

  if (! strcmp (name, PROC_DIR))
    {
      /* 4 parameters: a caller from before the vividness. */
      if (nparams != 4 && nparams != 5)
        status = GIMP_PDB_CALLING_ERROR;
      else if (! colorize_folder_run (&host, gimp_get_progname (),
                                      param[1].data.d_string,
                                      param[2].data.d_string,
                                      param[3].data.d_string,
                                      nparams > 4 ? param[4].data.d_float
                                      : COLORIZE_VIVIDNESS_DEFAULT, NULL,
                                      &error))
        status = GIMP_PDB_EXECUTION_ERROR;
    }
  else if (! strcmp (name, PROC_DIR_HINTS))
    {
      if (nparams != 6)
        status = GIMP_PDB_CALLING_ERROR;
      else if (! colorize_folder_run (&host, gimp_get_progname (),
                                      param[1].data.d_string,
                                      param[2].data.d_string,
                                      param[3].data.d_string,
                                      param[4].data.d_float,
                                      param[5].data.d_string
                                      ? param[5].data.d_string : "",
                                      &error))
        status = GIMP_PDB_EXECUTION_ERROR;
    }
  else if (! strcmp (name, PROC_CNN) || ! strcmp (name, PROC_RESNET18))
    {
      nn_arch      arch = strcmp (name, PROC_CNN) ? NN_ARCH_RESNET18
                                                   : NN_ARCH_CNN;
      ColorizeVals vals = default_vals;
      gint32       image, drawable;

      if (nparams < 3)
        {
          status = GIMP_PDB_CALLING_ERROR;
          goto done;
        }
      image    = param[1].data.d_image;
      drawable = param[2].data.d_drawable;

      switch (run_mode)
        {
        case GIMP_RUN_INTERACTIVE:
          gimp_get_data (name, &vals);
          vals.weights[WEIGHTS_PATH_MAX - 1] = '\0';
          if (! colorize_layer_check (&host, ITEM (image), ITEM (drawable),
                                      &error))
            {
              status = GIMP_PDB_EXECUTION_ERROR;
              goto done;
            }
          if (! colorize_dialog (drawable, arch, name, &vals))
            {
              status = GIMP_PDB_CANCEL;
              goto done;
            }
          break;

        case GIMP_RUN_NONINTERACTIVE:
          if (nparams < IMAGE_ARGS_MIN || nparams > 9)
            {
              status = GIMP_PDB_CALLING_ERROR;
              goto done;
            }
          vals.working_size = param[3].data.d_int32;
          vals.strength     = param[4].data.d_float;
          g_strlcpy (vals.weights,
                     param[5].data.d_string ? param[5].data.d_string : "",
                     WEIGHTS_PATH_MAX);
          vals.vividness    = nparams > 6 ? param[6].data.d_float
                              : COLORIZE_VIVIDNESS_DEFAULT;
          vals.hints        = nparams > 7 ? param[7].data.d_drawable : -1;
          vals.hints_only   = nparams > 8 && param[8].data.d_int32;
          break;

        case GIMP_RUN_WITH_LAST_VALS:
          gimp_get_data (name, &vals);
          vals.weights[WEIGHTS_PATH_MAX - 1] = '\0';
          /* The last layer chosen may belong to another image. */
          if (! gimp_item_is_valid (vals.hints) ||
              gimp_item_get_image (vals.hints) != image ||
              vals.hints == drawable)
            vals.hints = -1;
          break;
        }

      if (! colorize_layer (image, drawable, arch, &vals, &error))
        status = g_error_matches (error, COLORIZE_ERROR, NN_ERR_CANCELLED)
                 ? GIMP_PDB_CANCEL : GIMP_PDB_EXECUTION_ERROR;
      else
        {
          if (run_mode == GIMP_RUN_INTERACTIVE)
            gimp_set_data (name, &vals, sizeof vals);
          if (run_mode != GIMP_RUN_NONINTERACTIVE)
            gimp_displays_flush ();
        }
    }
  else
    {
      status = GIMP_PDB_CALLING_ERROR;
    }

 done:
  /* Also saves the babl conversions found here in babl's cache, so that
   * the next start finds them at once. */
  gegl_exit ();

  values[0].data.d_status = status;
  if (error)
    {
      g_free (message);
      message = g_strdup (error->message);
      g_error_free (error);
      *nreturn_vals = 2;
      values[1].type = GIMP_PDB_STRING;
      values[1].data.d_string = message;
    }
}
