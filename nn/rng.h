/* rng.h - a small seeded generator (xoshiro256**, seeded by splitmix64).
 * Its whole state is the struct: copy it to checkpoint, restore to resume. */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

typedef struct nn_rng {
  uint64_t s[4];
} nn_rng;

void nn_rng_seed (nn_rng *r, uint64_t seed);
uint64_t nn_rng_next (nn_rng *r);
/* Uniform in [0, 1). */
double nn_rng_uniform (nn_rng *r);
/* Standard normal (Box-Muller). */
double nn_rng_normal (nn_rng *r);
/* Uniform integer in [0, n), n > 0. */
uint64_t nn_rng_below (nn_rng *r, uint64_t n);

#endif
