/* dump.c - a test-only GIMP plug-in (2.10 and 3.0 from one file) that
 * writes an image's layer tree and pixels to files, so that
 * tests/gimp/check-dump.c can check what plug-in-colorize did.
 *
 *   (test-colorize-dump RUN-NONINTERACTIVE image "/abs/prefix" "note")
 *
 * writes PREFIX.txt:
 *   note TEXT
 *   image WIDTH HEIGHT BASE-TYPE PRECISION
 *   selection 0 | selection 1            (then PREFIX-sel.y: W x H floats)
 *   layer INDEX PARENT POSITION X Y W H HAS-MASK IS-GROUP NAME
 * layers depth-first from the top of the stack, PARENT = -1 at the top
 * level, and for each non-group layer PREFIX-INDEX.lab (W x H x 4 floats,
 * babl "CIE Lab alpha float") and, with a mask, PREFIX-INDEX.mask
 * (W x H floats, "Y float").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libgimp/gimp.h>

#define PROC "test-colorize-dump"

/* A test helper starts many times per test: skip what it does not need.
 * babl's fish cache takes seconds to load when GIMP has filled it, and
 * GEGL's operation modules are not used here.  Runs before main, so also
 * before libgimp 3 initializes GEGL. */
__attribute__ ((constructor)) static void
dump_fast_start (void)
{
  setenv ("BABL_INHIBIT_CACHE", "1", 1);
  setenv ("GEGL_PATH", "/nonexistent/colorize-test-dump", 1);
}

static gboolean
write_buffer (GeglBuffer *buffer, const char *format, gint bpp,
              const gchar *path)
{
  const GeglRectangle *ext = gegl_buffer_get_extent (buffer);
  gsize                n   = (gsize) ext->width * ext->height * bpp;
  gfloat              *data = g_malloc (n * sizeof (gfloat));
  FILE                *f;
  gboolean             ok;

  gegl_buffer_get (buffer, ext, 1.0, babl_format (format), data,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  f  = fopen (path, "wb");
  ok = f && fwrite (data, sizeof (gfloat), n, f) == n;
  if (f && fclose (f) != 0)
    ok = FALSE;
  g_free (data);
  return ok;
}

typedef struct
{
  FILE        *txt;
  const gchar *prefix;
  gint         next;
  gboolean     ok;
} Dump;

#if GIMP_MAJOR_VERSION >= 3
typedef GimpItem *Item;
#define ITEM_NAME(i)      gimp_item_get_name (i)
#define ITEM_IS_GROUP(i)  gimp_item_is_group (i)
#else
typedef gint32 Item;
#define ITEM_NAME(i)      gimp_item_get_name (i)
#define ITEM_IS_GROUP(i)  gimp_item_is_group (i)
#endif

static void dump_items (Dump *d, Item *items, gint n, gint parent);

static void
dump_item (Dump *d, Item item, gint parent, gint position)
{
  gint        index = d->next++;
  gint        x, y, w, h;
  gboolean    group = ITEM_IS_GROUP (item);
  gboolean    has_mask;
  gchar      *name  = ITEM_NAME (item);
  gchar      *path;
  GeglBuffer *buffer;

#if GIMP_MAJOR_VERSION >= 3
  GimpLayerMask *mask = gimp_layer_get_mask (GIMP_LAYER (item));

  gimp_drawable_get_offsets (GIMP_DRAWABLE (item), &x, &y);
  w = gimp_drawable_get_width (GIMP_DRAWABLE (item));
  h = gimp_drawable_get_height (GIMP_DRAWABLE (item));
  has_mask = mask != NULL;
#else
  gint32 mask = gimp_layer_get_mask (item);

  gimp_drawable_offsets (item, &x, &y);
  w = gimp_drawable_width (item);
  h = gimp_drawable_height (item);
  has_mask = mask > 0;
#endif

  fprintf (d->txt, "layer %d %d %d %d %d %d %d %d %d %s\n", index, parent,
           position, x, y, w, h, has_mask, group, name);
  g_free (name);

  if (! group)
    {
#if GIMP_MAJOR_VERSION >= 3
      buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (item));
#else
      buffer = gimp_drawable_get_buffer (item);
#endif
      path = g_strdup_printf ("%s-%d.lab", d->prefix, index);
      d->ok &= write_buffer (buffer, "CIE Lab alpha float", 4, path);
      g_free (path);
      g_object_unref (buffer);
    }
  if (has_mask)
    {
#if GIMP_MAJOR_VERSION >= 3
      buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (mask));
#else
      buffer = gimp_drawable_get_buffer (mask);
#endif
      path = g_strdup_printf ("%s-%d.mask", d->prefix, index);
      d->ok &= write_buffer (buffer, "Y float", 1, path);
      g_free (path);
      g_object_unref (buffer);
    }
  if (group)
    {
#if GIMP_MAJOR_VERSION >= 3
      GimpItem **children = gimp_item_get_children (item);
      gint       n = 0;

      while (children && children[n])
        n++;
      dump_items (d, children, n, index);
      g_free (children);
#else
      gint    n;
      gint32 *children = gimp_item_get_children (item, &n);

      dump_items (d, children, n, index);
      g_free (children);
#endif
    }
}

static void
dump_items (Dump *d, Item *items, gint n, gint parent)
{
  gint i;

  for (i = 0; i < n; i++)
    dump_item (d, items[i], parent, i);
}

#if GIMP_MAJOR_VERSION >= 3
typedef GimpImage *Image;
#else
typedef gint32 Image;
#endif

static gboolean
dump_image (Image image, const gchar *prefix, const gchar *note)
{
  Dump        d = { NULL, prefix, 0, TRUE };
  gchar      *path = g_strdup_printf ("%s.txt", prefix);
  gboolean    empty = gimp_selection_is_empty (image);
  GeglBuffer *buffer;

  d.txt = fopen (path, "w");
  g_free (path);
  if (! d.txt)
    return FALSE;

  fprintf (d.txt, "note %s\n", note ? note : "");
#if GIMP_MAJOR_VERSION >= 3
  fprintf (d.txt, "image %d %d %d %d\n", gimp_image_get_width (image),
           gimp_image_get_height (image), gimp_image_get_base_type (image),
           gimp_image_get_precision (image));
#else
  fprintf (d.txt, "image %d %d %d %d\n", gimp_image_width (image),
           gimp_image_height (image), gimp_image_base_type (image),
           gimp_image_get_precision (image));
#endif
  fprintf (d.txt, "selection %d\n", ! empty);
  if (! empty)
    {
#if GIMP_MAJOR_VERSION >= 3
      buffer = gimp_drawable_get_buffer (
                 GIMP_DRAWABLE (gimp_image_get_selection (image)));
#else
      buffer = gimp_drawable_get_buffer (gimp_image_get_selection (image));
#endif
      path = g_strdup_printf ("%s-sel.y", prefix);
      d.ok &= write_buffer (buffer, "Y float", 1, path);
      g_free (path);
      g_object_unref (buffer);
    }

  {
#if GIMP_MAJOR_VERSION >= 3
    GimpLayer **layers = gimp_image_get_layers (image);
    gint        n = 0;

    while (layers && layers[n])
      n++;
    dump_items (&d, (GimpItem **) layers, n, -1);
    g_free (layers);
#else
    gint    n;
    gint32 *layers = gimp_image_get_layers (image, &n);

    dump_items (&d, layers, n, -1);
    g_free (layers);
#endif
  }

  if (fclose (d.txt) != 0)
    d.ok = FALSE;
  return d.ok;
}

#if GIMP_MAJOR_VERSION >= 3

typedef struct { GimpPlugIn parent_instance; } DumpPlugIn;
typedef struct { GimpPlugInClass parent_class; } DumpPlugInClass;

GType dump_plug_in_get_type (void) G_GNUC_CONST;
G_DEFINE_TYPE (DumpPlugIn, dump_plug_in, GIMP_TYPE_PLUG_IN)
GIMP_MAIN (dump_plug_in_get_type ())

static GList *
dump_query (GimpPlugIn *plug_in)
{
  (void) plug_in;
  return g_list_append (NULL, g_strdup (PROC));
}

static GimpValueArray *
dump_run (GimpProcedure *procedure, GimpProcedureConfig *config,
          gpointer run_data)
{
  GimpImage *image = NULL;
  gchar     *prefix = NULL, *note = NULL;
  gboolean   ok;

  (void) run_data;
  g_object_get (config, "image", &image, "prefix", &prefix, "note", &note,
                NULL);
  ok = image && prefix && dump_image (image, prefix, note);
  g_clear_object (&image);
  g_free (prefix);
  g_free (note);
  return gimp_procedure_new_return_values (procedure,
                                           ok ? GIMP_PDB_SUCCESS
                                              : GIMP_PDB_EXECUTION_ERROR,
                                           NULL);
}

static gboolean
dump_set_i18n (GimpPlugIn *p, const gchar *n, gchar **d, gchar **c)
{
  (void) p; (void) n; (void) d; (void) c;
  return FALSE;
}

static GimpProcedure *
dump_create (GimpPlugIn *plug_in, const gchar *name)
{
  GimpProcedure *p;

  if (strcmp (name, PROC))
    return NULL;
  p = gimp_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                          dump_run, NULL, NULL);
  gimp_procedure_set_documentation (p, "Test helper: dump layers", "",
                                    name);
  gimp_procedure_add_enum_argument (p, "run-mode", "Run mode", "",
                                    GIMP_TYPE_RUN_MODE,
                                    GIMP_RUN_NONINTERACTIVE,
                                    G_PARAM_READWRITE);
  gimp_procedure_add_image_argument (p, "image", "Image", "", FALSE,
                                     G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (p, "prefix", "Prefix", "", NULL,
                                      G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (p, "note", "Note", "", NULL,
                                      G_PARAM_READWRITE);
  return p;
}

static void
dump_plug_in_class_init (DumpPlugInClass *klass)
{
  GimpPlugInClass *c = GIMP_PLUG_IN_CLASS (klass);

  c->query_procedures = dump_query;
  c->create_procedure = dump_create;
  c->set_i18n         = dump_set_i18n;
}

static void
dump_plug_in_init (DumpPlugIn *self)
{
  (void) self;
}

#else /* GIMP 2.10 */

static void
query (void)
{
  static const GimpParamDef args[] =
  {
    { GIMP_PDB_INT32,  "run-mode", "Run mode" },
    { GIMP_PDB_IMAGE,  "image",    "Image" },
    { GIMP_PDB_STRING, "prefix",   "Absolute path prefix of the files" },
    { GIMP_PDB_STRING, "note",     "Text for the note line" }
  };

  gimp_install_procedure (PROC, "Test helper: dump layers", "", "", "",
                          "2025", NULL, NULL, GIMP_PLUGIN,
                          G_N_ELEMENTS (args), 0, args, NULL);
}

static void
run (const gchar *name, gint nparams, const GimpParam *param,
     gint *nreturn_vals, GimpParam **return_vals)
{
  static GimpParam values[1];

  (void) name;
  gegl_init (NULL, NULL);
  values[0].type = GIMP_PDB_STATUS;
  values[0].data.d_status =
    nparams == 4 && dump_image (param[1].data.d_image,
                                param[2].data.d_string,
                                param[3].data.d_string)
    ? GIMP_PDB_SUCCESS : GIMP_PDB_EXECUTION_ERROR;
  *nreturn_vals = 1;
  *return_vals  = values;
}

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

MAIN ()

#endif
