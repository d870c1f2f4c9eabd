/* testutil.c - shared test helpers. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blas.h"
#include "testutil.h"

static int passed, failed;

int
test_check (int cond, const char *file, int line, const char *fmt, ...)
{
  if (cond)
    {
      passed++;
      return 1;
    }
  failed++;
  va_list ap;
  va_start (ap, fmt);
  fprintf (stdout, "FAIL %s:%d: ", file, line);
  vfprintf (stdout, fmt, ap);
  fprintf (stdout, "\n");
  va_end (ap);
  fflush (stdout);
  return 0;
}

int
test_report (const char *name)
{
  printf ("%s: %d passed, %d failed\n", name, passed, failed);
  return failed ? 1 : 0;
}

double
max_abs_diff (const float *a, const float *b, size_t n)
{
  double m = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - b[i]);
      if (d > m || isnan (d))
        m = isnan (d) ? INFINITY : d;
    }
  return m;
}

double
rel_err (const float *a, const float *b, size_t n)
{
  double ref = 0.0;
  for (size_t i = 0; i < n; i++)
    if (fabs (b[i]) > ref)
      ref = fabs (b[i]);
  double d = max_abs_diff (a, b, n);
  return ref > 0 ? d / ref : d;
}

int
fixture_load (const char *path, fixture *f)
{
  memset (f, 0, sizeof *f);
  FILE *fp = fopen (path, "rb");
  if (!fp)
    return -1;
  char magic[8];
  uint32_t count;
  int ok = fread (magic, 1, 8, fp) == 8 && !memcmp (magic, "CLRZFIX1", 8)
           && fread (&count, 4, 1, fp) == 1 && count < 100000;
  if (ok)
    {
      f->t = calloc (count, sizeof *f->t);
      ok = f->t != NULL;
    }
  for (uint32_t i = 0; ok && i < count; i++)
    {
      fixture_tensor *t = &f->t[i];
      uint32_t len, ndim, d;
      ok = fread (&len, 4, 1, fp) == 1 && len < sizeof t->name
           && fread (t->name, 1, len, fp) == len && fread (&ndim, 4, 1, fp) == 1
           && ndim >= 1 && ndim <= 8;
      t->size = 1;
      for (uint32_t k = 0; ok && k < ndim; k++)
        {
          ok = fread (&d, 4, 1, fp) == 1;
          t->shape[k] = (int) d;
          t->size *= d;
        }
      t->ndim = (int) ndim;
      if (ok)
        {
          t->data = malloc (t->size * sizeof (float) + 1);
          ok = t->data && fread (t->data, 4, t->size, fp) == t->size;
        }
      f->count = (int) i + 1;
    }
  fclose (fp);
  if (!ok)
    {
      fixture_free (f);
      return -1;
    }
  return 0;
}

const fixture_tensor *
fixture_get (const fixture *f, const char *name)
{
  for (int i = 0; i < f->count; i++)
    if (!strcmp (f->t[i].name, name))
      return &f->t[i];
  return NULL;
}

const fixture_tensor *
fixture_need (const fixture *f, const char *name, size_t size)
{
  const fixture_tensor *t = fixture_get (f, name);
  CHECK (t && t->size == size, "fixture has %s of %zu values", name, size);
  return t && t->size == size ? t : NULL;
}

void
fixture_pick_largest (const float *g, size_t n, uint32_t stream,
                      size_t *pick, int k)
{
  int have = 0;
  for (uint32_t s = 0; s < 256; s++)
    {
      size_t i = fixture_sample_index (s, n, stream);
      int j = have < k ? have++ : k;
      while (j > 0 && fabsf (g[i]) > fabsf (g[pick[j - 1]]))
        {
          if (j < k)
            pick[j] = pick[j - 1];
          j--;
        }
      if (j < k)
        pick[j] = i;
    }
}

void
fixture_free (fixture *f)
{
  for (int i = 0; i < f->count; i++)
    free (f->t[i].data);
  free (f->t);
  memset (f, 0, sizeof *f);
}

uint32_t
fixture_lowbias32 (uint32_t x)
{
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

float
fixture_uniform (uint32_t i, uint32_t stream)
{
  uint32_t h = fixture_lowbias32 (i * 0x9e3779b9u + stream * 0x85ebca6bu);
  return (float) (h >> 8) * 0x1.0p-24f;
}

void
fixture_fill (float *dst, size_t n, uint32_t stream, float center, float half)
{
  for (size_t i = 0; i < n; i++)
    {
      volatile float u = fixture_uniform ((uint32_t) i, stream);
      volatile float t = 2.0f * u - 1.0f;
      volatile float s = half * t;
      dst[i] = center + s;
    }
}

uint32_t
fixture_sample_index (uint32_t k, size_t n, uint32_t stream)
{
  uint32_t h = fixture_lowbias32 (k * 0x9e3779b9u + stream * 0x85ebca6bu
                                  + 0x5bd1e995u);
  return (uint32_t) (h % n);
}

static int
ends_with (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && !strcmp (s + a - b, suffix);
}

void
fixture_fill_model (nn_model *m)
{
  for (int t = 0; t < m->n_params; t++)
    {
      nn_param *p = &m->params[t];
      const uint32_t stream = 1000u + (uint32_t) t;
      if (ends_with (p->name, "running_var"))
        fixture_fill (p->data, p->size, stream, 1.0f, 0.5f);
      else if (ends_with (p->name, "running_mean"))
        fixture_fill (p->data, p->size, stream, 0.0f, 0.2f);
      else if (p->ndim == 4)
        {
          int fan_in = p->shape[1] * p->shape[2] * p->shape[3];
          fixture_fill (p->data, p->size, stream, 0.0f,
                        (float) sqrt (3.0 / fan_in));
        }
      else
        {
          /* a 1-D tensor: BN weight/bias when its module has a 1-D weight */
          char module[NN_PARAM_NAME_LEN + 8];
          snprintf (module, sizeof module, "%s", p->name);
          *strrchr (module, '.') = '\0';
          strcat (module, ".weight");
          const nn_param *w = nn_model_find (m, module);
          int bn = w && w->ndim == 1;
          if (bn && ends_with (p->name, "weight"))
            fixture_fill (p->data, p->size, stream, 1.0f, 0.5f);
          else if (bn)
            fixture_fill (p->data, p->size, stream, 0.0f, 0.2f);
          else
            fixture_fill (p->data, p->size, stream, 0.0f, 0.1f);
        }
    }
}

const char *
fixture_dir (void)
{
  const char *d = getenv ("FIXTURES");
  return d && *d ? d : "tests/fixtures";
}

/* Every test program runs on the OpenBLAS kernel the programs use
 * (nn/blas.h), also those that call the layers without a model. */
__attribute__ ((constructor)) static void
tests_blas_init (void)
{
  nn_blas_init ();
}
