/* hints.c - the colour-hint solver (see hints.h for the energy and the
 * method).
 *
 * Every level of the cascade is a graph (the finest: the grid's cells
 * and their 4-neighbour pairs) holding the system's coefficients:
 *   adjacency in CSR (row[i] .. row[i+1] into col[], wgt[]): the affinity
 *     w_ij of each neighbour, both directions stored
 *   d[i]     eps * (fine cells in i) + lambda * (cover summed over them)
 *   rhs[c][i]  lambda * (cover * target summed over them), channel c
 * so that (A u)_i = d_i u_i + sum over neighbours j of w_ij (u_i - u_j).
 *
 * Coarsening by aggregation along strong affinities (a neighbour is
 * strong when its w_ij is at least AGG_STRENGTH times the cell's largest
 * one): a coarse node is a cell with its strong neighbours, so an
 * aggregate never straddles an edge of the photo.  (Fixed 2x2 blocks did,
 * and then carried colour over edges that the fine level could not take
 * back: the energy barely sees a region that only eps holds.)  The coarse
 * graph is the energy restricted to aggregate-constant u: affinities
 * between two aggregates add up, d and rhs add up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "hints.h"

#define MAX_LEVELS 24
#define COARSEST_NODES 64
#define COARSEST_MAX_ITER 2000
#define COARSEST_TOL 1e-10
#define FINE_TOL 1e-7
#define AGG_STRENGTH 0.25
#define HINTS_MAX_SIDE (1 << 14)

/* The solver's precision: float stalls at a relative residual near 1e-6
 * (the hint cells' lambda dwarfs the rest), too coarse for the weakly
 * coupled cells. */
typedef double real;

typedef struct level {
  int n, nnz;
  int *row, *col;
  int *agg;        /* the coarse node of each node (absent on the coarsest) */
  real *wgt, *d, *rhs[2], *u[2];
} level;

static void
level_free (level *l)
{
  free (l->row);
  free (l->col);
  free (l->agg);
  free (l->wgt);
  free (l->d);
  memset (l, 0, sizeof *l);
}

static int
level_alloc (level *l, int n, int nnz)
{
  l->n = n;
  l->nnz = nnz;
  l->row = calloc ((size_t) n + 1, sizeof *l->row);
  l->col = malloc ((size_t) (nnz ? nnz : 1) * sizeof *l->col);
  l->agg = malloc ((size_t) n * sizeof *l->agg);
  l->wgt = malloc ((size_t) (nnz ? nnz : 1) * sizeof *l->wgt);
  l->d = calloc ((size_t) n * 5, sizeof *l->d);
  if (!l->row || !l->col || !l->agg || !l->wgt || !l->d)
    return -1;
  l->rhs[0] = l->d + n;
  l->rhs[1] = l->d + 2 * (size_t) n;
  l->u[0] = l->d + 3 * (size_t) n;
  l->u[1] = l->d + 4 * (size_t) n;
  return 0;
}

/* sigma^2 of hints.h: (NN_HINTS_SIGMA_K * the median lightness step)^2,
 * at least NN_HINTS_SIGMA_MIN^2; the median from a histogram of steps in
 * 1/100 L units (steps of 100 and more count as 100). */
static double
affinity_scale (const float *L, int w, int h)
{
  enum { BINS = 10001 };
  long *hist = calloc (BINS, sizeof *hist), pairs = 0;
  double smin = (double) NN_HINTS_SIGMA_MIN * NN_HINTS_SIGMA_MIN;
  if (!hist)
    return smin;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        size_t i = (size_t) y * w + x;
        for (int k = 0; k < 2; k++)
          {
            size_t j = k ? i + w : i + 1;
            if (k ? y + 1 >= h : x + 1 >= w)
              continue;
            double dl = fabs ((double) L[j] - L[i]) * 100.0;
            hist[dl < BINS - 1 ? (int) dl : BINS - 1]++;
            pairs++;
          }
      }
  long seen = 0;
  int med = 0;
  while (med < BINS - 1 && (seen += hist[med]) * 2 < pairs)
    med++;
  free (hist);
  double s = NN_HINTS_SIGMA_K * (med + 0.5) * 0.01;
  return s * s > smin ? s * s : smin;
}

/* The finest level from the inputs (see hints.h). */
static int
level_fine (level *l, const float *L, const float *cover, const float *target,
            int w, int h, double reach)
{
  int n = w * h;
  if (level_alloc (l, n, 2 * ((w - 1) * h + w * (h - 1))))
    return -1;
  double s2 = affinity_scale (L, w, h);
  double side = w > h ? w : h;
  double eps = 1.0 / (reach * side * reach * side);
  int k = 0;
  for (int i = 0; i < n; i++)
    {
      int x = i % w, y = i / w;
      int nb[4] = { y > 0 ? i - w : -1, x > 0 ? i - 1 : -1,
                    x + 1 < w ? i + 1 : -1, y + 1 < h ? i + w : -1 };
      l->row[i] = k;
      for (int j = 0; j < 4; j++)
        if (nb[j] >= 0)
          {
            double dl = L[nb[j]] - L[i];
            l->col[k] = nb[j];
            l->wgt[k++] = exp (-dl * dl / (2.0 * s2));
          }
      double c = cover[i] > 0.0f ? (cover[i] < 1.0f ? cover[i] : 1.0) : 0.0;
      l->d[i] = eps + NN_HINTS_LAMBDA * c;
      for (int ch = 0; ch < 2; ch++)
        l->rhs[ch][i] = c > 0.0 ? NN_HINTS_LAMBDA * c
                                  * target[(size_t) ch * n + i] : 0.0;
    }
  l->row[n] = k;
  return 0;
}

/* Fills f->agg; returns the number of aggregates. */
static int
aggregate (level *f)
{
  int n = f->n, na = 0;
  for (int i = 0; i < n; i++)
    f->agg[i] = -1;
  /* Pass 1: a cell whose strong neighbours are all free founds an
   * aggregate with them. */
  for (int i = 0; i < n; i++)
    {
      if (f->agg[i] >= 0)
        continue;
      real big = 0.0;
      for (int k = f->row[i]; k < f->row[i + 1]; k++)
        big = f->wgt[k] > big ? f->wgt[k] : big;
      int free_ = 1;
      for (int k = f->row[i]; k < f->row[i + 1]; k++)
        if (f->wgt[k] >= AGG_STRENGTH * big && f->agg[f->col[k]] >= 0)
          free_ = 0;
      if (!free_)
        continue;
      f->agg[i] = na;
      for (int k = f->row[i]; k < f->row[i + 1]; k++)
        if (big > 0.0 && f->wgt[k] >= AGG_STRENGTH * big)
          f->agg[f->col[k]] = na;
      na++;
    }
  /* Pass 2: the rest join their strongest aggregated neighbour, or stay
   * alone. */
  for (int i = 0; i < n; i++)
    {
      if (f->agg[i] >= 0)
        continue;
      int best = -1;
      real bw = 0.0;
      for (int k = f->row[i]; k < f->row[i + 1]; k++)
        if (f->agg[f->col[k]] >= 0 && f->wgt[k] > bw)
          bw = f->wgt[k], best = f->agg[f->col[k]];
      f->agg[i] = best >= 0 ? best : na++;
    }
  return na;
}

/* The coarse level c of f (f->agg filled, na aggregates). */
static int
level_coarsen (const level *f, level *c, int na)
{
  int *count = calloc ((size_t) na + 1, sizeof *count);
  int *members = malloc ((size_t) f->n * sizeof *members);
  int *mark = malloc ((size_t) na * sizeof *mark);
  int rc = -1;
  if (!count || !members || !mark || level_alloc (c, na, f->nnz))
    goto out;
  for (int i = 0; i < f->n; i++)
    count[f->agg[i] + 1]++;
  for (int a = 0; a < na; a++)
    count[a + 1] += count[a];
  for (int i = 0; i < f->n; i++)
    members[count[f->agg[i]]++] = i;
  for (int a = na; a > 0; a--)
    count[a] = count[a - 1];
  count[0] = 0;
  for (int a = 0; a < na; a++)
    mark[a] = -1;
  int k = 0;
  for (int a = 0; a < na; a++)
    {
      c->row[a] = k;
      for (int m = count[a]; m < count[a + 1]; m++)
        {
          int i = members[m];
          c->d[a] += f->d[i];
          c->rhs[0][a] += f->rhs[0][i];
          c->rhs[1][a] += f->rhs[1][i];
          for (int e = f->row[i]; e < f->row[i + 1]; e++)
            {
              int b = f->agg[f->col[e]];
              if (b == a)
                continue;
              if (mark[b] < c->row[a])
                {
                  mark[b] = k;
                  c->col[k] = b;
                  c->wgt[k++] = 0.0;
                }
              c->wgt[mark[b]] += f->wgt[e];
            }
        }
    }
  c->row[na] = k;
  c->nnz = k;
  rc = 0;
out:
  free (count);
  free (members);
  free (mark);
  return rc;
}

static void
matvec (const level *l, const real *u, real *out)
{
#pragma omp parallel for schedule(static) if (l->n > (1 << 16))
  for (int i = 0; i < l->n; i++)
    {
      real v = u[i], s = l->d[i] * v;
      for (int k = l->row[i]; k < l->row[i + 1]; k++)
        s += l->wgt[k] * (v - u[l->col[k]]);
      out[i] = s;
    }
}

static double
dot (const real *a, const real *b, int n)
{
  double s = 0.0;
#pragma omp parallel for reduction(+:s) schedule(static) if (n > (1 << 16))
  for (int i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* The Jacobi preconditioner of l: 1 / the diagonal of A, into inv. */
static void
jacobi (const level *l, real *inv)
{
  for (int i = 0; i < l->n; i++)
    {
      real dg = l->d[i];
      for (int k = l->row[i]; k < l->row[i + 1]; k++)
        dg += l->wgt[k];
      inv[i] = 1.0 / dg;
    }
}

/* Jacobi-preconditioned CG on channel ch of l, from l->u[ch]; scratch
 * holds 5 planes of l->n, the last one jacobi ()'s.  Returns the
 * iterations done and the final relative residual in *res. */
static int
cg (const level *l, int ch, real *scratch, int max_iter, double tol,
    double *res)
{
  int n = l->n;
  real *r = scratch, *z = r + n, *p = z + n, *q = p + n, *inv = q + n;
  real *u = l->u[ch];
  const real *b = l->rhs[ch];
  double bb = dot (b, b, n);
  *res = 0.0;
  if (bb == 0.0)
    {
      memset (u, 0, (size_t) n * sizeof *u);
      return 0;
    }
  matvec (l, u, q);
  for (int i = 0; i < n; i++)
    {
      r[i] = b[i] - q[i];
      z[i] = r[i] * inv[i];
      p[i] = z[i];
    }
  double rz = dot (r, z, n);
  int it = 0;
  *res = sqrt (dot (r, r, n) / bb);
  while (it < max_iter && *res > tol)
    {
      matvec (l, p, q);
      double pq = dot (p, q, n);
      if (!(pq > 0.0))
        break;
      real alpha = rz / pq;
      for (int i = 0; i < n; i++)
        {
          u[i] += alpha * p[i];
          r[i] -= alpha * q[i];
          z[i] = r[i] * inv[i];
        }
      it++;
      *res = sqrt (dot (r, r, n) / bb);
      double rz1 = dot (r, z, n);
      real beta = rz1 / rz;
      rz = rz1;
      for (int i = 0; i < n; i++)
        p[i] = z[i] + beta * p[i];
    }
  return it;
}

static nn_code
check_inputs (const float *L, const float *cover, const float *target, int w,
              int h, const float *u, int *any, nn_error *err)
{
  if (!L || !cover || !target || !u)
    return nn_error_set (err, NN_ERR_ARG, "hints: a NULL buffer");
  if (w < 1 || h < 1 || w > HINTS_MAX_SIDE || h > HINTS_MAX_SIDE)
    return nn_error_set (err, NN_ERR_ARG, "hints: grid %dx%d: expected "
                         "sides of 1..%d", w, h, HINTS_MAX_SIDE);
  size_t n = (size_t) w * h;
  *any = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (!isfinite (L[i]) || !isfinite (cover[i]))
        return nn_error_set (err, NN_ERR_ARG, "hints: a non-finite lightness "
                             "or cover at cell (%d, %d)", (int) (i % w),
                             (int) (i / w));
      if (cover[i] > 0.0f)
        {
          if (!isfinite (target[i]) || !isfinite (target[n + i]))
            return nn_error_set (err, NN_ERR_ARG, "hints: a non-finite "
                                 "colour at cell (%d, %d)", (int) (i % w),
                                 (int) (i / w));
          *any = 1;
        }
    }
  return NN_OK;
}

/* Builds the cascade into lv (finest first); returns the number of
 * levels, 0 when out of memory. */
static int
build_levels (level *lv, const float *L, const float *cover,
              const float *target, int w, int h, double reach)
{
  if (level_fine (&lv[0], L, cover, target, w, h, reach))
    return 0;
  int nl = 1;
  while (nl < MAX_LEVELS && lv[nl - 1].n > COARSEST_NODES)
    {
      int na = aggregate (&lv[nl - 1]);
      if (na > lv[nl - 1].n * 9 / 10)
        break;
      if (level_coarsen (&lv[nl - 1], &lv[nl], na))
        return 0;
      nl++;
    }
  return nl;
}

nn_code
nn_hints_solve (const float *L, const float *cover, const float *target,
                int w, int h, float *u, nn_hints_stats *stats, nn_error *err)
{
  return nn_hints_solve_reach (L, cover, target, w, h, NN_HINTS_REACH, u,
                               stats, err);
}

nn_code
nn_hints_solve_reach (const float *L, const float *cover, const float *target,
                      int w, int h, float reach, float *u,
                      nn_hints_stats *stats, nn_error *err)
{
  int any = 0;
  if (!(reach > 0.0f && isfinite (reach)))
    return nn_error_set (err, NN_ERR_ARG, "hints: reach %g is not a "
                         "positive number", reach);
  nn_code rc = check_inputs (L, cover, target, w, h, u, &any, err);
  if (rc != NN_OK)
    return rc;
  size_t n = (size_t) w * h;
  if (stats)
    memset (stats, 0, sizeof *stats);
  if (!any)
    {
      memset (u, 0, 2 * n * sizeof *u);
      return NN_OK;
    }
  level lv[MAX_LEVELS];
  memset (lv, 0, sizeof lv);
  real *scratch = malloc (n * 5 * sizeof *scratch);
  int nl = scratch ? build_levels (lv, L, cover, target, w, h, reach) : 0;
  if (!nl)
    {
      for (int i = 0; i < MAX_LEVELS; i++)
        level_free (&lv[i]);
      free (scratch);
      return nn_error_set (err, NN_ERR_NOMEM, "hints: out of memory for a "
                           "%dx%d grid", w, h);
    }
  double res[2] = { 0.0, 0.0 };
  int iters = 0;
  for (int i = nl - 1; i >= 0; i--)
    {
      if (i < nl - 1)
        for (int ch = 0; ch < 2; ch++)
          for (int j = 0; j < lv[i].n; j++)
            lv[i].u[ch][j] = lv[i + 1].u[ch][lv[i].agg[j]];
      int coarsest = i == nl - 1;
      iters = 0;
      jacobi (&lv[i], scratch + 4 * (size_t) lv[i].n);
      for (int ch = 0; ch < 2; ch++)
        iters += cg (&lv[i], ch, scratch,
                     coarsest ? COARSEST_MAX_ITER : NN_HINTS_MAX_ITER,
                     coarsest ? COARSEST_TOL : FINE_TOL, &res[ch]);
    }
  for (size_t i = 0; i < n; i++)
    {
      u[i] = (float) lv[0].u[0][i];
      u[n + i] = (float) lv[0].u[1][i];
    }
  if (stats)
    {
      stats->levels = nl;
      stats->iterations = iters;
      stats->residual = res[0] > res[1] ? res[0] : res[1];
    }
  for (int i = 0; i < nl; i++)
    level_free (&lv[i]);
  free (scratch);
  return NN_OK;
}
