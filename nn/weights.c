/* weights.c - the weight file (weights/FORMAT.md documents it byte by
 * byte).  The loader reads the whole file (its real size, at most
 * WEIGHTS_MAX_FILE_SIZE) and parses it with a bounds-checked cursor; tensor
 * data goes straight into the buffers the architecture allocated, so
 * nothing is allocated on a header's word. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "context.h"
#include "head.h"
#include "weights.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "weights.c assumes a little-endian host"
#endif

#define MAX_ARCH_NAME 32u

/* ------------------------------------------------------------------ */
/* CRC-32 (IEEE 802.3, as zlib's crc32 and Python's zlib.crc32)         */

static uint32_t
crc32_update (uint32_t crc, const unsigned char *p, size_t n)
{
  static uint32_t table[256];
  static int ready;
  if (!ready)
    {
      for (uint32_t i = 0; i < 256; i++)
        {
          uint32_t c = i;
          for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
          table[i] = c;
        }
      ready = 1;
    }
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */

typedef struct cursor {
  const unsigned char *data;
  size_t size, pos;
  const char *what;
  nn_error *err;
} cursor;

static nn_code
cur_need (cursor *c, size_t n, const char *field)
{
  if (n > c->size - c->pos)
    return nn_error_set (c->err, NN_ERR_TRUNCATED,
                         "%s: truncated: %s needs %zu bytes at offset %zu, "
                         "the file has %zu",
                         c->what, field, n, c->pos, c->size);
  return NN_OK;
}

static nn_code
cur_u32 (cursor *c, uint32_t *v, const char *field)
{
  nn_code rc = cur_need (c, 4, field);
  if (rc)
    return rc;
  memcpy (v, c->data + c->pos, 4);
  c->pos += 4;
  return NN_OK;
}

static nn_code
cur_f32 (cursor *c, float *v, const char *field)
{
  nn_code rc = cur_need (c, 4, field);
  if (rc)
    return rc;
  memcpy (v, c->data + c->pos, 4);
  c->pos += 4;
  return NN_OK;
}

static int
printable_name (const unsigned char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] < 0x21 || s[i] > 0x7e)
      return 0;
  return 1;
}

/* Walks the tensors of the file, checking every name and shape against
 * m.  With copy, the data goes into m's storage and the first tensor
 * holding a NaN or infinity is noted in *nonfinite_index; without, only
 * the structure is checked.  A tensor the architecture needs but the file
 * lacks is noted in *missing_index.  (Both -1 when none: the caller
 * reports them after the checksum, so that a damaged file is reported as
 * such.) */
static nn_code
load_tensors (cursor *c, nn_model *m, int copy, int *missing_index,
              int *nonfinite_index)
{
  uint32_t count;
  nn_code rc = cur_u32 (c, &count, "tensor count");
  if (rc)
    return rc;
  if (count > WEIGHTS_MAX_TENSORS)
    return nn_error_set (c->err, NN_ERR_OVERFLOW,
                         "%s: tensor count %u exceeds the limit %u", c->what,
                         count, WEIGHTS_MAX_TENSORS);
  char seen[WEIGHTS_MAX_TENSORS] = { 0 };
  *missing_index = -1;
  *nonfinite_index = -1;
  for (uint32_t t = 0; t < count; t++)
    {
      uint32_t len, ndim;
      char name[WEIGHTS_MAX_NAME + 1];
      if ((rc = cur_u32 (c, &len, "tensor name length")))
        return rc;
      if (len == 0 || len > WEIGHTS_MAX_NAME)
        return nn_error_set (c->err, len == 0 ? NN_ERR_FORMAT : NN_ERR_OVERFLOW,
                             "%s: tensor %u: name length %u, expected 1..%u",
                             c->what, t, len, WEIGHTS_MAX_NAME);
      if ((rc = cur_need (c, len, "tensor name")))
        return rc;
      if (!printable_name (c->data + c->pos, len))
        return nn_error_set (c->err, NN_ERR_FORMAT,
                             "%s: tensor %u: name is not printable ASCII",
                             c->what, t);
      memcpy (name, c->data + c->pos, len);
      name[len] = '\0';
      c->pos += len;
      nn_param *p = nn_model_find (m, name);
      if (!p)
        return nn_error_set (c->err, NN_ERR_UNEXPECTED,
                             "%s: unexpected tensor '%s': architecture %s has "
                             "no such tensor", c->what, name,
                             nn_arch_name (m->arch));
      const int index = (int) (p - m->params);
      if (seen[index])
        return nn_error_set (c->err, NN_ERR_FORMAT,
                             "%s: tensor '%s' appears twice", c->what, name);
      seen[index] = 1;
      if ((rc = cur_u32 (c, &ndim, "tensor rank")))
        return rc;
      if (ndim == 0 || ndim > NN_PARAM_MAX_DIMS)
        return nn_error_set (c->err, NN_ERR_SHAPE,
                             "%s: tensor '%s': rank %u, expected %d", c->what,
                             name, ndim, p->ndim);
      uint32_t dims[NN_PARAM_MAX_DIMS];
      uint64_t elems = 1;
      int overflow = 0;
      for (uint32_t d = 0; d < ndim; d++)
        {
          if ((rc = cur_u32 (c, &dims[d], "tensor dimension")))
            return rc;
          if (dims[d] && elems > UINT64_MAX / 4 / dims[d])
            overflow = 1;
          else
            elems *= dims[d];
        }
      if (overflow)
        return nn_error_set (c->err, NN_ERR_OVERFLOW,
                             "%s: tensor '%s': the size of its dimensions "
                             "overflows", c->what, name);
      int same = (int) ndim == p->ndim;
      for (uint32_t d = 0; same && d < ndim; d++)
        same = dims[d] == (uint32_t) p->shape[d];
      if (!same)
        {
          char found[64] = "", expected[64] = "";
          for (uint32_t d = 0; d < ndim; d++)
            snprintf (found + strlen (found), sizeof found - strlen (found),
                      d ? "x%u" : "%u", dims[d]);
          for (int d = 0; d < p->ndim; d++)
            snprintf (expected + strlen (expected),
                      sizeof expected - strlen (expected), d ? "x%d" : "%d",
                      p->shape[d]);
          return nn_error_set (c->err, NN_ERR_SHAPE,
                               "%s: tensor '%s' has shape %s, expected %s",
                               c->what, name, found, expected);
        }
      if ((rc = cur_need (c, p->size * 4, "tensor data")))
        return rc;
      if (copy)
        memcpy (p->data, c->data + c->pos, p->size * 4);
      c->pos += p->size * 4;
      if (copy && *nonfinite_index < 0)
        for (size_t i = 0; i < p->size; i++)
          if (!isfinite (p->data[i]))
            {
              *nonfinite_index = index;
              break;
            }
    }
  for (int i = 0; i < m->n_params && *missing_index < 0; i++)
    if (!seen[i])
      *missing_index = i;
  return NN_OK;
}

nn_code
nn_weights_load_memory (const void *data, size_t size, const char *what,
                     nn_model **out, nn_error *err)
{
  cursor c = { data, size, 0, what ? what : "weights", err };
  nn_model *m = NULL;
  nn_code rc;
  uint32_t version, arch_len, meta_len, stored_crc;
  char arch_name[MAX_ARCH_NAME + 1];
  nn_arch arch;
  nn_scaling s;
  int nonfinite = -1, missing = -1;
  const size_t magic_len = sizeof WEIGHTS_MAGIC - 1;

  *out = NULL;
  if (memcmp (c.data, WEIGHTS_MAGIC, size < magic_len ? size : magic_len))
    return nn_error_set (err, NN_ERR_MAGIC,
                         "%s: not a colorize weight file (wrong magic)", c.what);
  if ((rc = cur_need (&c, magic_len, "magic")))
    return rc;
  c.pos = magic_len;
  if ((rc = cur_u32 (&c, &version, "format version")))
    return rc;
  if (version != WEIGHTS_VERSION)
    return nn_error_set (err, NN_ERR_VERSION,
                         "%s: format version %u, this build reads version %u",
                         c.what, version, WEIGHTS_VERSION);
  if ((rc = cur_u32 (&c, &arch_len, "architecture name length")))
    return rc;
  if (arch_len == 0 || arch_len > MAX_ARCH_NAME)
    return nn_error_set (err, NN_ERR_ARCH,
                         "%s: architecture name length %u, expected 1..%u",
                         c.what, arch_len, MAX_ARCH_NAME);
  if ((rc = cur_need (&c, arch_len, "architecture name")))
    return rc;
  memcpy (arch_name, c.data + c.pos, arch_len);
  arch_name[arch_len] = '\0';
  c.pos += arch_len;
  if (!printable_name ((const unsigned char *) arch_name, arch_len)
      || nn_arch_parse (arch_name, &arch) != NN_OK)
    return nn_error_set (err, NN_ERR_ARCH,
                         "%s: unknown architecture '%.32s', expected cnn or "
                         "resnet18", c.what,
                         printable_name ((const unsigned char *) arch_name,
                                         arch_len) ? arch_name : "(binary)");
  if ((rc = cur_f32 (&c, &s.l_offset, "L offset"))
      || (rc = cur_f32 (&c, &s.l_scale, "L scale"))
      || (rc = cur_f32 (&c, &s.ab_scale, "ab scale")))
    return rc;
  if (!isfinite (s.l_offset) || !isfinite (s.l_scale) || !isfinite (s.ab_scale))
    return nn_error_set (err, NN_ERR_NONFINITE,
                         "%s: non-finite scaling constants (%g, %g, %g)",
                         c.what, s.l_offset, s.l_scale, s.ab_scale);
  if (s.l_scale == 0.0f || s.ab_scale <= 0.0f)
    return nn_error_set (err, NN_ERR_FORMAT,
                         "%s: scaling constants L scale %g, ab scale %g: "
                         "expected L scale != 0 and ab scale > 0",
                         c.what, s.l_scale, s.ab_scale);
  if ((rc = cur_u32 (&c, &meta_len, "metadata length")))
    return rc;
  if (meta_len > WEIGHTS_MAX_METADATA)
    return nn_error_set (err, NN_ERR_OVERFLOW,
                         "%s: metadata length %u exceeds the limit %u", c.what,
                         meta_len, WEIGHTS_MAX_METADATA);
  if ((rc = cur_need (&c, meta_len, "metadata")))
    return rc;
  if (memchr (c.data + c.pos, '\0', meta_len))
    return nn_error_set (err, NN_ERR_FORMAT,
                         "%s: metadata contains a NUL byte", c.what);
  const size_t meta_pos = c.pos;
  c.pos += meta_len;

  char *meta = malloc ((size_t) meta_len + 1);
  if (!meta)
    return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", c.what);
  memcpy (meta, c.data + meta_pos, meta_len);
  meta[meta_len] = '\0';
  int head_bins = nn_metadata_head_bins (meta);
  double context = 0.0;
  int has_context = nn_metadata_number (meta, "context", &context);
  free (meta);
  if (head_bins < 0)
    return nn_error_set (err, NN_ERR_FORMAT, "%s: metadata head_bins is not "
                         "an integer in 2..%d", c.what, NN_HEAD_MAX_BINS);
  if (has_context < 0 || context != floor (context) || context < 0.0
      || context > NN_CONTEXT_MAX_CHANNELS)
    return nn_error_set (err, NN_ERR_FORMAT, "%s: metadata context is not "
                         "an integer in 0..%d", c.what,
                         NN_CONTEXT_MAX_CHANNELS);
  if (context != 0.0 && arch != NN_ARCH_RESNET18)
    return nn_error_set (err, NN_ERR_FORMAT, "%s: metadata context=%d in a "
                         "%s network: the global context is resnet18's",
                         c.what, (int) context, nn_arch_name (arch));
  if ((rc = nn_model_build_full (arch, head_bins, (int) context, &m, err)))
    return rc;
  m->scaling = s;
  free (m->metadata);
  m->metadata = malloc ((size_t) meta_len + 1);
  if (!m->metadata)
    {
      nn_model_free (m);
      return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", c.what);
    }
  memcpy (m->metadata, c.data + meta_pos, meta_len);
  m->metadata[meta_len] = '\0';

  const size_t tensors_pos = c.pos;
  if ((rc = load_tensors (&c, m, 0, &missing, &nonfinite)))
    goto fail;
  if ((rc = cur_u32 (&c, &stored_crc, "checksum")))
    goto fail;
  if (c.pos != c.size)
    {
      rc = nn_error_set (err, NN_ERR_FORMAT,
                         "%s: %zu unexpected bytes after the checksum",
                         c.what, c.size - c.pos);
      goto fail;
    }
  uint32_t crc = crc32_update (0, c.data, c.size - 4);
  if (crc != stored_crc)
    {
      rc = nn_error_set (err, NN_ERR_CHECKSUM,
                         "%s: checksum mismatch (stored %08x, computed %08x): "
                         "the file is damaged", c.what, stored_crc, crc);
      goto fail;
    }
  if (missing >= 0)
    {
      rc = nn_error_set (err, NN_ERR_MISSING,
                         "%s: missing tensor '%s' needed by architecture %s",
                         c.what, m->params[missing].name,
                         nn_arch_name (arch));
      goto fail;
    }
  /* the file is whole: now allocate and read the values */
  if ((rc = nn_model_alloc (m, err)))
    goto fail;
  c.pos = tensors_pos;
  if ((rc = load_tensors (&c, m, 1, &missing, &nonfinite)))
    goto fail;
  if (nonfinite >= 0)
    {
      rc = nn_error_set (err, NN_ERR_NONFINITE,
                         "%s: tensor '%s' contains NaN or infinity", c.what,
                         m->params[nonfinite].name);
      goto fail;
    }
  *out = m;
  return NN_OK;

fail:
  nn_model_free (m);
  return rc;
}

nn_code
nn_weights_load (const char *path, nn_model **out, nn_error *err)
{
  *out = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nn_error_set (err, NN_ERR_IO, "%s: cannot open: %s", path,
                         strerror (errno));
  struct stat st;
  if (fstat (fd, &st) || !S_ISREG (st.st_mode))
    {
      close (fd);
      return nn_error_set (err, NN_ERR_IO, "%s: not a regular file", path);
    }
  if ((uint64_t) st.st_size > WEIGHTS_MAX_FILE_SIZE)
    {
      close (fd);
      return nn_error_set (err, NN_ERR_OVERFLOW,
                           "%s: %lld bytes, more than a weight file may have "
                           "(%u)", path, (long long) st.st_size,
                           WEIGHTS_MAX_FILE_SIZE);
    }
  size_t size = (size_t) st.st_size;
  unsigned char *buf = malloc (size ? size : 1);
  if (!buf)
    {
      close (fd);
      return nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", path);
    }
  size_t got = 0;
  while (got < size)
    {
      ssize_t r = read (fd, buf + got, size - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t) r;
    }
  close (fd);
  nn_code rc = nn_weights_load_memory (buf, got, path, out, err);
  free (buf);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Saving                                                               */

typedef struct sink {
  unsigned char *data;
  size_t size;
} sink;

static void
put (sink *s, const void *p, size_t n)
{
  memcpy (s->data + s->size, p, n);
  s->size += n;
}

static void
put_u32 (sink *s, uint32_t v)
{
  put (s, &v, 4);
}

nn_code
nn_weights_save_memory (const nn_model *m, void **data, size_t *size,
                     nn_error *err)
{
  const char *arch = nn_arch_name (m->arch);
  const size_t meta_len = strlen (m->metadata);
  if (meta_len > WEIGHTS_MAX_METADATA)
    return nn_error_set (err, NN_ERR_OVERFLOW,
                         "metadata of %zu bytes exceeds the limit %u",
                         meta_len, WEIGHTS_MAX_METADATA);
  size_t total = 8 + 4 + 4 + strlen (arch) + 12 + 4 + meta_len + 4 + 4;
  for (int i = 0; i < m->n_params; i++)
    total += 4 + strlen (m->params[i].name) + 4 + 4 * (size_t) m->params[i].ndim
             + 4 * m->params[i].size;
  sink s = { malloc (total), 0 };
  if (!s.data)
    return nn_error_set (err, NN_ERR_NOMEM, "out of memory saving weights");
  put (&s, WEIGHTS_MAGIC, 8);
  put_u32 (&s, WEIGHTS_VERSION);
  put_u32 (&s, (uint32_t) strlen (arch));
  put (&s, arch, strlen (arch));
  put (&s, &m->scaling.l_offset, 4);
  put (&s, &m->scaling.l_scale, 4);
  put (&s, &m->scaling.ab_scale, 4);
  put_u32 (&s, (uint32_t) meta_len);
  put (&s, m->metadata, meta_len);
  put_u32 (&s, (uint32_t) m->n_params);
  for (int i = 0; i < m->n_params; i++)
    {
      const nn_param *p = &m->params[i];
      put_u32 (&s, (uint32_t) strlen (p->name));
      put (&s, p->name, strlen (p->name));
      put_u32 (&s, (uint32_t) p->ndim);
      for (int d = 0; d < p->ndim; d++)
        put_u32 (&s, (uint32_t) p->shape[d]);
      put (&s, p->data, 4 * p->size);
    }
  put_u32 (&s, crc32_update (0, s.data, s.size));
  *data = s.data;
  *size = s.size;
  return NN_OK;
}

static int
write_all (int fd, const unsigned char *p, size_t n)
{
  while (n)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return -1;
      p += w;
      n -= (size_t) w;
    }
  return 0;
}

char *
nn_temp_path (const char *path)
{
  const char *slash = strrchr (path, '/');
  size_t dir = slash ? (size_t) (slash - path) + 1 : 0;
  size_t len = strlen (path) + sizeof NN_TEMP_PREFIX + 24;
  char *tmp = malloc (len);
  if (tmp)
    snprintf (tmp, len, "%.*s" NN_TEMP_PREFIX "%ld-%s", (int) dir, path,
              (long) getpid (), path + dir);
  return tmp;
}

nn_code
nn_weights_save (const nn_model *m, const char *path, nn_error *err)
{
  void *data;
  size_t size;
  nn_code rc = nn_weights_save_memory (m, &data, &size, err);
  if (rc)
    return rc;
  char *tmp = nn_temp_path (path);
  char *dir = strdup (path);
  if (!tmp || !dir)
    {
      free (data);
      free (tmp);
      free (dir);
      return nn_error_set (err, NN_ERR_NOMEM, "out of memory saving weights");
    }
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      rc = nn_error_set (err, NN_ERR_IO, "%s: cannot create a temporary file "
                         "beside it: %s", path, strerror (errno));
      goto done;
    }
  if (write_all (fd, data, size) || fsync (fd))
    {
      rc = nn_error_set (err, NN_ERR_IO, "%s: cannot write: %s", tmp,
                         strerror (errno));
      close (fd);
      unlink (tmp);
      goto done;
    }
  fchmod (fd, 0644);
  if (close (fd) || rename (tmp, path))
    {
      rc = nn_error_set (err, NN_ERR_IO, "%s: cannot replace: %s", path,
                         strerror (errno));
      unlink (tmp);
      goto done;
    }
  int dfd = open (dirname (dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
done:
  free (data);
  free (tmp);
  free (dir);
  return rc;
}
