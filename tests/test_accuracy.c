/* test_accuracy.c - trainer/accuracy.c, the colour-placement accuracy
 * (auc_raw, auc_rebal), against figures computed by hand: a pixel with
 * a,b error e <= 150 is within the thresholds ceil (e)..150, i.e. counts
 * for 151 - ceil (e) of the 151 thresholds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "accuracy.h"
#include "testutil.h"

#define MAXPX 16

/* A few pixels as CIE Lab, truth and prediction (L = 50). */
typedef struct pixels {
  int n;
  float truth[MAXPX * 3], pred[MAXPX * 3];
} pixels;

static void
px_add (pixels *p, float ta, float tb, float pa, float pb)
{
  float *t = p->truth + p->n * 3, *o = p->pred + p->n * 3;
  t[0] = o[0] = 50.0f;
  t[1] = ta;
  t[2] = tb;
  o[1] = pa;
  o[2] = pb;
  p->n++;
}

/* The figures of p (pred NULL: the grayscale baseline). */
static void
auc_of (const pixels *p, int gray, double *raw, double *rebal)
{
  accuracy_table *t = calloc (1, sizeof *t);
  accuracy_add (t, p->truth, gray ? NULL : p->pred, p->n, 3);
  accuracy_auc (t, raw, rebal);
  free (t);
}

static int
near (double a, double b)
{
  return fabs (a - b) < 1e-9;
}

static void
test_bins (void)
{
  static const struct { float v; int bin; } cases[] = {
    { -500.0f, 0 }, { -110.0f, 0 }, { -100.001f, 0 }, { -100.0f, 1 },
    { -0.001f, 10 }, { 0.0f, 11 }, { 9.999f, 11 }, { 10.0f, 12 },
    { 109.9f, 21 }, { 110.0f, 21 }, { 500.0f, 21 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK (accuracy_ab_bin (cases[i].v) == cases[i].bin,
           "bin of %g: %d, expected %d", cases[i].v,
           accuracy_ab_bin (cases[i].v), cases[i].bin);
}

/* Errors 0, 10, 100, 200 in one bin: (151 + 141 + 51 + 0) / 4 / 151. */
static void
test_four_errors (void)
{
  pixels p = { 0 };
  px_add (&p, 0, 0, 0, 0);
  px_add (&p, 0, 0, 6, 8);
  px_add (&p, 0, 0, 60, 80);
  px_add (&p, 0, 0, -120, -160);
  double raw, rebal, want = 343.0 / 4 / 151 * 100;
  auc_of (&p, 0, &raw, &rebal);
  CHECK (near (raw, want), "errors 0 10 100 200: auc_raw %.12f, expected "
         "%.12f", raw, want);
  CHECK (near (rebal, want), "one bin: auc_rebal %.12f = auc_raw %.12f",
         rebal, want);
  CHECK (fabs (raw - 56.788079) < 1e-6, "auc_raw %.6f, expected 56.788079",
         raw);
}

/* Integer errors are within their own threshold; anything above is not. */
static void
test_thresholds (void)
{
  static const struct { float pa, pb; double within; } cases[] = {
    { 3.0f, 4.0f, 146 },      /* e = 5 exactly: within t = 5..150 */
    { 3.0f, 3.999f, 146 },    /* e just below 5 */
    { 3.0f, 4.001f, 145 },    /* e just above 5: t = 6..150 */
    { 90.0f, 120.0f, 1 },     /* e = 150 exactly: t = 150 only */
    { 90.0f, 120.01f, 0 },    /* e > 150: never */
    { 0.0f, 0.5f, 150 },      /* e = 0.5: t = 1..150 */
    { NAN, 0.0f, 0 },         /* NaN: never */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      pixels p = { 0 };
      px_add (&p, 0, 0, cases[i].pa, cases[i].pb);
      double raw, rebal, want = cases[i].within / 151 * 100;
      auc_of (&p, 0, &raw, &rebal);
      CHECK (near (raw, want) && near (rebal, want), "prediction (%g, %g): "
             "auc %.9f / %.9f, expected %.9f", cases[i].pa, cases[i].pb, raw,
             rebal, want);
    }
}

/* Bin A ([0, 10) x [0, 10)) holds 3 pixels with errors 0, 0, 50; bin B
 * (truth (60, -30)) one pixel with error 20.  Rebalanced, each bin
 * weighs 1/2: A's pixels 1/6 each, B's 1/2. */
static void
test_rebalanced (void)
{
  pixels p = { 0 };
  px_add (&p, 0, 0, 0, 0);
  px_add (&p, 5, 5, 5, 5);
  px_add (&p, 9.5f, 0.5f, 39.5f, 40.5f);
  px_add (&p, 60, -30, 48, -46);
  double raw, rebal;
  auc_of (&p, 0, &raw, &rebal);
  double want_raw = (151.0 + 151 + 101 + 131) / 4 / 151 * 100;
  double want_rebal = ((151.0 + 151 + 101) / 3 / 151 + 131.0 / 151) / 2 * 100;
  CHECK (near (raw, want_raw), "3 + 1 pixels: auc_raw %.12f, expected "
         "%.12f", raw, want_raw);
  CHECK (near (rebal, want_rebal), "3 + 1 pixels: auc_rebal %.12f, expected "
         "%.12f", rebal, want_rebal);
  CHECK (fabs (rebal - 87.858720) < 1e-6, "auc_rebal %.6f, expected 87.858720",
         rebal);
}

/* The grayscale baseline's error is the truth's chroma. */
static void
test_gray (void)
{
  pixels p = { 0 };
  px_add (&p, 30, 40, 30, 40);     /* chroma 50 */
  px_add (&p, 0, 0, 70, 70);       /* chroma 0 */
  px_add (&p, -0.3f, 0.4f, 0, 0);  /* chroma 0.5 */
  px_add (&p, -90, -120, -90, -120); /* chroma 150 */
  double raw, rebal;
  auc_of (&p, 1, &raw, &rebal);
  double want = (101.0 + 151 + 150 + 1) / 4 / 151 * 100;
  CHECK (near (raw, want), "gray: auc_raw %.12f, expected %.12f", raw, want);
  CHECK (near (rebal, want), "gray, one pixel a bin: auc_rebal %.12f, "
         "expected %.12f", rebal, want);
}

/* An exact prediction scores 100; a table without pixels NaN. */
static void
test_identical_and_empty (void)
{
  pixels p = { 0 };
  for (int i = 0; i < MAXPX; i++)
    {
      float a = fixture_uniform (i, 1) * 240 - 120;
      float b = fixture_uniform (i, 2) * 240 - 120;
      px_add (&p, a, b, a, b);
    }
  double raw, rebal;
  auc_of (&p, 0, &raw, &rebal);
  CHECK (raw == 100.0 && rebal == 100.0, "identical: %.12f %.12f, "
         "expected 100", raw, rebal);
  p.n = 0;
  auc_of (&p, 0, &raw, &rebal);
  CHECK (isnan (raw) && isnan (rebal), "no pixels: %g %g, expected NaN", raw,
         rebal);
}

/* The set's figures come from the merged tables, its bins counted over
 * all images: image 1 has 3 exact pixels in bin A, image 2 one in A with
 * an error above 150 and an exact one in B.  Set: A 3/4, B 1, rebal
 * 87.5, raw 80 (the mean of the images' own rebal would be 75). */
static void
test_merge (void)
{
  pixels one = { 0 }, two = { 0 };
  for (int i = 0; i < 3; i++)
    px_add (&one, 1, 1, 1, 1);
  px_add (&two, 2, 2, 200, 2);
  px_add (&two, -50, 20, -50, 20);
  accuracy_table *t1 = calloc (1, sizeof *t1), *t2 = calloc (1, sizeof *t2);
  accuracy_add (t1, one.truth, one.pred, one.n, 3);
  accuracy_add (t2, two.truth, two.pred, two.n, 3);
  double r1, rb1, r2, rb2, raw, rebal;
  accuracy_auc (t1, &r1, &rb1);
  accuracy_auc (t2, &r2, &rb2);
  accuracy_merge (t1, t2);
  accuracy_auc (t1, &raw, &rebal);
  CHECK (rb1 == 100.0 && rb2 == 50.0, "images: auc_rebal %g and %g, "
         "expected 100 and 50", rb1, rb2);
  CHECK (near (raw, 80.0) && near (rebal, 87.5), "set: auc_raw %.12f "
         "(expected 80), auc_rebal %.12f (expected 87.5)", raw, rebal);
  free (t1);
  free (t2);
}

/* channels = 4 (Lab + alpha): a and b at offsets 1 and 2. */
static void
test_stride (void)
{
  const float truth[8] = { 50, 30, 40, 1, 50, 0, 0, 1 };
  const float pred[8] = { 50, 30, 40, 0.5f, 50, 6, 8, 0.5f };
  accuracy_table *t = calloc (1, sizeof *t);
  accuracy_add (t, truth, pred, 2, 4);
  double raw, rebal, want = (151.0 + 141) / 2 / 151 * 100;
  accuracy_auc (t, &raw, &rebal);
  CHECK (near (raw, want) && near (rebal, want), "4 channels: %.12f %.12f, "
         "expected %.12f", raw, rebal, want);
  free (t);
}

int
main (void)
{
  test_bins ();
  test_four_errors ();
  test_thresholds ();
  test_rebalanced ();
  test_gray ();
  test_identical_and_empty ();
  test_merge ();
  test_stride ();
  return test_report ("test_accuracy");
}
