/* nde-gimp3.c - a test-only GIMP 3.0 plug-in: applies a GEGL operation
 * to a layer as a non-destructive filter through libgimp 3.0's
 * GimpDrawableFilter API, for tests/test_gegl.sh.
 *
 *   (test-colorize-nde RUN-NONINTERACTIVE image layer "colorize:resnet18"
 *                      strength hints-layer-or--1 "/abs/prefix")
 *
 * gimp_drawable_filter_new, the config's "strength", the hints layer (if
 * any) as the aux input, gimp_drawable_filter_update,
 * gimp_drawable_append_filter; then writes PREFIX.txt, one fact a line:
 *   new ok | new error MESSAGE     (the PDB's message)
 *   filters N OPERATION-NAME       (gimp_drawable_get_filters)
 *   unchanged 0|1                  (the layer's own pixels are the same)
 *   live-filters N                 (after the duplicate was merged)
 *   merged-filters N               (after gimp_drawable_merge_filters)
 * and "R'G'B'A u8" pixels: PREFIX-before.raw (the layer), PREFIX-live.raw
 * (a duplicate image's layer after merging its copy of the filter, while
 * the original keeps it), PREFIX-merged.raw (the layer after merging).
 *
 *   (test-colorize-nde-dump RUN-NONINTERACTIVE layer "/abs/file.raw")
 *
 * writes a layer's own pixels the same way (for the plug-in's result).
 *
 *   (test-colorize-nde-keep RUN-NONINTERACTIVE image layer "op" strength)
 *
 * only appends the filter and leaves it there (tools/nde-screenshot.sh).
 */
#include <stdio.h>
#include <string.h>

#include <libgimp/gimp.h>

#define PROC      "test-colorize-nde"
#define PROC_DUMP "test-colorize-nde-dump"
#define PROC_KEEP "test-colorize-nde-keep"

enum { RUN_NDE, RUN_DUMP, RUN_KEEP };
#define RAW_FORMAT "R'G'B'A u8"

/* The layer's own pixels as RAW_FORMAT (g_free them). */
static guchar *
read_raw (GimpDrawable *drawable, gsize *size)
{
  GeglBuffer          *buffer = gimp_drawable_get_buffer (drawable);
  const GeglRectangle *ext    = gegl_buffer_get_extent (buffer);
  guchar              *px;

  *size = (gsize) ext->width * ext->height * 4;
  px    = g_malloc (*size);
  gegl_buffer_get (buffer, ext, 1.0, babl_format (RAW_FORMAT), px,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  g_object_unref (buffer);
  return px;
}

static gboolean
write_raw (GimpDrawable *drawable, const gchar *path)
{
  gsize   size;
  guchar *px = read_raw (drawable, &size);
  gboolean ok = g_file_set_contents (path, (const gchar *) px, size, NULL);

  g_free (px);
  return ok;
}

static gint
count_filters (GimpDrawable *drawable, gchar **first_op)
{
  GimpDrawableFilter **filters = gimp_drawable_get_filters (drawable);
  gint                 n       = 0;

  while (filters && filters[n])
    n++;
  if (first_op)
    *first_op = n ? gimp_drawable_filter_get_operation_name (filters[0])
                  : g_strdup ("-");
  g_free (filters);
  return n;
}

/* The filter merged into a duplicate of the image: the rendered pixels,
 * while the original keeps its live filter. */
static void
write_live (GimpImage *image, gint index, const gchar *path)
{
  GimpImage  *dup    = gimp_image_duplicate (image);
  GimpLayer **layers = gimp_image_get_layers (dup);

  gimp_drawable_merge_filters (GIMP_DRAWABLE (layers[index]));
  write_raw (GIMP_DRAWABLE (layers[index]), path);
  g_free (layers);
  gimp_image_delete (dup);
}

static gint
layer_index (GimpImage *image, GimpLayer *layer)
{
  GimpLayer **layers = gimp_image_get_layers (image);
  gint        i;

  for (i = 0; layers[i] && layers[i] != layer; i++)
    ;
  g_free (layers);
  return i;
}

static gboolean
nde (GimpImage *image, GimpLayer *layer, const gchar *op, gdouble strength,
     GimpLayer *hints, const gchar *prefix)
{
  GimpDrawable       *drw = GIMP_DRAWABLE (layer);
  GimpDrawableFilter *filter;
  gchar              *path = g_strconcat (prefix, ".txt", NULL);
  FILE               *txt  = fopen (path, "w");
  gchar              *name = NULL, *file;
  guchar             *before, *after;
  gsize               n_before, n_after;

  g_free (path);
  if (! txt)
    return FALSE;
  before = read_raw (drw, &n_before);
  file   = g_strconcat (prefix, "-before.raw", NULL);
  write_raw (drw, file);
  g_free (file);

  filter = gimp_drawable_filter_new (drw, op, "Colorize");
  if (! filter)
    {
      fprintf (txt, "new error %s\n",
               gimp_pdb_get_last_error (gimp_get_pdb ()));
      fclose (txt);
      g_free (before);
      return TRUE;
    }
  fprintf (txt, "new ok\n");
  g_object_set (gimp_drawable_filter_get_config (filter),
                "strength", strength, NULL);
  if (hints)
    gimp_drawable_filter_set_aux_input (filter, "aux", GIMP_DRAWABLE (hints));
  gimp_drawable_filter_update (filter);
  gimp_drawable_append_filter (drw, filter);

  n_after = count_filters (drw, &name);
  fprintf (txt, "filters %d %s\n", (gint) n_after, name);
  g_free (name);
  after = read_raw (drw, &n_after);
  fprintf (txt, "unchanged %d\n",
           n_before == n_after && ! memcmp (before, after, n_before));
  g_free (before);
  g_free (after);

  file = g_strconcat (prefix, "-live.raw", NULL);
  write_live (image, layer_index (image, layer), file);
  g_free (file);
  fprintf (txt, "live-filters %d\n", count_filters (drw, NULL));

  gimp_drawable_merge_filters (drw);
  fprintf (txt, "merged-filters %d\n", count_filters (drw, NULL));
  file = g_strconcat (prefix, "-merged.raw", NULL);
  write_raw (drw, file);
  g_free (file);
  fclose (txt);
  return TRUE;
}

/* ---- the plug-in ---------------------------------------------------- */

typedef struct { GimpPlugIn parent_instance; } NdePlugIn;
typedef struct { GimpPlugInClass parent_class; } NdePlugInClass;

GType nde_plug_in_get_type (void) G_GNUC_CONST;
G_DEFINE_TYPE (NdePlugIn, nde_plug_in, GIMP_TYPE_PLUG_IN)
GIMP_MAIN (nde_plug_in_get_type ())

static GList *
nde_query (GimpPlugIn *plug_in)
{
  (void) plug_in;
  return g_list_append (g_list_append (g_list_append (NULL, g_strdup (PROC)),
                                      g_strdup (PROC_DUMP)),
                        g_strdup (PROC_KEEP));
}

static GimpValueArray *
nde_run (GimpProcedure *procedure, GimpProcedureConfig *config,
         gpointer run_data)
{
  GimpImage *image = NULL;
  GimpLayer *layer = NULL, *hints = NULL;
  gchar     *op = NULL, *prefix = NULL;
  gdouble    strength = 1.0;
  gboolean   ok;

  if (GPOINTER_TO_INT (run_data) == RUN_DUMP)
    {
      g_object_get (config, "layer", &layer, "path", &prefix, NULL);
      ok = layer && prefix && write_raw (GIMP_DRAWABLE (layer), prefix);
    }
  else if (GPOINTER_TO_INT (run_data) == RUN_KEEP)
    {
      GimpDrawableFilter *filter = NULL;

      g_object_get (config, "layer", &layer, "operation", &op,
                    "strength", &strength, NULL);
      ok = layer && op &&
           (filter = gimp_drawable_filter_new (GIMP_DRAWABLE (layer), op,
                                               "Colorize"));
      if (ok)
        {
          g_object_set (gimp_drawable_filter_get_config (filter),
                        "strength", strength, NULL);
          gimp_drawable_filter_update (filter);
          gimp_drawable_append_filter (GIMP_DRAWABLE (layer), filter);
        }
    }
  else
    {
      g_object_get (config, "image", &image, "layer", &layer,
                    "operation", &op, "strength", &strength,
                    "hints", &hints, "prefix", &prefix, NULL);
      ok = image && layer && op && prefix &&
           nde (image, layer, op, strength, hints, prefix);
    }
  g_clear_object (&image);
  g_clear_object (&layer);
  g_clear_object (&hints);
  g_free (op);
  g_free (prefix);
  return gimp_procedure_new_return_values (procedure,
                                           ok ? GIMP_PDB_SUCCESS
                                              : GIMP_PDB_EXECUTION_ERROR,
                                           NULL);
}

static gboolean
nde_set_i18n (GimpPlugIn *p, const gchar *n, gchar **d, gchar **c)
{
  (void) p; (void) n; (void) d; (void) c;
  return FALSE;
}

static GimpProcedure *
nde_create (GimpPlugIn *plug_in, const gchar *name)
{
  gint           kind = ! strcmp (name, PROC_DUMP) ? RUN_DUMP
                      : ! strcmp (name, PROC_KEEP) ? RUN_KEEP : RUN_NDE;
  gboolean       dump = kind == RUN_DUMP;
  GimpProcedure *p;

  if (kind == RUN_NDE && strcmp (name, PROC))
    return NULL;
  p = gimp_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, nde_run,
                          GINT_TO_POINTER (kind), NULL);
  gimp_procedure_set_documentation (p, "Test helper: a GEGL operation as a "
                                    "non-destructive filter", "", name);
  gimp_procedure_add_enum_argument (p, "run-mode", "Run mode", "",
                                    GIMP_TYPE_RUN_MODE,
                                    GIMP_RUN_NONINTERACTIVE,
                                    G_PARAM_READWRITE);
  if (dump)
    {
      gimp_procedure_add_layer_argument (p, "layer", "Layer", "", FALSE,
                                         G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (p, "path", "Path", "", NULL,
                                          G_PARAM_READWRITE);
      return p;
    }
  gimp_procedure_add_image_argument (p, "image", "Image", "", FALSE,
                                     G_PARAM_READWRITE);
  gimp_procedure_add_layer_argument (p, "layer", "Layer", "", FALSE,
                                     G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (p, "operation", "Operation", "", NULL,
                                      G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (p, "strength", "Strength", "", 0.0,
                                      10.0, 1.0, G_PARAM_READWRITE);
  if (kind == RUN_KEEP)
    return p;
  gimp_procedure_add_layer_argument (p, "hints", "Hints", "", TRUE,
                                     G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (p, "prefix", "Prefix", "", NULL,
                                      G_PARAM_READWRITE);
  return p;
}

static void
nde_plug_in_class_init (NdePlugInClass *klass)
{
  GimpPlugInClass *c = GIMP_PLUG_IN_CLASS (klass);

  c->query_procedures = nde_query;
  c->create_procedure = nde_create;
  c->set_i18n         = nde_set_i18n;
}

static void
nde_plug_in_init (NdePlugIn *self)
{
  (void) self;
}
