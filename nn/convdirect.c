/* convdirect.c - the direct convolution of one input plane (see
 * convdirect.h). */
#include "ompcompat.h"
#include "simd.h"
#include <string.h>
#include "convdirect.h"

/* outputs per run, summed in registers (4 AVX-512 vectors) */
#define CHUNK 64
/* output rows per block of work */
#define ROWS 4

typedef struct direct_geom {
  int s;          /* stride */
  size_t hq, wq;  /* each phase plane's rows and columns */
} direct_geom;

int
nn_convdirect_ok (const conv2d_desc *d)
{
  return d->cin == 1 && d->kh <= 7 && d->kw <= 7
         && (d->stride == 1 || d->stride == 2);
}

/* Rows: every output row's last tap row; columns: whole chunks past the
 * last output, and the last tap column beyond. */
static direct_geom
direct_geom_of (const conv2d_desc *d)
{
  direct_geom g;
  g.s = d->stride;
  g.hq = (size_t) d->oh + (size_t) (d->kh - 1) / g.s;
  g.wq = ((size_t) d->ow + CHUNK - 1) / CHUNK * CHUNK
         + (size_t) (d->kw - 1) / g.s;
  return g;
}

size_t
nn_convdirect_workspace_floats (const conv2d_desc *d)
{
  const direct_geom g = direct_geom_of (d);
  return (size_t) g.s * g.s * g.hq * g.wq;
}

/* Image x (h x w) into its phase planes, zeros outside it. */
static void
direct_phases (const conv2d_desc *d, const direct_geom *g, const float *x,
               float *ph)
{
  const int np = g->s * g->s;
#pragma omp parallel for schedule(static) collapse(2)
  for (int p = 0; p < np; p++)
    for (size_t r = 0; r < g->hq; r++)
      {
        const int py = p / g->s, px = p % g->s;
        const long yy = (long) r * g->s + py - d->pad;
        float *dst = ph + ((size_t) p * g->hq + r) * g->wq;
        if (yy < 0 || yy >= d->h)
          {
            memset (dst, 0, g->wq * sizeof (float));
            continue;
          }
        const float *src = x + (size_t) yy * d->w;
        for (size_t c = 0; c < g->wq; c++)
          {
            const long xx = (long) c * g->s + px - d->pad;
            dst[c] = xx >= 0 && xx < d->w ? src[xx] : 0.0f;
          }
      }
}

/* 16 floats; GCC and clang lower it to the clone's widest vectors */
typedef float vec16 __attribute__ ((vector_size (64)));

/* Output row oy of one plane (kernel wk, bias b) into out; off[t]: tap
 * t's offset in the phase planes (direct_offsets). */
NN_VECTOR_CLONES static void
direct_row (const conv2d_desc *d, const direct_geom *g, const float *ph,
            const size_t *off, int oy, const float *wk, float b, int relu,
            float *out)
{
  const int taps = d->kh * d->kw;
  const float *row = ph + (size_t) oy * g->wq;
  for (int ox0 = 0; ox0 < d->ow; ox0 += CHUNK)
    {
      vec16 acc[CHUNK / 16];
      for (int j = 0; j < CHUNK / 16; j++)
        acc[j] = (vec16) { 0 };
      for (int t = 0; t < taps; t++)
        {
          const float *r = row + off[t] + ox0;
          const vec16 wv = (vec16) { 0 } + wk[t];
          for (int j = 0; j < CHUNK / 16; j++)
            {
              vec16 v;
              memcpy (&v, r + 16 * j, sizeof v);
              acc[j] += wv * v;
            }
        }
      float sum[CHUNK];
      memcpy (sum, acc, sizeof sum);
      const int m = d->ow - ox0 < CHUNK ? d->ow - ox0 : CHUNK;
      float *o = out + ox0;
      if (relu)
        for (int j = 0; j < m; j++)
          o[j] = sum[j] + b > 0.0f ? sum[j] + b : 0.0f;
      else
        for (int j = 0; j < m; j++)
          o[j] = sum[j] + b;
    }
}

/* Tap (ky, kx) reads phase (ky % s, kx % s) from row oy + ky / s,
 * column ox + kx / s: its offset from row oy, column 0 of phase 0. */
static void
direct_offsets (const conv2d_desc *d, const direct_geom *g, size_t *off)
{
  const int s = g->s;
  for (int ky = 0; ky < d->kh; ky++)
    for (int kx = 0; kx < d->kw; kx++)
      off[ky * d->kw + kx] = (((size_t) (ky % s) * s + kx % s) * g->hq
                              + (size_t) (ky / s)) * g->wq + (size_t) (kx / s);
}

void
nn_convdirect_forward (const conv2d_desc *d, const float *x,
                       const float *weight, const float *bias, int relu,
                       float *y, float *workspace)
{
  const direct_geom g = direct_geom_of (d);
  const size_t P = (size_t) d->oh * d->ow, K = (size_t) d->kh * d->kw;
  const int blocks = (d->oh + ROWS - 1) / ROWS;
  size_t off[49];
  direct_offsets (d, &g, off);
  for (int n = 0; n < d->n; n++)
    {
      direct_phases (d, &g, x + (size_t) n * d->h * d->w, workspace);
      float *yn = y + (size_t) n * d->cout * P;
#pragma omp parallel for schedule(static)
      for (int blk = 0; blk < blocks; blk++)
        for (int co = 0; co < d->cout; co++)
          {
            const float b = bias ? bias[co] : 0.0f;
            const int oy1 = (blk + 1) * ROWS < d->oh ? (blk + 1) * ROWS : d->oh;
            for (int oy = blk * ROWS; oy < oy1; oy++)
              direct_row (d, &g, workspace, off, oy, weight + co * K, b, relu,
                          yn + co * P + (size_t) oy * d->ow);
          }
    }
}

/* acc[t] += the products of output-gradient row dyr (ow floats) with tap
 * t's run from row (off[t] + r), in vectors; the columns past the last
 * whole vector into tail[t]. */
NN_VECTOR_CLONES static void
direct_dw_row (const float *dyr, const float *r, const size_t *off, int taps,
               int ow, vec16 *acc, double *tail)
{
  const int whole = ow / 16 * 16;
  for (int t = 0; t < taps; t++)
    {
      const float *pt = r + off[t];
      vec16 a = acc[t];
      for (int j = 0; j < whole; j += 16)
        {
          vec16 x, y;
          memcpy (&x, dyr + j, sizeof x);
          memcpy (&y, pt + j, sizeof y);
          a += x * y;
        }
      acc[t] = a;
      for (int j = whole; j < ow; j++)
        tail[t] += (double) dyr[j] * pt[j];
    }
}

void
nn_convdirect_backward_weights (const conv2d_desc *d, const float *x,
                                const float *dy, float *dweight,
                                float *workspace)
{
  const direct_geom g = direct_geom_of (d);
  const size_t P = (size_t) d->oh * d->ow;
  const int K = d->kh * d->kw;
  size_t off[49];
  direct_offsets (d, &g, off);
  for (int n = 0; n < d->n; n++)
    {
      direct_phases (d, &g, x + (size_t) n * d->h * d->w, workspace);
#pragma omp parallel for schedule(static)
      for (int co = 0; co < d->cout; co++)
        {
          const float *dyc = dy + ((size_t) n * d->cout + co) * P;
          vec16 acc[49];
          double tail[49];
          for (int t = 0; t < K; t++)
            {
              acc[t] = (vec16) { 0 };
              tail[t] = 0.0;
            }
          for (int oy = 0; oy < d->oh; oy++)
            direct_dw_row (dyc + (size_t) oy * d->ow,
                           workspace + (size_t) oy * g.wq, off, K, d->ow, acc,
                           tail);
          for (int t = 0; t < K; t++)
            {
              float lanes[16];
              memcpy (lanes, &acc[t], sizeof lanes);
              double sum = tail[t];
              for (int i = 0; i < 16; i++)
                sum += lanes[i];
              dweight[(size_t) co * K + t] += (float) sum;
            }
        }
    }
}
