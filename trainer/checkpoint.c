/* checkpoint.c - the training checkpoint file (format in checkpoint.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "checkpoint.h"
#include "weights.h"

uint64_t
checkpoint_fnv1a (uint64_t h, const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    {
      h ^= b[i];
      h *= 0x100000001b3ull;
    }
  return h;
}

/* ---- Writing ---------------------------------------------------------------- */

typedef struct wbuf {
  FILE *f;
  uint64_t h;
  int bad;
} wbuf;

static void
wput (wbuf *w, const void *p, size_t n)
{
  if (!w->bad && fwrite (p, 1, n, w->f) != n)
    w->bad = 1;
  w->h = checkpoint_fnv1a (w->h, p, n);
}

static void
write_body (wbuf *w, const nn_model *m, const adam_state *adam,
            const checkpoint_extra *extra, const char *text,
            const void *wdata, size_t wsize)
{
  uint32_t u32;
  uint64_t u64;
  wput (w, CHECKPOINT_MAGIC, 8);
  u32 = CHECKPOINT_VERSION;
  wput (w, &u32, 4);
  u32 = (uint32_t) strlen (text);
  wput (w, &u32, 4);
  wput (w, text, u32);
  u64 = wsize;
  wput (w, &u64, 8);
  wput (w, wdata, wsize);
  u32 = (uint32_t) adam->n;
  wput (w, &u32, 4);
  for (int i = 0, j = 0; i < m->n_params; i++)
    if (m->params[i].trainable)
      {
        u64 = m->params[i].size;
        wput (w, &u64, 8);
        wput (w, adam->m[j], m->params[i].size * sizeof (float));
        wput (w, adam->v[j], m->params[i].size * sizeof (float));
        j++;
      }
  int64_t as = adam->step;
  wput (w, &as, 8);
  u64 = extra ? extra->size : 0;
  wput (w, &u64, 8);
  if (u64)
    wput (w, extra->data, u64);
  u64 = w->h;
  wput (w, &u64, 8);
}

int
checkpoint_save (const char *path, const nn_model *m, const adam_state *adam,
                 const checkpoint_extra *extra, const char *text, char *msg,
                 size_t len)
{
  if (strlen (text) > CHECKPOINT_TEXT_MAX)
    {
      snprintf (msg, len, "checkpoint %s: settings text of %zu bytes, at "
                "most %d", path, strlen (text), CHECKPOINT_TEXT_MAX);
      return -1;
    }
  void *wdata = NULL;
  size_t wsize = 0;
  nn_error err;
  if (nn_weights_save_memory (m, &wdata, &wsize, &err) != NN_OK)
    {
      snprintf (msg, len, "%s", err.message);
      return -1;
    }
  char *tmp = nn_temp_path (path);
  if (!tmp)
    {
      free (wdata);
      snprintf (msg, len, "out of memory");
      return -1;
    }
  FILE *f = fopen (tmp, "wb");
  if (!f)
    {
      snprintf (msg, len, "cannot write %s: %s", tmp, strerror (errno));
      free (wdata);
      free (tmp);
      return -1;
    }
  wbuf w = { f, CHECKPOINT_FNV_SEED, 0 };
  write_body (&w, m, adam, extra, text, wdata, wsize);
  free (wdata);
  int bad = w.bad || fflush (f) != 0 || fsync (fileno (f)) != 0;
  bad |= fclose (f) != 0;
  if (bad || rename (tmp, path))
    {
      snprintf (msg, len, "cannot write %s: %s", path, strerror (errno));
      unlink (tmp);
      free (tmp);
      return -1;
    }
  free (tmp);
  return 0;
}

/* ---- Reading ---------------------------------------------------------------- */

typedef struct rbuf {
  const unsigned char *p;
  size_t n, off;
} rbuf;

static int
rget (rbuf *r, void *dst, size_t n)
{
  if (n > r->n - r->off)
    return -1;
  memcpy (dst, r->p + r->off, n);
  r->off += n;
  return 0;
}

/* The header and the text; 0, or -1 with a reason in msg. */
static int
parse_head (rbuf *r, const char *what, char **text, uint32_t *ver, char *msg,
            size_t len)
{
  char magic[8];
  uint32_t version = 0, tl = 0;
  if (rget (r, magic, 8) || memcmp (magic, CHECKPOINT_MAGIC, 8))
    {
      snprintf (msg, len, "checkpoint %s: wrong magic (not a checkpoint)",
                what);
      return -1;
    }
  if (rget (r, &version, 4) || version < 1 || version > CHECKPOINT_VERSION)
    {
      snprintf (msg, len, "checkpoint %s: version %u, expected 1 to %u",
                what, version, CHECKPOINT_VERSION);
      return -1;
    }
  *ver = version;
  if (rget (r, &tl, 4) || tl > CHECKPOINT_TEXT_MAX
      || !(*text = calloc ((size_t) tl + 1, 1)) || rget (r, *text, tl))
    {
      snprintf (msg, len, "checkpoint %s: truncated in its settings text",
                what);
      return -1;
    }
  if (memchr (*text, 0, tl))
    {
      snprintf (msg, len, "checkpoint %s: a NUL byte in its settings text",
                what);
      return -1;
    }
  return 0;
}

/* The model and the optimizer state; 0, or -1 with a reason in msg. */
static int
parse_state (rbuf *r, const char *what, nn_model **m, adam_state **adam,
             char *msg, size_t len)
{
  uint64_t wl;
  uint32_t count = 0;
  nn_error err;
  if (rget (r, &wl, 8) || wl > r->n - r->off)
    {
      snprintf (msg, len, "checkpoint %s: truncated in its model", what);
      return -1;
    }
  if (nn_weights_load_memory (r->p + r->off, wl, what, m, &err) != NN_OK)
    {
      snprintf (msg, len, "checkpoint %s: %s", what, err.message);
      return -1;
    }
  r->off += wl;
  if (nn_adam_new (*m, adam, &err) != NN_OK)
    {
      snprintf (msg, len, "%s", err.message);
      return -1;
    }
  if (rget (r, &count, 4) || (int) count != (*adam)->n)
    {
      snprintf (msg, len, "checkpoint %s: %u optimizer tensors, expected %d",
                what, count, (*adam)->n);
      return -1;
    }
  for (int i = 0, j = 0; i < (*m)->n_params; i++)
    {
      const nn_param *p = &(*m)->params[i];
      uint64_t size;
      if (!p->trainable)
        continue;
      if (rget (r, &size, 8) || size != p->size
          || rget (r, (*adam)->m[j], size * sizeof (float))
          || rget (r, (*adam)->v[j], size * sizeof (float)))
        {
          snprintf (msg, len, "checkpoint %s: optimizer state of %s "
                    "truncated or of the wrong size", what, p->name);
          return -1;
        }
      j++;
    }
  int64_t as;
  if (rget (r, &as, 8) || as < 0)
    {
      snprintf (msg, len, "checkpoint %s: bad or truncated optimizer step",
                what);
      return -1;
    }
  (*adam)->step = as;
  return 0;
}

/* Version 2's extra part, then the end; 0, or -1 with a reason in msg. */
static int
parse_extra (rbuf *r, const char *what, uint32_t version,
             checkpoint_extra *extra, char *msg, size_t len)
{
  uint64_t n = 0;
  if (version >= 2 && (rget (r, &n, 8) || n > r->n - r->off))
    {
      snprintf (msg, len, "checkpoint %s: truncated in its extra part", what);
      return -1;
    }
  if (n && !(extra->data = malloc (n)))
    {
      snprintf (msg, len, "checkpoint %s: out of memory", what);
      return -1;
    }
  if (n)
    rget (r, extra->data, n);
  extra->size = n;
  if (r->off != r->n)
    {
      snprintf (msg, len, "checkpoint %s: %zu trailing bytes", what,
                r->n - r->off);
      return -1;
    }
  return 0;
}

int
checkpoint_parse (const unsigned char *data, size_t n, const char *what,
                  char **text_out, nn_model **model_out,
                  adam_state **adam_out, checkpoint_extra *extra_out,
                  char *msg, size_t len)
{
  char *text = NULL;
  uint32_t version = 0;
  checkpoint_extra extra = { NULL, 0 };
  nn_model *m = NULL;
  adam_state *adam = NULL;
  uint64_t sum = 0;
  if (n >= 8)
    memcpy (&sum, data + n - 8, 8);
  int damaged = n < 8 || checkpoint_fnv1a (CHECKPOINT_FNV_SEED, data,
                                           n - 8) != sum;
  rbuf r = { data, n >= 8 ? n - 8 : 0, 0 };
  int bad = parse_head (&r, what, &text, &version, msg, len)
            || parse_state (&r, what, &m, &adam, msg, len)
            || parse_extra (&r, what, version, &extra, msg, len);
  /* a damaged file says so, whatever part of it broke first (only a
   * file that is no checkpoint at all keeps the magic's message) */
  if (damaged && n >= 8 && !memcmp (data, CHECKPOINT_MAGIC, 8))
    snprintf (msg, len, "checkpoint %s: checksum mismatch (damaged file)",
              what);
  if (bad || damaged)
    {
      free (text);
      free (extra.data);
      nn_adam_free (adam);
      nn_model_free (m);
      return -1;
    }
  *extra_out = extra;
  *text_out = text;
  *model_out = m;
  *adam_out = adam;
  return 0;
}

int
checkpoint_load (const char *path, char **text, nn_model **model,
                 adam_state **adam, checkpoint_extra *extra, char *msg,
                 size_t len)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    {
      snprintf (msg, len, "checkpoint %s: %s", path, strerror (errno));
      return -1;
    }
  struct stat st;
  if (fstat (fileno (f), &st) || st.st_size < 40 || st.st_size > (1L << 31))
    {
      snprintf (msg, len, "checkpoint %s: size %lld is not that of a "
                "checkpoint", path, (long long) st.st_size);
      fclose (f);
      return -1;
    }
  size_t n = (size_t) st.st_size;
  unsigned char *data = malloc (n);
  if (!data || fread (data, 1, n, f) != n)
    {
      snprintf (msg, len, "checkpoint %s: cannot read", path);
      free (data);
      fclose (f);
      return -1;
    }
  fclose (f);
  int rc = checkpoint_parse (data, n, path, text, model, adam, extra, msg,
                             len);
  free (data);
  return rc;
}
