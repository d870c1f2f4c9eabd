/* hints.h - colour hints: strokes of colour that a user paints spread over
 * the region of similar lightness around them and stop at the photo's
 * edges; away from the strokes the prior (the network's colour) stays.
 *
 * The formulation is Levin, Lischinski and Weiss 2004 ("Colorization using
 * Optimization") in its symmetric, weighted-least-squares form, solved for
 * the change u = colour - prior of each chroma channel on a w x h grid:
 *
 *   E(u) = sum over 4-neighbour pairs r,s of  w_rs (u_r - u_s)^2
 *        + eps * sum_r u_r^2
 *        + lambda * sum_r c_r (u_r - t_r)^2
 *
 *   w_rs = exp (-(L_r - L_s)^2 / (2 sigma^2))   (lightness affinity)
 *   sigma = max (NN_HINTS_SIGMA_MIN, NN_HINTS_SIGMA_K * the median of
 *           |L_r - L_s| over all pairs)  (the photo's own texture: a
 *           step well above its typical one is an edge)
 *   eps = 1 / (NN_HINTS_REACH max (w, h))^2   (the pull back to the
 *                                     prior: a stroke's change fades over
 *                                     a few image sides where nothing
 *                                     stops it)
 *   lambda = NN_HINTS_LAMBDA, c_r in 0..1 the share of cell r the strokes
 *   cover (alpha-weighted), t_r the change they ask for there.
 *
 * Symmetric affinities (not Levin's row-normalised ones) make the system
 * (Laplacian + eps I + lambda C) u = lambda C t symmetric positive
 * definite, and strong edges (w_rs near 0) then really cut a region off:
 * a region without strokes keeps its prior, which the row-normalised form
 * does not give.
 *
 * Solver: Jacobi-preconditioned conjugate gradients, started from a
 * coarse-to-fine cascade (Galerkin coarsening by 2x2 aggregation: the
 * coarse energy is E restricted to block-constant u, so each coarse level
 * is the same kind of problem, 4x smaller, down to at most 16 cells a
 * side).  The coarsest level is solved to a relative residual of 1e-6,
 * each finer one from the level below's solution for at most
 * NN_HINTS_MAX_ITER iterations or a relative residual of 1e-7: the long
 * range (slow for plain CG, about an image side of iterations) is settled
 * on the small grids, the detail on the fine one, and the time is bounded
 * by a fixed number of passes over the grid.
 */
#ifndef NN_HINTS_H
#define NN_HINTS_H

#include "error.h"

#define NN_HINTS_SIGMA_MIN 2.0f  /* L units */
#define NN_HINTS_SIGMA_K 3.0f
#define NN_HINTS_LAMBDA 1000.0f
#define NN_HINTS_REACH 3.0f      /* eps = 1 / (REACH * max (w, h))^2 */
#define NN_HINTS_MAX_ITER 200
#define NN_HINTS_NEAR 0.3f       /* reach of a stroke's own colour (colorize.h) */

/* One painted pixel of a hints layer, in the image's pixel coordinates:
 * its a,b is what the result must have there, alpha (0..1] how strongly. */
typedef struct nn_hint {
  int x, y;
  float a, b, alpha;
} nn_hint;

typedef struct nn_hints_stats {
  int levels;          /* grids of the cascade, the finest included */
  int iterations;      /* CG iterations on the finest grid (a and b summed) */
  double residual;     /* the finest grid's final relative residual (max of a, b) */
} nn_hints_stats;

/* Solves the above for both channels.  L: w x h lightness (0..100);
 * cover: w x h, 0..1 (0 where there is no hint); target: two planes
 * (a, then b) of w x h, the change wanted where cover > 0 (ignored
 * elsewhere); u: two planes out.  With no cover anywhere u is all zero.
 * `stats` may be NULL.  NN_ERR_ARG for bad sizes or non-finite input,
 * NN_ERR_NOMEM. */
nn_code nn_hints_solve (const float *L, const float *cover,
                        const float *target, int w, int h, float *u,
                        nn_hints_stats *stats, nn_error *err);

/* The same with eps = 1 / (reach max (w, h))^2: a shorter reach keeps a
 * stroke's effect nearer to it (colorize.h uses NN_HINTS_NEAR for the
 * stroke's own colour).  NN_ERR_ARG for a reach that is not positive. */
nn_code nn_hints_solve_reach (const float *L, const float *cover,
                              const float *target, int w, int h, float reach,
                              float *u, nn_hints_stats *stats,
                              nn_error *err);

#endif
