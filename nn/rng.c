/* rng.c - xoshiro256** (Blackman and Vigna), seeded by splitmix64. */
#include <math.h>
#include "rng.h"

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
nn_rng_seed (nn_rng *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64 (&seed);
}

static uint64_t
rotl (uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t
nn_rng_next (nn_rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl (s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl (s[3], 45);
  return result;
}

double
nn_rng_uniform (nn_rng *r)
{
  return (double) (nn_rng_next (r) >> 11) * 0x1.0p-53;
}

double
nn_rng_normal (nn_rng *r)
{
  double u1 = 1.0 - nn_rng_uniform (r); /* (0, 1] */
  double u2 = nn_rng_uniform (r);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

uint64_t
nn_rng_below (nn_rng *r, uint64_t n)
{
  /* Lemire's multiply-shift with rejection: unbiased. */
  unsigned __int128 m = (unsigned __int128) nn_rng_next (r) * n;
  uint64_t lo = (uint64_t) m;
  if (lo < n)
    {
      uint64_t threshold = -n % n;
      while (lo < threshold)
        {
          m = (unsigned __int128) nn_rng_next (r) * n;
          lo = (uint64_t) m;
        }
    }
  return (uint64_t) (m >> 64);
}
