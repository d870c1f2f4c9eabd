/* make-strokes.c - colour hints sampled from the truth, to measure what
 * hints do (eval --hints DIR) and to test them.
 *
 *   build/make-strokes --data PHOTOS --out HINTS [--count 10] [--seed 1]
 *                      [--brush PCT]
 *
 * For every photo under PHOTOS (colour, any format GEGL loads) it writes
 * HINTS/<name without extension>.png: a transparent image of the photo's
 * size with up to --count short strokes, as a user would paint them:
 * each a straight segment of 4 r with a round brush of radius r (r = PCT
 * % of the shorter side, default 1 %, at least 2 pixels), placed at
 * random where the photo is smooth (under the brush's whole path the
 * lightness stays within 10 of its mean and the a,b within 6 of their
 * mean: away from edges), a fifth of the shorter side from every other
 * stroke (spread over the photo, as a user paints one stroke per region;
 * measured on val with the 2026-12-01 ResNet18: with 3 r instead, hints
 * raised local_gain by 0.15 instead of 0.18), and painted in one colour:
 * the truth's mean a,b there (each pixel with the photo's own L, which
 * the hints ignore).  Prints one line per photo: its strokes.
 * Deterministic
 * for a given seed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "dataset.h"
#include "image.h"

#define MAX_TRIES 4000

typedef struct stroke {
  double x0, y0, x1, y1, r;
} stroke;

static unsigned long long rng_state;

static double
uniform (void)
{
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double) (rng_state >> 11) / 9007199254740992.0;
}

/* Distance from (x, y) to the segment of s. */
static double
seg_dist (const stroke *s, double x, double y)
{
  double dx = s->x1 - s->x0, dy = s->y1 - s->y0;
  double t = ((x - s->x0) * dx + (y - s->y0) * dy) / (dx * dx + dy * dy);
  t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  double ex = s->x0 + t * dx - x, ey = s->y0 + t * dy - y;
  return sqrt (ex * ex + ey * ey);
}

/* Calls back every pixel under the stroke's brush. */
#define FOR_STROKE_PIXELS(s, w, h, X, Y)                                    \
  for (int Y = (int) floor (fmin ((s)->y0, (s)->y1) - (s)->r);              \
       Y <= (int) ceil (fmax ((s)->y0, (s)->y1) + (s)->r); Y++)             \
    for (int X = (int) floor (fmin ((s)->x0, (s)->x1) - (s)->r);            \
         X <= (int) ceil (fmax ((s)->x0, (s)->x1) + (s)->r); X++)           \
      if (X >= 0 && Y >= 0 && X < (w) && Y < (h)                            \
          && seg_dist ((s), X + 0.5, Y + 0.5) <= (s)->r)

/* The stroke's mean a,b when the photo is smooth under it, else -1. */
static int
stroke_colour (const stroke *s, const float *lab, int w, int h,
               const unsigned char *taken, double ab[2])
{
  double sum[3] = { 0, 0, 0 };
  long n = 0;
  FOR_STROKE_PIXELS (s, w, h, X, Y)
    {
      const float *p = lab + ((size_t) Y * w + X) * 3;
      if (taken[(size_t) Y * w + X])
        return -1;
      for (int c = 0; c < 3; c++)
        sum[c] += p[c];
      n++;
    }
  if (n == 0)
    return -1;
  for (int c = 0; c < 3; c++)
    sum[c] /= n;
  FOR_STROKE_PIXELS (s, w, h, X, Y)
    {
      const float *p = lab + ((size_t) Y * w + X) * 3;
      if (fabs (p[0] - sum[0]) > 10.0
          || hypot (p[1] - sum[1], p[2] - sum[2]) > 6.0)
        return -1;
    }
  ab[0] = sum[1];
  ab[1] = sum[2];
  return 0;
}

/* Paints up to `count` strokes into hints (w x h, CIE Lab alpha float,
 * zeroed); returns how many. */
static int
make_strokes (const float *lab, int w, int h, int count, double brush,
              float *hints, unsigned char *taken)
{
  int shorter = w < h ? w : h, made = 0;
  double r = shorter * brush / 100.0 < 2.0 ? 2.0 : shorter * brush / 100.0;
  for (int t = 0; t < MAX_TRIES && made < count; t++)
    {
      double cx = uniform () * w, cy = uniform () * h;
      double th = uniform () * M_PI, len = 4.0 * r;
      stroke s = { cx - 0.5 * len * cos (th), cy - 0.5 * len * sin (th),
                   cx + 0.5 * len * cos (th), cy + 0.5 * len * sin (th), r };
      if (s.x0 < r || s.x1 < r || s.y0 < r || s.y1 < r || s.x0 > w - r
          || s.x1 > w - r || s.y0 > h - r || s.y1 > h - r)
        continue;
      double ab[2];
      if (stroke_colour (&s, lab, w, h, taken, ab))
        continue;
      /* keep the next strokes a fifth of the side away (different parts of
       * the photo, as a user spreads them), paint the brush */
      stroke m = s;
      m.r = r + 0.2 * shorter;
      FOR_STROKE_PIXELS (&m, w, h, X, Y)
        taken[(size_t) Y * w + X] = 1;
      FOR_STROKE_PIXELS (&s, w, h, X, Y)
        {
          float *q = hints + ((size_t) Y * w + X) * 4;
          q[0] = lab[((size_t) Y * w + X) * 3];
          q[1] = (float) ab[0];
          q[2] = (float) ab[1];
          q[3] = 1.0f;
        }
      made++;
    }
  return made;
}

static int
one_photo (const ds_image *im, const char *out_dir, int count, double brush)
{
  size_t n = (size_t) im->w * im->h;
  float *lab = malloc (n * 3 * sizeof *lab);
  float *hints = calloc (n * 4, sizeof *hints);
  unsigned char *taken = calloc (n, 1), *rgba = malloc (n * 4);
  int rc = -1;
  if (!lab || !hints || !taken || !rgba)
    {
      fprintf (stderr, "make-strokes: %s: out of memory\n", im->path);
      goto out;
    }
  image_convert (im->rgb, "R'G'B' u8", lab, "CIE Lab float", (long) n);
  int made = make_strokes (lab, im->w, im->h, count, brush, hints, taken);
  image_convert (hints, "CIE Lab alpha float", rgba, "R'G'B'A u8", (long) n);
  const char *b = strrchr (im->path, '/');
  b = b ? b + 1 : im->path;
  const char *dot = strrchr (b, '.');
  char path[4096], msg[512];
  snprintf (path, sizeof path, "%s/%.*s.png", out_dir,
            dot ? (int) (dot - b) : (int) strlen (b), b);
  if (image_save (path, rgba, im->w, im->h, "R'G'B'A u8", msg, sizeof msg))
    {
      fprintf (stderr, "make-strokes: cannot write %s: %s\n", path, msg);
      goto out;
    }
  printf ("%s strokes=%d\n", path, made);
  rc = 0;
out:
  free (lab);
  free (hints);
  free (taken);
  free (rgba);
  return rc;
}

int
main (int argc, char **argv)
{
  const char *data = NULL, *out = NULL;
  long count = 10, seed = 1;
  double brush = 1.0;
  for (int i = 1; i + 1 < argc; i += 2)
    {
      char *end;
      errno = 0;
      if (!strcmp (argv[i], "--data"))
        data = argv[i + 1];
      else if (!strcmp (argv[i], "--out"))
        out = argv[i + 1];
      else if (!strcmp (argv[i], "--brush"))
        {
          brush = strtod (argv[i + 1], &end);
          if (!*argv[i + 1] || *end || errno || !(brush >= 0.1 && brush <= 10.0))
            {
              fprintf (stderr, "make-strokes: --brush expects a percentage "
                       "in 0.1..10, got '%s'\n", argv[i + 1]);
              return 2;
            }
        }
      else if (!strcmp (argv[i], "--count") || !strcmp (argv[i], "--seed"))
        {
          long v = strtol (argv[i + 1], &end, 10);
          if (!*argv[i + 1] || *end || errno || v < 0 || v > 100000)
            {
              fprintf (stderr, "make-strokes: %s expects an integer in "
                       "0..100000, got '%s'\n", argv[i], argv[i + 1]);
              return 2;
            }
          *(!strcmp (argv[i], "--count") ? &count : &seed) = v;
        }
      else
        break;
    }
  if (!data || !out || argc % 2 == 0)
    {
      fprintf (stderr, "usage: make-strokes --data PHOTOS --out HINTS "
               "[--count 10] [--seed 1] [--brush 1]\n");
      return 2;
    }
  if (mkdir (out, 0777) && errno != EEXIST)
    {
      fprintf (stderr, "make-strokes: cannot create %s: %s\n", out,
               strerror (errno));
      return 1;
    }
  rng_state = (unsigned long long) seed * 2654435761ULL + 1;
  image_init ();
  dataset ds = { 0 };
  char msg[1024];
  dataset_options dopt = { DATASET_RGB_FULL, 0, 0.0f, 2, stderr, NULL, 0 };
  int rc = 1;
  if (dataset_load (&ds, data, &dopt, msg, sizeof msg))
    fprintf (stderr, "make-strokes: %s\n", msg);
  else
    {
      rc = 0;
      for (int i = 0; i < ds.n && !rc; i++)
        rc = one_photo (&ds.images[i], out, (int) count, brush) ? 1 : 0;
    }
  dataset_free (&ds);
  image_exit ();
  return rc;
}
