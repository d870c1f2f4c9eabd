/* accuracy.c - colour-placement accuracy (see accuracy.h). */
#include <math.h>
#include "accuracy.h"

/* The error step of e: ceil (e), or ACCURACY_T_MAX + 1 above the last
 * threshold (and for NaN). */
static int
accuracy_step (double e)
{
  if (!(e <= ACCURACY_T_MAX))
    return ACCURACY_T_MAX + 1;
  return (int) ceil (e);
}

void
accuracy_add (accuracy_table *t, const float *truth, const float *pred,
              size_t n, int ch)
{
  for (size_t i = 0; i < n; i++)
    {
      float a = truth[i * ch + 1], b = truth[i * ch + 2];
      double da = a, db = b;
      if (pred)
        {
          da -= pred[i * ch + 1];
          db -= pred[i * ch + 2];
        }
      int bin = accuracy_ab_bin (a) * ACCURACY_AB_BINS + accuracy_ab_bin (b);
      t->count[bin][accuracy_step (sqrt (da * da + db * db))]++;
    }
}

void
accuracy_merge (accuracy_table *dst, const accuracy_table *src)
{
  for (int bin = 0; bin < ACCURACY_BINS; bin++)
    for (int k = 0; k < ACCURACY_STEPS; k++)
      dst->count[bin][k] += src->count[bin][k];
}

void
accuracy_auc (const accuracy_table *t, double *raw, double *rebal)
{
  const int n_t = ACCURACY_T_MAX + 1; /* thresholds 0..150 */
  int64_t all_within = 0, all_pixels = 0;
  double bin_sum = 0.0;
  int occupied = 0;
  for (int bin = 0; bin < ACCURACY_BINS; bin++)
    {
      /* within: pixel-thresholds pairs with e <= t */
      int64_t within = 0, pixels = 0;
      for (int k = 0; k < ACCURACY_STEPS; k++)
        {
          pixels += t->count[bin][k];
          if (k <= ACCURACY_T_MAX)
            within += t->count[bin][k] * (n_t - k);
        }
      if (!pixels)
        continue;
      occupied++;
      bin_sum += (double) within / ((double) n_t * pixels);
      all_within += within;
      all_pixels += pixels;
    }
  *raw = all_pixels ? 100.0 * all_within / ((double) n_t * all_pixels) : NAN;
  *rebal = occupied ? 100.0 * bin_sum / occupied : NAN;
}
