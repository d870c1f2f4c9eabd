/* test_weights.c - the weight file: round trip, every error case of the
 * loader, and the valid file truncated at many offsets.  Files are built
 * here by a writer of our own that follows weights/FORMAT.md, so the test
 * also pins the format. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "model.h"
#include "testutil.h"
#include "weights.h"

/* ------------------------------------------------------------------ */
/* An independent writer with knobs for breaking the file               */

typedef struct knobs {
  const char *magic;       /* 8 bytes */
  uint32_t version;
  const char *arch;
  float l_scale;
  uint32_t meta_len_override; /* 0: real length */
  int skip_tensor;         /* index to leave out, -1 none */
  int extra_tensor;        /* add an unknown tensor */
  int duplicate_tensor;    /* write tensor 0 twice */
  int bad_shape_tensor;    /* index whose first dim is off by one, -1 none */
  int overflow_dims;       /* tensor 0 claims 2^32-1 x 4 elements... */
  uint32_t count_override; /* 0: real count */
  int nan_tensor;          /* index holding a NaN, -1 none */
  int bad_crc;
  int trailing;            /* bytes after the checksum */
  size_t cut;              /* keep only this many bytes, 0: all */
} knobs;

/* Offsets where write_file began each tensor header, for truncations. */
static size_t tensor_marks[WEIGHTS_MAX_TENSORS];
static int n_marks;

static knobs
knobs_default (void)
{
  knobs k = { "CLRZWGT\n", 1, NULL, 50.0f, 0, -1, 0, 0, -1, 0, 0, -1, 0, 0, 0 };
  return k;
}

typedef struct buf {
  unsigned char *p;
  size_t n, cap;
} buf;

static void
bput (buf *b, const void *src, size_t n)
{
  if (b->n + n > b->cap)
    {
      b->cap = (b->n + n) * 2;
      b->p = realloc (b->p, b->cap);
    }
  memcpy (b->p + b->n, src, n);
  b->n += n;
}

static void
bu32 (buf *b, uint32_t v)
{
  bput (b, &v, 4);
}

static uint32_t
crc32_ref (const unsigned char *p, size_t n)
{
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
  return ~c;
}

static buf
write_file (nn_model *m, knobs k)
{
  buf b = { 0 };
  const char *arch = k.arch ? k.arch : nn_arch_name (m->arch);
  bput (&b, k.magic, 8);
  bu32 (&b, k.version);
  bu32 (&b, (uint32_t) strlen (arch));
  bput (&b, arch, strlen (arch));
  float s[3] = { 50.0f, k.l_scale, 128.0f };
  bput (&b, s, 12);
  const char *meta = "trained=test\n";
  bu32 (&b, k.meta_len_override ? k.meta_len_override : (uint32_t) strlen (meta));
  bput (&b, meta, strlen (meta));
  uint32_t count = (uint32_t) m->n_params - (k.skip_tensor >= 0) + k.extra_tensor
                   + k.duplicate_tensor;
  bu32 (&b, k.count_override ? k.count_override : count);
  n_marks = 0;
  for (int i = 0; i < m->n_params + k.extra_tensor + k.duplicate_tensor; i++)
    {
      if (i == k.skip_tensor)
        continue;
      nn_param extra = { .name = "decoder.extra.weight", .ndim = 1, .shape = { 3 }, .size = 3 };
      float zeros[3] = { 0 };
      extra.data = zeros;
      const nn_param *p = i < m->n_params ? &m->params[i]
                          : (k.extra_tensor && i == m->n_params) ? &extra : &m->params[0];
      tensor_marks[n_marks++] = b.n;
      bu32 (&b, (uint32_t) strlen (p->name));
      bput (&b, p->name, strlen (p->name));
      bu32 (&b, (uint32_t) p->ndim);
      for (int d = 0; d < p->ndim; d++)
        {
          uint32_t dim = (uint32_t) p->shape[d];
          if (d == 0 && i == k.bad_shape_tensor)
            dim++;
          if (i == 0 && k.overflow_dims)
            dim = 0xffffffffu;
          bu32 (&b, dim);
        }
      if (i == 0 && k.overflow_dims)
        break;
      size_t start = b.n;
      bput (&b, p->data, p->size * 4);
      if (i == k.nan_tensor)
        {
          float nan = NAN;
          memcpy (b.p + start + 4 * (p->size / 2), &nan, 4);
        }
    }
  uint32_t crc = crc32_ref (b.p, b.n);
  bu32 (&b, k.bad_crc ? crc ^ 1u : crc);
  for (int i = 0; i < k.trailing; i++)
    bput (&b, "", 1);
  if (k.cut)
    b.n = k.cut;
  return b;
}

static nn_code
load (buf b, nn_error *err)
{
  nn_model *m = NULL;
  /* an exact-size copy, so that ASan sees any read past the end */
  unsigned char *exact = malloc (b.n ? b.n : 1);
  memcpy (exact, b.p, b.n);
  nn_code rc = nn_weights_load_memory (exact, b.n, "test.weights", &m, err);
  free (exact);
  nn_model_free (m);
  return rc;
}

static void
expect (const char *label, nn_model *m, knobs k, nn_code code)
{
  buf b = write_file (m, k);
  nn_error err = { 0 };
  nn_code rc = load (b, &err);
  CHECK (rc == code, "%s: got %s (%s), expected %s", label, nn_code_name (rc),
         rc ? err.message : "", nn_code_name (code));
  if (rc)
    CHECK (strstr (err.message, "test.weights") != NULL,
           "%s: message does not name the file: %s", label, err.message);
  free (b.p);
}

static void
test_errors (nn_arch arch)
{
  nn_model *m;
  nn_error err;
  nn_model_new (arch, &m, &err);
  nn_model_init (m, 5);
  knobs k = knobs_default ();
  expect ("valid file", m, k, NN_OK);
  k = knobs_default (); k.magic = "PK\x03\x04zip!";
  expect ("wrong magic", m, k, NN_ERR_MAGIC);
  k = knobs_default (); k.version = 2;
  expect ("unknown version", m, k, NN_ERR_VERSION);
  k = knobs_default (); k.arch = "vgg16";
  expect ("unknown architecture", m, k, NN_ERR_ARCH);
  k = knobs_default (); k.skip_tensor = m->n_params - 1;
  expect ("missing tensor", m, k, NN_ERR_MISSING);
  k = knobs_default (); k.extra_tensor = 1;
  expect ("unexpected tensor", m, k, NN_ERR_UNEXPECTED);
  k = knobs_default (); k.duplicate_tensor = 1;
  expect ("duplicated tensor", m, k, NN_ERR_FORMAT);
  k = knobs_default (); k.bad_shape_tensor = 2;
  expect ("wrong shape", m, k, NN_ERR_SHAPE);
  k = knobs_default (); k.bad_crc = 1;
  expect ("checksum mismatch", m, k, NN_ERR_CHECKSUM);
  k = knobs_default (); k.nan_tensor = 1;
  expect ("NaN in a tensor", m, k, NN_ERR_NONFINITE);
  k = knobs_default (); k.l_scale = INFINITY;
  expect ("infinite scaling constant", m, k, NN_ERR_NONFINITE);
  k = knobs_default (); k.overflow_dims = 1;
  expect ("dimensions that overflow", m, k, NN_ERR_OVERFLOW);
  k = knobs_default (); k.count_override = 0x7fffffffu;
  expect ("absurd tensor count", m, k, NN_ERR_OVERFLOW);
  k = knobs_default (); k.meta_len_override = 0xfffffff0u;
  expect ("absurd metadata length", m, k, NN_ERR_OVERFLOW);
  k = knobs_default (); k.meta_len_override = 1000; k.cut = 8 + 4 + 4 + strlen (nn_arch_name (arch)) + 12 + 4 + 13;
  expect ("metadata longer than the file", m, k, NN_ERR_TRUNCATED);
  k = knobs_default (); k.trailing = 3;
  expect ("bytes after the checksum", m, k, NN_ERR_FORMAT);
  k = knobs_default (); k.l_scale = 0.0f;
  expect ("zero L scale", m, k, NN_ERR_FORMAT);

  /* the valid file truncated: at every offset of the file header and of
   * the first two tensor headers, at the key offsets of every other
   * tensor header (around its start, name, rank, dims and data), at 200
   * offsets spread over the data, and in the last 16 bytes.  The prefix
   * sits at the very end of an allocation, so ASan sees any read past it. */
  buf b = write_file (m, knobs_default ());
  unsigned char *arena = malloc (b.n);
  int wrong = 0, tried = 0;
  for (size_t cut = 0; cut < b.n; cut++)
    {
      int pick = cut <= tensor_marks[0] + 90 || cut + 16 >= b.n || cut % (b.n / 200) == 0;
      for (int i = 0; i < n_marks && !pick; i++)
        {
          size_t mk = tensor_marks[i];
          uint32_t len;
          memcpy (&len, b.p + mk, 4);
          size_t rank_at = mk + 4 + len, data_at = rank_at + 4 + 4 * (size_t) b.p[rank_at];
          pick = (cut + 1 >= mk && cut <= mk + 5) || cut == rank_at || cut == rank_at + 1
                 || cut == rank_at + 4 || cut == rank_at + 6 || cut + 1 == data_at
                 || cut == data_at || cut == data_at + 1;
        }
      if (!pick)
        continue;
      memcpy (arena + b.n - cut, b.p, cut);
      nn_model *mm = NULL;
      nn_code rc = nn_weights_load_memory (arena + b.n - cut, cut, "test.weights", &mm, &err);
      nn_model_free (mm);
      tried++;
      if (rc != NN_ERR_TRUNCATED && wrong++ < 5)
        CHECK (0, "%s truncated at %zu of %zu: got %s", nn_arch_name (arch), cut, b.n,
               nn_code_name (rc));
    }
  free (arena);
  CHECK (wrong == 0, "%s: %d of %d truncations not reported as truncated",
         nn_arch_name (arch), wrong, tried);
  printf ("%s: %d truncated copies, each reported as truncated\n", nn_arch_name (arch), tried);
  free (b.p);
  nn_model_free (m);
}

static void
test_round_trip (void)
{
  nn_model *m, *back = NULL;
  nn_error err;
  nn_model_new (NN_ARCH_RESNET18, &m, &err);
  nn_model_init (m, 9);
  m->scaling = (nn_scaling) { 50.0f, 50.0f, 110.0f };
  nn_model_set_metadata (m, "steps=12\nnote=round trip\n", &err);
  /* running statistics must survive too */
  nn_param *rv = nn_model_find (m, "upsample.12.running_var");
  rv->data[3] = 2.5f;
  char dir[] = "/tmp/colorize-test-XXXXXX";
  CHECK (mkdtemp (dir) != NULL, "mkdtemp");
  char path[256];
  snprintf (path, sizeof path, "%s/model.weights", dir);
  CHECK (nn_weights_save (m, path, &err) == NN_OK, "save: %s", err.message);
  CHECK (nn_weights_save (m, path, &err) == NN_OK, "save over an existing file: %s", err.message);
  CHECK (nn_weights_load (path, &back, &err) == NN_OK, "load: %s", err.message);
  if (back)
    {
      int same = back->arch == m->arch && back->n_params == m->n_params
                 && !strcmp (back->metadata, m->metadata)
                 && back->scaling.ab_scale == 110.0f;
      for (int i = 0; same && i < m->n_params; i++)
        same = !memcmp (back->params[i].data, m->params[i].data, m->params[i].size * 4);
      CHECK (same, "round trip changes the model");
      nn_model_free (back);
    }
  /* no temporary file is left behind */
  char cmd[512];
  snprintf (cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
  CHECK (system (cmd) == 0, "temporary files left in %s", dir);
  /* errors from the file system name the file */
  back = NULL;
  snprintf (path, sizeof path, "%s/missing.weights", dir);
  CHECK (nn_weights_load (path, &back, &err) == NN_ERR_IO && strstr (err.message, "missing.weights"),
         "missing file: %s", err.message);
  CHECK (nn_weights_load (dir, &back, &err) == NN_ERR_IO, "a directory: %s", err.message);
  snprintf (path, sizeof path, "%s/no/such/dir/x.weights", dir);
  CHECK (nn_weights_save (m, path, &err) == NN_ERR_IO, "save into a missing folder: %s", err.message);
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK (system (cmd) == 0, "cleanup");
  nn_model_free (m);
}

int
main (void)
{
  test_round_trip ();
  test_errors (NN_ARCH_RESNET18);
  test_errors (NN_ARCH_CNN);
  return test_report ("test_weights");
}
