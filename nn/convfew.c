/* convfew.c - 3x3 convolution with few output channels, directly (see
 * convfew.h). */
#include "ompcompat.h"
#include "simd.h"
#include <string.h>
#include "convfew.h"

/* outputs per run, summed in registers (4 vectors of 16) */
#define CHUNK 64
#define ROWS NN_CONVFEW_ROWS

/* 16 floats; GCC and clang lower it to the clone's widest vectors */
typedef float vec16 __attribute__ ((vector_size (64)));

typedef struct few_geom {
  int bands;     /* bands of ROWS output rows per image */
  size_t items;  /* n bands */
  size_t wp;     /* a padded row: w rounded up to CHUNK, plus 2 */
  size_t plane;  /* a padded band: (ROWS + 2) wp */
} few_geom;

int
nn_convfew_ok (const conv2d_desc *d)
{
  return d->kh == 3 && d->kw == 3 && d->stride == 1 && d->pad == 1
         && d->cout >= 1 && d->cout <= NN_CONVFEW_MAX_COUT;
}

static few_geom
few_geom_of (const conv2d_desc *d)
{
  few_geom g;
  g.bands = (d->h + ROWS - 1) / ROWS;
  g.items = (size_t) d->n * g.bands;
  g.wp = ((size_t) d->w + CHUNK - 1) / CHUNK * CHUNK + 2;
  g.plane = (ROWS + 2) * g.wp;
  return g;
}

/* One thread's floats: the weight gradient's doubles (when asked), the
 * input band and the output-gradient band, each a multiple of 16. */
static size_t
few_thread_floats (const conv2d_desc *d, const few_geom *g, int backward)
{
  const size_t sums = backward ? (2 * 9 * (size_t) d->cout * d->cin + 15)
                                     / 16 * 16 : 0;
  const size_t planes = (size_t) d->cin + (backward ? (size_t) d->cout : 0);
  return sums + (planes * g->plane + 15) / 16 * 16;
}

size_t
nn_convfew_forward_floats (const conv2d_desc *d)
{
  const few_geom g = few_geom_of (d);
  return (size_t) omp_get_max_threads () * few_thread_floats (d, &g, 0);
}

size_t
nn_convfew_workspace_floats (const conv2d_desc *d)
{
  const few_geom g = few_geom_of (d);
  return (size_t) omp_get_max_threads () * few_thread_floats (d, &g, 1);
}

/* band[ch][r][1 + xx] = plane ch of src (chs planes of h x w), row y0 - 1
 * + r, column xx; zeros around and past the image. */
static void
few_pad (const float *src, int chs, int h, int w, int y0, const few_geom *g,
         float *band)
{
  for (int ch = 0; ch < chs; ch++)
    for (int r = 0; r < ROWS + 2; r++)
      {
        float *dst = band + (size_t) ch * g->plane + (size_t) r * g->wp;
        const int yy = y0 - 1 + r;
        if (yy < 0 || yy >= h)
          {
            memset (dst, 0, g->wp * sizeof *dst);
            continue;
          }
        dst[0] = 0.0f;
        memcpy (dst + 1, src + ((size_t) ch * h + yy) * w,
                (size_t) w * sizeof *dst);
        memset (dst + 1 + w, 0, (g->wp - 1 - (size_t) w) * sizeof *dst);
      }
}

static inline __attribute__ ((always_inline)) void
few_load4 (const float *p, vec16 v[4])
{
  for (int j = 0; j < 4; j++)
    memcpy (&v[j], p + 16 * j, sizeof v[j]);
}

/* acc[o] (O outputs, O a constant where it is inlined) = the products of
 * output row r's run from column x0 of the input band xb, over the cin
 * channels, ky, kx. */
static inline __attribute__ ((always_inline)) void
few_fwd_run (int O, int cin, const float *xb, const few_geom *g, int r,
             int x0, const float *weight, vec16 acc[][4])
{
  for (int o = 0; o < O; o++)
    for (int j = 0; j < 4; j++)
      acc[o][j] = (vec16) { 0 };
  for (int c = 0; c < cin; c++)
    for (int ky = 0; ky < 3; ky++)
      {
        const float *row = xb + (size_t) c * g->plane
                           + (size_t) (r + ky) * g->wp + x0;
        for (int kx = 0; kx < 3; kx++)
          {
            vec16 v[4];
            few_load4 (row + kx, v);
            for (int o = 0; o < O; o++)
              {
                const float wv = weight[((size_t) o * cin + c) * 9 + ky * 3 + kx];
                for (int j = 0; j < 4; j++)
                  acc[o][j] += wv * v[j];
              }
          }
      }
}

/* out[0 .. m - 1] = the run's sums plus b, then the ReLU when relu. */
static inline __attribute__ ((always_inline)) void
few_store (const vec16 acc[4], int m, float b, int relu, float *out)
{
  float s[CHUNK];
  memcpy (s, acc, sizeof s);
  for (int j = 0; j < m; j++)
    {
      const float v = s[j] + b;
      out[j] = relu && !(v > 0.0f) ? 0.0f : v;
    }
}

NN_VECTOR_CLONES static void
few_forward_item (const conv2d_desc *d, const few_geom *g, const float *x,
                  const float *weight, const float *bias, int relu, float *y,
                  float *xb, size_t item)
{
  const size_t i = item / (size_t) g->bands;
  const int y0 = (int) (item % (size_t) g->bands) * ROWS;
  const size_t P = (size_t) d->h * d->w;
  few_pad (x + i * d->cin * P, d->cin, d->h, d->w, y0, g, xb);
  for (int r = 0; r < ROWS && y0 + r < d->h; r++)
    for (int x0 = 0; x0 < d->w; x0 += CHUNK)
      {
        vec16 acc[NN_CONVFEW_MAX_COUT][4];
        switch (d->cout)
          {
          case 1:
            few_fwd_run (1, d->cin, xb, g, r, x0, weight, acc);
            break;
          case 2:
            few_fwd_run (2, d->cin, xb, g, r, x0, weight, acc);
            break;
          case 3:
            few_fwd_run (3, d->cin, xb, g, r, x0, weight, acc);
            break;
          default:
            few_fwd_run (4, d->cin, xb, g, r, x0, weight, acc);
            break;
          }
        const int m = d->w - x0 < CHUNK ? d->w - x0 : CHUNK;
        for (int o = 0; o < d->cout; o++)
          few_store (acc[o], m, bias ? bias[o] : 0.0f, relu,
                     y + (i * d->cout + o) * P + (size_t) (y0 + r) * d->w
                         + x0);
      }
}

void
nn_convfew_forward (const conv2d_desc *d, const float *x, const float *weight,
                    const float *bias, int relu, float *y, float *workspace)
{
  const few_geom g = few_geom_of (d);
  const size_t per = few_thread_floats (d, &g, 0);
#pragma omp parallel for schedule(static)
  for (long it = 0; it < (long) g.items; it++)
    few_forward_item (d, &g, x, weight, bias, relu, y,
                      workspace + (size_t) omp_get_thread_num () * per,
                      (size_t) it);
}

/* acc[cc] (CC input channels c0 .. c0 + CC - 1, CC a constant where it is
 * inlined) = the input gradient of row r's run from column x0: the
 * rotated kernels over the padded output-gradient band db. */
static inline __attribute__ ((always_inline)) void
few_dx_run (int CC, const conv2d_desc *d, const float *db, const few_geom *g,
            int r, int x0, const float *weight, int c0, vec16 acc[][4])
{
  for (int cc = 0; cc < CC; cc++)
    for (int j = 0; j < 4; j++)
      acc[cc][j] = (vec16) { 0 };
  for (int o = 0; o < d->cout; o++)
    for (int ky = 0; ky < 3; ky++)
      {
        const float *row = db + (size_t) o * g->plane
                           + (size_t) (r + 2 - ky) * g->wp + x0 + 2;
        for (int kx = 0; kx < 3; kx++)
          {
            vec16 v[4];
            few_load4 (row - kx, v);
            for (int cc = 0; cc < CC; cc++)
              {
                const float wv = weight[((size_t) o * d->cin + c0 + cc) * 9
                                        + ky * 3 + kx];
                for (int j = 0; j < 4; j++)
                  acc[cc][j] += wv * v[j];
              }
          }
      }
}

/* dx's rows of one band, four input channels at a time. */
static inline __attribute__ ((always_inline)) void
few_dx_band (const conv2d_desc *d, const few_geom *g, const float *weight,
             const float *db, size_t i, int y0, float *dx)
{
  const size_t P = (size_t) d->h * d->w;
  for (int r = 0; r < ROWS && y0 + r < d->h; r++)
    for (int x0 = 0; x0 < d->w; x0 += CHUNK)
      {
        const int m = d->w - x0 < CHUNK ? d->w - x0 : CHUNK;
        for (int c0 = 0; c0 < d->cin;)
          {
            vec16 acc[4][4];
            const int cc = d->cin - c0 >= 4 ? 4 : 1;
            if (cc == 4)
              few_dx_run (4, d, db, g, r, x0, weight, c0, acc);
            else
              few_dx_run (1, d, db, g, r, x0, weight, c0, acc);
            for (int k = 0; k < cc; k++)
              few_store (acc[k], m, 0.0f, 0,
                         dx + (i * d->cin + c0 + k) * P
                             + (size_t) (y0 + r) * d->w + x0);
            c0 += cc;
          }
      }
}

/* sums[(o cin + c) 9 + t] += the weight gradient's share of one band (O
 * output channels, a constant where it is inlined): per input channel,
 * O x 9 vectors of sums of dy times the shifted input, their lanes added
 * in order into the doubles. */
static inline __attribute__ ((always_inline)) void
few_dw_band (int O, const conv2d_desc *d, const few_geom *g, const float *xb,
             const float *db, int y0, double *sums)
{
  for (int c = 0; c < d->cin; c++)
    {
      vec16 acc[NN_CONVFEW_MAX_COUT][9];
      for (int o = 0; o < O; o++)
        for (int t = 0; t < 9; t++)
          acc[o][t] = (vec16) { 0 };
      for (int r = 0; r < ROWS && y0 + r < d->h; r++)
        for (int x0 = 0; x0 < d->w; x0 += CHUNK)
          {
            vec16 dv[NN_CONVFEW_MAX_COUT][4];
            for (int o = 0; o < O; o++)
              few_load4 (db + (size_t) o * g->plane
                             + (size_t) (r + 1) * g->wp + x0 + 1, dv[o]);
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++)
                {
                  vec16 v[4];
                  few_load4 (xb + (size_t) c * g->plane
                                 + (size_t) (r + ky) * g->wp + x0 + kx, v);
                  for (int o = 0; o < O; o++)
                    for (int j = 0; j < 4; j++)
                      acc[o][ky * 3 + kx] += dv[o][j] * v[j];
                }
          }
      for (int o = 0; o < O; o++)
        for (int t = 0; t < 9; t++)
          {
            float s[16];
            memcpy (s, &acc[o][t], sizeof s);
            double sum = 0.0;
            for (int l = 0; l < 16; l++)
              sum += s[l];
            sums[((size_t) o * d->cin + c) * 9 + t] += sum;
          }
    }
}

NN_VECTOR_CLONES static void
few_backward_item (const conv2d_desc *d, const few_geom *g, const float *x,
                   const float *weight, const float *dy, float *dx,
                   double *sums, float *xb, size_t item)
{
  const size_t i = item / (size_t) g->bands;
  const int y0 = (int) (item % (size_t) g->bands) * ROWS;
  const size_t P = (size_t) d->h * d->w;
  float *db = xb + (size_t) d->cin * g->plane;
  few_pad (dy + i * d->cout * P, d->cout, d->h, d->w, y0, g, db);
  if (dx)
    few_dx_band (d, g, weight, db, i, y0, dx);
  few_pad (x + i * d->cin * P, d->cin, d->h, d->w, y0, g, xb);
  switch (d->cout)
    {
    case 1:
      few_dw_band (1, d, g, xb, db, y0, sums);
      break;
    case 2:
      few_dw_band (2, d, g, xb, db, y0, sums);
      break;
    case 3:
      few_dw_band (3, d, g, xb, db, y0, sums);
      break;
    default:
      few_dw_band (4, d, g, xb, db, y0, sums);
      break;
    }
}

void
nn_convfew_backward (const conv2d_desc *d, const float *x, const float *weight,
                     const float *dy, float *dx, float *dweight,
                     float *workspace)
{
  const few_geom g = few_geom_of (d);
  const size_t per = few_thread_floats (d, &g, 1);
  const size_t nw = 9 * (size_t) d->cout * d->cin;
  const size_t sums_floats = (2 * nw + 15) / 16 * 16;
  const int nt = omp_get_max_threads ();
  for (int th = 0; th < nt; th++)
    memset (workspace + (size_t) th * per, 0, nw * sizeof (double));
  /* the static schedule gives each thread the same items from run to
   * run, so its sums are the same bits */
#pragma omp parallel for schedule(static)
  for (long it = 0; it < (long) g.items; it++)
    {
      float *mine = workspace + (size_t) omp_get_thread_num () * per;
      few_backward_item (d, &g, x, weight, dy, dx, (double *) mine,
                         mine + sums_floats, (size_t) it);
    }
  for (size_t k = 0; k < nw; k++)
    {
      double s = 0.0;
      for (int th = 0; th < nt; th++)
        s += ((const double *) (workspace + (size_t) th * per))[k];
      dweight[k] += (float) s;
    }
}
