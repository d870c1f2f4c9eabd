/* metrics.c - the figures of `eval` (see metrics.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "image.h"

double
metrics_psnr (const unsigned char *a, const unsigned char *b, size_t n)
{
  double se = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = (double) a[i] - b[i];
      se += d * d;
    }
  if (se == 0.0)
    return INFINITY;
  return 10.0 * log10 (255.0 * 255.0 / (se / n));
}

double
metrics_colorfulness (const unsigned char *rgb, size_t n)
{
  if (!n)
    return 0.0;
  double s_rg = 0, s_yb = 0, ss_rg = 0, ss_yb = 0;
  for (size_t i = 0; i < n; i++)
    {
      double r = rgb[i * 3], g = rgb[i * 3 + 1], b = rgb[i * 3 + 2];
      double rg = r - g, yb = 0.5 * (r + g) - b;
      s_rg += rg;
      s_yb += yb;
      ss_rg += rg * rg;
      ss_yb += yb * yb;
    }
  double m_rg = s_rg / n, m_yb = s_yb / n;
  double v_rg = ss_rg / n - m_rg * m_rg, v_yb = ss_yb / n - m_yb * m_yb;
  if (v_rg < 0)
    v_rg = 0;
  if (v_yb < 0)
    v_yb = 0;
  return sqrt (v_rg + v_yb) + 0.3 * sqrt (m_rg * m_rg + m_yb * m_yb);
}

double
metrics_local_gain (const float *t, const float *o, size_t n, int ch)
{
  if (!n)
    return 0.0;
  double ta = 0, tb = 0, oa = 0, ob = 0;
  for (size_t i = 0; i < n; i++)
    {
      ta += t[i * ch + 1];
      tb += t[i * ch + 2];
      oa += o[i * ch + 1];
      ob += o[i * ch + 2];
    }
  ta /= n;
  tb /= n;
  oa /= n;
  ob /= n;
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    {
      double da = t[i * ch + 1] - ta, db = t[i * ch + 2] - tb;
      double ea = o[i * ch + 1] - oa, eb = o[i * ch + 2] - ob;
      num += hypot (da - ea, db - eb);
      den += hypot (da, db);
    }
  if (den / n < 1e-6)
    return 0.0;
  return 1.0 - num / den;
}

void
evaluate_accuracy (const eval_accuracy *acc, eval_figures *f)
{
  accuracy_auc (&acc->pred, &f->auc_raw, &f->auc_rebal);
  accuracy_auc (&acc->gray, &f->gray_auc_raw, &f->gray_auc_rebal);
}

/* The image's auc figures into f, its tables added to acc (when
 * non-NULL).  Returns -1 out of memory. */
static int
evaluate_image_accuracy (const float *truth, const float *out, size_t n,
                         eval_figures *f, eval_accuracy *acc)
{
  eval_accuracy *im = calloc (1, sizeof *im);
  if (!im)
    return -1;
  accuracy_add (&im->pred, truth, out, n, 3);
  accuracy_add (&im->gray, truth, NULL, n, 3);
  evaluate_accuracy (im, f);
  if (acc)
    {
      accuracy_merge (&acc->pred, &im->pred);
      accuracy_merge (&acc->gray, &im->gray);
    }
  free (im);
  return 0;
}

nn_code
evaluate_image (nn_model *m, const unsigned char *rgb, int w, int h,
                const colorize_options *opt, eval_figures *f,
                unsigned char *out_rgb, unsigned char *gray_rgb,
                eval_accuracy *acc, nn_error *err)
{
  size_t n = (size_t) w * h;
  float *truth = malloc (n * 3 * sizeof *truth);
  float *lab = malloc (n * 3 * sizeof *lab);
  unsigned char *buf = malloc (n * 3);
  float *small = NULL;
  nn_code rc = NN_OK;
  if (!truth || !lab || !buf)
    {
      rc = nn_error_set (err, NN_ERR_NOMEM, "out of memory for %dx%d", w, h);
      goto done;
    }
  image_convert (rgb, "R'G'B' u8", truth, "CIE Lab float", (long) n);
  for (size_t i = 0; i < n; i++)
    {
      lab[i * 3] = truth[i * 3];
      lab[i * 3 + 1] = 0.0f;
      lab[i * 3 + 2] = 0.0f;
    }
  image_lab_to_rgb_u8 (lab, 3, buf, (long) n);
  f->gray_psnr = metrics_psnr (rgb, buf, n * 3);
  if (gray_rgb)
    memcpy (gray_rgb, buf, n * 3);

  rc = nn_colorize_image (m, lab, w, h, 3, opt, err);
  if (rc != NN_OK)
    goto done;
  image_lab_to_rgb_u8 (lab, 3, buf, (long) n);
  f->psnr = metrics_psnr (rgb, buf, n * 3);
  f->colorfulness = metrics_colorfulness (buf, n);
  f->truth_colorfulness = metrics_colorfulness (rgb, n);
  f->local_gain = metrics_local_gain (truth, lab, n, 3);
  if (evaluate_image_accuracy (truth, lab, n, f, acc))
    {
      rc = nn_error_set (err, NN_ERR_NOMEM, "out of memory for the accuracy "
                         "tables");
      goto done;
    }
  if (out_rgb)
    memcpy (out_rgb, buf, n * 3);

  /* The training loss at the working size. */
  int oh, ow, sw, sh, S = opt && opt->working_size
                              ? opt->working_size
                              : nn_colorize_default_working_size (m);
  /* the class head's prediction decoded as nn_colorize_image did */
  float t = opt && opt->temperature > 0.0f ? opt->temperature
                                           : nn_colorize_default_temperature (m);
  const float *raw = m ? nn_model_ab (m, t, NULL, &oh, &ow, NULL) : NULL;
  f->loss = NAN;
  if (raw && nn_colorize_working_dims (w, h, S, &sw, &sh, NULL, NULL, NULL) == NN_OK
      && (small = malloc ((size_t) sw * sh * 2 * sizeof *small)))
    {
      int ok = 1;
      for (int c = 0; c < 2 && ok; c++)
        ok = nn_colorize_resample_region (truth + 1 + c, w, h, 3, 0, 0, w, h,
                                       small + (size_t) c * sw * sh, sw, sh, 1,
                                       NULL) == NN_OK;
      if (ok)
        {
          double se = 0.0;
          for (int c = 0; c < 2; c++)
            for (int y = 0; y < sh; y++)
              for (int x = 0; x < sw; x++)
                {
                  double d = raw[((size_t) c * oh + y) * ow + x]
                             - small[((size_t) c * sh + y) * sw + x]
                               / m->scaling.ab_scale;
                  se += d * d;
                }
          f->loss = se / (2.0 * sw * sh);
        }
    }
done:
  free (truth);
  free (lab);
  free (buf);
  free (small);
  return rc;
}
