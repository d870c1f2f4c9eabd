/* npy.c - reading and writing float32 .npy files. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "npy.h"

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

nn_code
npy_read_stream (FILE *f, const char *path, npy_array *out, nn_error *err)
{
  memset (out, 0, sizeof *out);
  unsigned char pre[12];
  char *header = NULL;
  nn_code rc = NN_OK;
  if (fread (pre, 1, 10, f) != 10 || memcmp (pre, npy_magic, 6))
    {
      rc = nn_error_set (err, NN_ERR_FORMAT, "%s: not a .npy file", path);
      goto done;
    }
  size_t hlen;
  if (pre[6] == 1)
    hlen = pre[8] | (size_t) pre[9] << 8;
  else if (pre[6] == 2 || pre[6] == 3)
    {
      if (fread (pre + 10, 1, 2, f) != 2)
        {
          rc = nn_error_set (err, NN_ERR_TRUNCATED, "%s: truncated header", path);
          goto done;
        }
      hlen = pre[8] | (size_t) pre[9] << 8 | (size_t) pre[10] << 16
             | (size_t) pre[11] << 24;
    }
  else
    {
      rc = nn_error_set (err, NN_ERR_VERSION, "%s: .npy version %d unsupported", path, pre[6]);
      goto done;
    }
  if (hlen > 65536)
    {
      rc = nn_error_set (err, NN_ERR_FORMAT, "%s: header of %zu bytes is too long", path, hlen);
      goto done;
    }
  header = calloc (hlen + 1, 1);
  if (!header || fread (header, 1, hlen, f) != hlen)
    {
      rc = nn_error_set (err, NN_ERR_TRUNCATED, "%s: truncated header", path);
      goto done;
    }
  if (!strstr (header, "'descr': '<f4'"))
    {
      rc = nn_error_set (err, NN_ERR_FORMAT, "%s: expected dtype float32 ('<f4'), header is %s", path, header);
      goto done;
    }
  if (!strstr (header, "'fortran_order': False"))
    {
      rc = nn_error_set (err, NN_ERR_FORMAT, "%s: Fortran order is not supported", path);
      goto done;
    }
  const char *sp = strstr (header, "'shape': (");
  if (!sp)
    {
      rc = nn_error_set (err, NN_ERR_FORMAT, "%s: no shape in header", path);
      goto done;
    }
  sp += strlen ("'shape': (");
  out->size = 1;
  while (*sp && *sp != ')')
    {
      char *end;
      errno = 0;
      unsigned long long v = strtoull (sp, &end, 10);
      if (end == sp || errno || out->ndim >= NPY_MAX_DIMS || (v && out->size > SIZE_MAX / 4 / v))
        {
          rc = nn_error_set (err, NN_ERR_FORMAT, "%s: bad shape in header", path);
          goto done;
        }
      out->shape[out->ndim++] = (size_t) v;
      out->size *= (size_t) v;
      sp = end;
      while (*sp == ',' || *sp == ' ')
        sp++;
    }
  long here = ftell (f), end = -1;
  if (here >= 0 && fseek (f, 0, SEEK_END) == 0)
    end = ftell (f);
  if (end < 0 || fseek (f, here, SEEK_SET) != 0)
    {
      rc = nn_error_set (err, NN_ERR_IO, "%s: cannot seek", path);
      goto done;
    }
  if ((size_t) (end - here) / sizeof (float) < out->size)
    {
      rc = nn_error_set (err, NN_ERR_TRUNCATED, "%s: data truncated (expected "
                         "%zu floats, the file holds %ld bytes after its "
                         "header)", path, out->size, end - here);
      goto done;
    }
  out->data = malloc (out->size * sizeof (float) + 1);
  if (!out->data)
    {
      rc = nn_error_set (err, NN_ERR_NOMEM, "%s: out of memory", path);
      goto done;
    }
  if (fread (out->data, sizeof (float), out->size, f) != out->size)
    rc = nn_error_set (err, NN_ERR_TRUNCATED, "%s: data truncated (expected %zu floats)", path, out->size);
done:
  free (header);
  if (rc)
    npy_free (out);
  return rc;
}

nn_code
npy_read (const char *path, npy_array *out, nn_error *err)
{
  memset (out, 0, sizeof *out);
  FILE *f = fopen (path, "rb");
  if (!f)
    return nn_error_set (err, NN_ERR_IO, "%s: cannot open: %s", path,
                         strerror (errno));
  nn_code rc = npy_read_stream (f, path, out, err);
  fclose (f);
  return rc;
}

nn_code
npy_write (const char *path, const float *data, int ndim, const size_t *shape,
           nn_error *err)
{
  char dict[256];
  int n = snprintf (dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  size_t size = 1;
  for (int i = 0; i < ndim; i++)
    {
      n += snprintf (dict + n, sizeof dict - (size_t) n, "%zu,%s", shape[i], i + 1 < ndim ? " " : "");
      size *= shape[i];
    }
  n += snprintf (dict + n, sizeof dict - (size_t) n, "), }");
  /* pad with spaces so that magic + header is a multiple of 64, end with \n */
  size_t total = 10 + (size_t) n + 1;
  size_t pad = (64 - total % 64) % 64;
  FILE *f = fopen (path, "wb");
  if (!f)
    return nn_error_set (err, NN_ERR_IO, "%s: cannot create: %s", path, strerror (errno));
  unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0 };
  size_t hlen = (size_t) n + pad + 1;
  pre[8] = (unsigned char) (hlen & 0xff);
  pre[9] = (unsigned char) (hlen >> 8);
  int ok = fwrite (pre, 1, 10, f) == 10 && fwrite (dict, 1, (size_t) n, f) == (size_t) n;
  for (size_t i = 0; ok && i < pad; i++)
    ok = fputc (' ', f) != EOF;
  ok = ok && fputc ('\n', f) != EOF && fwrite (data, sizeof (float), size, f) == size;
  if (fclose (f) || !ok)
    return nn_error_set (err, NN_ERR_IO, "%s: write failed: %s", path, strerror (errno));
  return NN_OK;
}

void
npy_free (npy_array *a)
{
  free (a->data);
  a->data = NULL;
}
