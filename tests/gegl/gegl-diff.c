/* gegl-diff.c - compares two image files pixel by pixel, both loaded by
 * GEGL (gegl:load) and converted to one babl format, for
 * tests/test_gegl.sh.
 *
 *   gegl-diff FORMAT A B     FORMAT: "R'G'B'A u8" or "CIE Lab alpha float"
 *
 * Prints one line:
 *   size=WxH differ=K max=D0,D1,D2,D3 mean=M0,M1,M2,M3
 * K: the pixels that differ in any channel; Dc, Mc: the largest and the
 * mean absolute difference of channel c (in the format's units).  Exits
 * 2 when a file cannot be loaded or the sizes differ. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gegl.h>

static gfloat *
load (const char *path, const Babl *fmt, GeglRectangle *r)
{
  GeglNode   *graph = gegl_node_new ();
  GeglNode   *ld    = gegl_node_new_child (graph, "operation", "gegl:load",
                                           "path", path, NULL);
  gfloat     *px;

  *r = gegl_node_get_bounding_box (ld);
  if (r->width <= 0 || r->height <= 0)
    {
      g_object_unref (graph);
      return NULL;
    }
  px = g_new (gfloat, (gsize) 4 * r->width * r->height);
  gegl_node_blit (ld, 1.0, r, fmt, px, GEGL_AUTO_ROWSTRIDE, GEGL_BLIT_DEFAULT);
  g_object_unref (graph);
  return px;
}

/* Reads channel c of pixel i as a double, for u8 or float formats. */
static double
channel (const void *px, const Babl *fmt, gsize i, int c)
{
  if (babl_format_get_bytes_per_pixel (fmt) == 4)
    return ((const guchar *) px)[i * 4 + c];
  return ((const gfloat *) px)[i * 4 + c];
}

int
main (int argc, char **argv)
{
  GeglRectangle ra, rb;
  const Babl   *fmt;
  gfloat       *a, *b;
  double        max[4] = { 0 }, sum[4] = { 0 };
  gsize         n, i, differ = 0;
  int           c;

  if (argc != 4)
    {
      fprintf (stderr, "usage: gegl-diff FORMAT A B\n");
      return 2;
    }
  gegl_init (NULL, NULL);
  fmt = babl_format (argv[1]);
  a   = load (argv[2], fmt, &ra);
  b   = load (argv[3], fmt, &rb);
  if (! a || ! b || ra.width != rb.width || ra.height != rb.height)
    {
      fprintf (stderr, "gegl-diff: %s\n", ! a ? argv[2] : ! b ? argv[3]
               : "the sizes differ");
      return 2;
    }
  n = (gsize) ra.width * ra.height;
  for (i = 0; i < n; i++)
    {
      int diff = 0;

      for (c = 0; c < 4; c++)
        {
          double d = fabs (channel (a, fmt, i, c) - channel (b, fmt, i, c));

          if (d > max[c])
            max[c] = d;
          sum[c] += d;
          diff |= d > 0;
        }
      if (diff && differ < 3 && g_getenv ("GEGL_DIFF_WHERE"))
        fprintf (stderr, "differs at %zu,%zu\n", (size_t) (i % ra.width),
                 (size_t) (i / ra.width));
      differ += diff;
    }
  printf ("size=%dx%d differ=%zu max=%g,%g,%g,%g mean=%g,%g,%g,%g\n",
          ra.width, ra.height, (size_t) differ, max[0], max[1], max[2],
          max[3], sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n);
  g_free (a);
  g_free (b);
  gegl_exit ();
  return 0;
}
