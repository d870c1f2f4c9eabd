/* testutil.h - what every test program shares: checks that count and
 * report, the fixture bundle reader, and the hash fill that
 * tests/reference/make_fixtures.py reproduces bit for bit. */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* Counts a check; prints a FAIL line with the message when cond is false. */
int test_check (int cond, const char *file, int line, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));
#define CHECK(cond, ...) test_check ((cond), __FILE__, __LINE__, __VA_ARGS__)
/* Prints "N passed, N failed" and returns the exit status. */
int test_report (const char *name);

/* max |a - b| */
double max_abs_diff (const float *a, const float *b, size_t n);
/* max |a - b| / max |b| (the relative error of a against reference b) */
double rel_err (const float *a, const float *b, size_t n);

/* Fixture bundles (format in tests/reference/make_fixtures.py). */
typedef struct fixture_tensor {
  char name[96];
  int ndim;
  int shape[8];
  size_t size;
  float *data;
} fixture_tensor;

typedef struct fixture {
  int count;
  fixture_tensor *t;
} fixture;

int fixture_load (const char *path, fixture *f);
const fixture_tensor *fixture_get (const fixture *f, const char *name);
/* fixture_get, with a check (one failure when absent or of another size)
 * that it holds size values; NULL then. */
const fixture_tensor *fixture_need (const fixture *f, const char *name,
                                    size_t size);
void fixture_free (fixture *f);

/* The hash fill (see make_fixtures.py). */
uint32_t fixture_lowbias32 (uint32_t x);
float fixture_uniform (uint32_t i, uint32_t stream);
void fixture_fill (float *dst, size_t n, uint32_t stream, float center, float half);
uint32_t fixture_sample_index (uint32_t k, size_t n, uint32_t stream);
/* The indices of the k (<= 16) largest |g[i]| among 256 indices sampled
 * by fixture_sample_index (stream) from n, largest first, into pick: where
 * a finite-difference check is worth its cost. */
void fixture_pick_largest (const float *g, size_t n, uint32_t stream,
                           size_t *pick, int k);
/* Fills every tensor of m by make_fixtures.py's param_fill rule. */
void fixture_fill_model (nn_model *m);

/* Folder of the committed fixtures (tests/fixtures), overridable by the
 * environment variable FIXTURES. */
const char *fixture_dir (void);

#endif
