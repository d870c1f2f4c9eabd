/* cache.c - does a colorize operation compute once per change?  For
 * tests/test_gegl.sh, with COLORIZE_VERBOSE set (each computation prints
 * one "colorize: OPERATION WxH: ..." line to stderr, counted there).
 *
 *   cache OPERATION IN
 *
 * builds gegl:load -> OPERATION, renders the whole output three times in
 * tiles of 64 x 64 (gegl_node_blit), changes "strength" to 0.5 and
 * renders it once more, and prints one line per render:
 *   render N fnv=HASH
 * (FNV-1a of the "R'G'B'A u8" pixels). */
#include <stdio.h>

#include <gegl.h>

#define TILE 64

static guint64
fnv (const guchar *p, gsize n, guint64 h)
{
  gsize i;

  for (i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static guint64
render (GeglNode *node, const GeglRectangle *box)
{
  guchar  px[TILE * TILE * 4];
  guint64 h = 14695981039346656037ull;
  gint    x, y;

  for (y = box->y; y < box->y + box->height; y += TILE)
    for (x = box->x; x < box->x + box->width; x += TILE)
      {
        GeglRectangle r = { x, y, MIN (TILE, box->x + box->width - x),
                            MIN (TILE, box->y + box->height - y) };

        gegl_node_blit (node, 1.0, &r, babl_format ("R'G'B'A u8"), px,
                        GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
        h = fnv (px, (gsize) r.width * r.height * 4, h);
      }
  return h;
}

int
main (int argc, char **argv)
{
  GeglNode     *graph, *load, *op;
  GeglRectangle box;
  gint          i;

  if (argc != 3)
    {
      fprintf (stderr, "usage: cache OPERATION IN\n");
      return 2;
    }
  gegl_init (NULL, NULL);
  graph = gegl_node_new ();
  load  = gegl_node_new_child (graph, "operation", "gegl:load", "path",
                               argv[2], NULL);
  op    = gegl_node_new_child (graph, "operation", argv[1], NULL);
  if (! gegl_has_operation (argv[1]))
    {
      fprintf (stderr, "cache: no operation %s\n", argv[1]);
      return 2;
    }
  gegl_node_link (load, op);
  box = gegl_node_get_bounding_box (op);
  for (i = 1; i <= 3; i++)
    printf ("render %d fnv=%016llx\n", i,
            (unsigned long long) render (op, &box));
  gegl_node_set (op, "strength", 0.5, NULL);
  printf ("render 4 fnv=%016llx\n", (unsigned long long) render (op, &box));
  g_object_unref (graph);
  gegl_exit ();
  return 0;
}
