/* pack.c - the packed data set file (format in pack.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "checkpoint.h"
#include "pack.h"
#include "weights.h"

#define RICE_ESCAPE 24
#define RICE_RAW_BITS 18
#define RICE_MAX_K 18
#define RICE_RESET 64

/* ---- Little-endian fields ------------------------------------------------- */

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
         | (uint32_t) p[3] << 24;
}

static uint64_t
le64 (const unsigned char *p)
{
  return (uint64_t) le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

static void
put32 (unsigned char *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char) (v >> (8 * i));
}

static void
put64 (unsigned char *p, uint64_t v)
{
  put32 (p, (uint32_t) v);
  put32 (p + 4, (uint32_t) (v >> 32));
}

static float
lef32 (const unsigned char *p)
{
  uint32_t u = le32 (p);
  float f;
  memcpy (&f, &u, 4);
  return f;
}

static uint32_t
f32bits (float f)
{
  uint32_t u;
  memcpy (&u, &f, 4);
  return u;
}

/* ---- The codec ------------------------------------------------------------ */

typedef struct rice {
  uint32_t a, n;
} rice;

static int
rice_k (const rice *r)
{
  /* The smallest k with n << k >= a, which is the bit length of (a - 1)
   * / n, without the division (a fifth of the decoding time): with ba
   * the bit length of a - 1 and bn that of n, n << (ba - bn) >= 2^(ba -
   * 1) and n << (ba - bn + 1) >= 2^ba >= a, so k is ba - bn or one more. */
  if (r->a <= r->n)
    return 0;
  int k = __builtin_clz (r->n) - __builtin_clz (r->a - 1);
  k += ((uint64_t) r->n << k) < r->a;
  return k < RICE_MAX_K ? k : RICE_MAX_K;
}

static void
rice_update (rice *r, uint32_t u)
{
  r->a += u;
  if (++r->n == RICE_RESET)
    {
      r->a >>= 1;
      r->n >>= 1;
    }
}

static int32_t
med_predict (int32_t a, int32_t b, int32_t c)
{
  int32_t mx = a > b ? a : b, mn = a < b ? a : b;
  if (c >= mx)
    return mn;
  if (c <= mn)
    return mx;
  return a + b - c;
}

/* The context of a value: the bit length of the local activity |a - c| +
 * |b - c| (0 on the first row and column), at most RICE_CONTEXTS - 1. */
#define RICE_CONTEXTS 16

static int
rice_context (int32_t a, int32_t b, int32_t c)
{
  uint32_t g = (uint32_t) abs (a - c) + (uint32_t) abs (b - c);
  int k = g ? 32 - __builtin_clz (g) : 0;
  return k < RICE_CONTEXTS ? k : RICE_CONTEXTS - 1;
}

/* Value (x, y) of channel c of an interleaved w x h x 3 plane of int16_t
 * (PACK_LAB16) or unsigned char: its prediction and its context. */
static inline __attribute__ ((always_inline)) int32_t
plane_at (pack_kind kind, const void *v, size_t i)
{
  return kind == PACK_LAB16 ? (int32_t) ((const int16_t *) v)[i]
                            : (int32_t) ((const unsigned char *) v)[i];
}

static inline __attribute__ ((always_inline)) int32_t
predict (pack_kind kind, const void *v, uint32_t w, uint32_t x, uint32_t y,
         size_t i, int *ctx)
{
  size_t row = (size_t) w * 3;
  *ctx = 0;
  if (y == 0)
    return x ? plane_at (kind, v, i - 3) : 0;
  if (x == 0)
    return plane_at (kind, v, i - row);
  int32_t a = plane_at (kind, v, i - 3), b = plane_at (kind, v, i - row);
  int32_t c = plane_at (kind, v, i - row - 3);
  *ctx = rice_context (a, b, c);
  return med_predict (a, b, c);
}

typedef struct bitw {
  unsigned char *b;
  size_t n, cap;
  uint64_t acc;
  int nb, bad;
} bitw;

static void
bw_put (bitw *w, uint32_t bits, int count)
{
  w->acc = (w->acc << count) | bits;
  w->nb += count;
  while (w->nb >= 8)
    {
      if (w->n == w->cap)
        {
          size_t cap = w->cap ? w->cap * 2 : 4096;
          unsigned char *b = realloc (w->b, cap);
          if (!b)
            {
              w->bad = 1;
              w->nb = 0;
              return;
            }
          w->b = b;
          w->cap = cap;
        }
      w->nb -= 8;
      w->b[w->n++] = (unsigned char) (w->acc >> w->nb);
    }
}

static void
bw_rice (bitw *w, rice *r, uint32_t u)
{
  int k = rice_k (r);
  uint32_t q = u >> k;
  if (q < RICE_ESCAPE)
    {
      bw_put (w, ((1u << q) - 1) << 1, (int) q + 1);
      if (k)
        bw_put (w, u & ((1u << k) - 1), k);
    }
  else
    {
      bw_put (w, (1u << RICE_ESCAPE) - 1, RICE_ESCAPE);
      bw_put (w, u, RICE_RAW_BITS);
    }
  rice_update (r, u);
}

static uint32_t
zigzag (int32_t e)
{
  return e >= 0 ? (uint32_t) e * 2 : (uint32_t) (-(int64_t) e) * 2 - 1;
}

static inline __attribute__ ((always_inline)) void
encode_planes (pack_kind kind, const void *values, uint32_t w, uint32_t h,
               bitw *bw)
{
  for (int c = 0; c < 3; c++)
    {
      rice r[RICE_CONTEXTS];
      for (int i = 0; i < RICE_CONTEXTS; i++)
        r[i] = (rice) { 8, 1 };
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
          {
            size_t i = ((size_t) y * w + x) * 3 + c;
            int ctx;
            int32_t pred = predict (kind, values, w, x, y, i, &ctx);
            bw_rice (bw, &r[ctx], zigzag (plane_at (kind, values, i) - pred));
          }
    }
}

int
pack_encode (pack_kind kind, const void *values, uint32_t w, uint32_t h,
             unsigned char **out, size_t *out_size)
{
  bitw bw = { 0 };
  if (kind == PACK_LAB16)
    encode_planes (PACK_LAB16, values, w, h, &bw);
  else
    encode_planes (PACK_RGB8, values, w, h, &bw);
  if (bw.nb)
    bw_put (&bw, 0, 8 - bw.nb);
  if (bw.bad || !bw.n)
    {
      free (bw.b);
      return -1;
    }
  *out = bw.b;
  *out_size = bw.n;
  return 0;
}

typedef struct bitr {
  const unsigned char *p, *end;
  uint64_t acc;
  int nb;
} bitr;

static void
br_fill (bitr *r)
{
  if (r->nb <= 56 && r->end - r->p >= 8)
    {
      /* whole bytes at once: as many as fit above the nb bits held */
      uint64_t v;
      memcpy (&v, r->p, 8);
      v = __builtin_bswap64 (v);
      int bytes = (64 - r->nb) >> 3;    /* 1..8; 7 at most: no shift by 64 */
      bytes = bytes < 7 ? bytes : 7;
      int bits = bytes * 8;
      r->acc = r->acc << bits | v >> (64 - bits);
      r->p += bytes;
      r->nb += bits;
      return;
    }
  while (r->nb <= 56 && r->p < r->end)
    {
      r->acc = r->acc << 8 | *r->p++;
      r->nb += 8;
    }
}

/* n <= 32 bits, or -1 when the data end first. */
static int64_t
br_get (bitr *r, int n)
{
  if (r->nb < n)
    br_fill (r);
  if (r->nb < n)
    return -1;
  r->nb -= n;
  return (int64_t) ((r->acc >> r->nb) & ((1ull << n) - 1));
}

/* One Rice-coded value, or -1 when the data end first. */
static int64_t
br_rice (bitr *r, rice *st)
{
  br_fill (r);
  if (r->nb == 0)
    return -1;
  uint64_t top = r->acc << (64 - r->nb);
  int ones = ~top ? __builtin_clzll (~top) : 64;
  if (ones > r->nb)
    ones = r->nb;
  int64_t u;
  if (ones >= RICE_ESCAPE)
    {
      r->nb -= RICE_ESCAPE;
      u = br_get (r, RICE_RAW_BITS);
    }
  else
    {
      if (ones == r->nb)
        return -1;               /* no terminating zero before the end */
      int k = rice_k (st);
      r->nb -= ones + 1;
      int64_t low = k ? br_get (r, k) : 0;
      u = low < 0 ? -1 : ((int64_t) ones << k) | low;
    }
  if (u >= 0)
    rice_update (st, (uint32_t) u);
  return u;
}

static int
decode_fail (char *msg, size_t len, const char *what, int c, uint32_t x,
             uint32_t y, int64_t v)
{
  if (v == INT64_MIN)
    snprintf (msg, len, "the encoded bytes end at channel %d, pixel (%u, %u)",
              c, x, y);
  else
    snprintf (msg, len, "decoded value %lld at channel %d, pixel (%u, %u) is "
              "outside the %s range", (long long) v, c, x, y, what);
  return -1;
}

static inline __attribute__ ((always_inline)) int
decode_planes (pack_kind kind, bitr *br, uint32_t w, uint32_t h,
               void *values, char *msg, size_t len)
{
  int32_t lo = kind == PACK_LAB16 ? INT16_MIN : 0;
  int32_t hi = kind == PACK_LAB16 ? INT16_MAX : 255;
  for (int c = 0; c < 3; c++)
    {
      rice r[RICE_CONTEXTS];
      for (int i = 0; i < RICE_CONTEXTS; i++)
        r[i] = (rice) { 8, 1 };
      for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
          {
            size_t i = ((size_t) y * w + x) * 3 + c;
            int ctx;
            int32_t pred = predict (kind, values, w, x, y, i, &ctx);
            int64_t u = br_rice (br, &r[ctx]);
            if (u < 0)
              return decode_fail (msg, len, "", c, x, y, INT64_MIN);
            int64_t v = pred + (u & 1 ? -(u >> 1) - 1 : u >> 1);
            if (v < lo || v > hi)
              return decode_fail (msg, len, kind == PACK_LAB16 ? "int16"
                                  : "8-bit", c, x, y, v);
            if (kind == PACK_LAB16)
              ((int16_t *) values)[i] = (int16_t) v;
            else
              ((unsigned char *) values)[i] = (unsigned char) v;
          }
    }
  return 0;
}

int
pack_decode (pack_kind kind, const unsigned char *in, size_t size, uint32_t w,
             uint32_t h, void *values, char *msg, size_t len)
{
  bitr br = { in, in + size, 0, 0 };
  int rc = kind == PACK_LAB16
           ? decode_planes (PACK_LAB16, &br, w, h, values, msg, len)
           : decode_planes (PACK_RGB8, &br, w, h, values, msg, len);
  if (rc)
    return rc;
  size_t used = (size_t) (br.p - in) - (size_t) (br.nb / 8);
  if (used != size)
    {
      snprintf (msg, len, "%zu bytes left over after the last value (%zu "
                "of %zu used)", size - used, used, size);
      return -1;
    }
  return 0;
}

/* ---- Reading ---------------------------------------------------------------- */

/* A string at offset off of the table, or NULL when it does not end
 * inside it. */
static const char *
table_string (const unsigned char *tab, uint64_t tab_size, uint32_t off)
{
  if (off >= tab_size)
    return NULL;
  const void *nul = memchr (tab + off, 0, tab_size - off);
  return nul ? (const char *) tab + off : NULL;
}

static int
parse_header (pack *p, const unsigned char *d, size_t n, const char *what,
              char *msg, size_t len)
{
  if (n < PACK_HEADER_SIZE)
    {
      snprintf (msg, len, "%s: %zu bytes, shorter than a pack header (%d)",
                what, n, PACK_HEADER_SIZE);
      return -1;
    }
  if (memcmp (d, PACK_MAGIC, 8))
    {
      snprintf (msg, len, "%s: not a colorize pack (wrong magic)", what);
      return -1;
    }
  uint32_t version = le32 (d + 8), kind = le32 (d + 12);
  if (version != PACK_VERSION)
    snprintf (msg, len, "%s: pack version %u, this program reads %u", what,
              version, PACK_VERSION);
  else if (kind != PACK_LAB16 && kind != PACK_RGB8)
    snprintf (msg, len, "%s: unknown record kind %u", what, kind);
  else
    msg[0] = 0;
  if (msg[0])
    return -1;
  p->kind = (pack_kind) kind;
  p->short_side = (int) le32 (d + 16);
  p->gray_threshold = lef32 (d + 20);
  p->n_sources = le32 (d + 24);
  p->n = le32 (d + 28);
  p->index_offset = le64 (d + 32);
  uint64_t isize = le64 (d + 40);
  uint64_t need = (uint64_t) p->n_sources * PACK_SOURCE_SIZE
                  + (uint64_t) p->n * PACK_RECORD_SIZE + 8;
  if (kind == PACK_LAB16 && (p->short_side < 8 || p->short_side > 100000))
    snprintf (msg, len, "%s: header: shorter side %d, expected 8..100000",
              what, p->short_side);
  else if (kind == PACK_LAB16 && !(p->gray_threshold >= 0.0f
                                    && p->gray_threshold <= 100.0f))
    snprintf (msg, len, "%s: header: grey threshold %g, expected 0..100",
              what, (double) p->gray_threshold);
  else if (p->n_sources < 1 || p->n < 1)
    snprintf (msg, len, "%s: header: %u sources and %u records, expected at "
              "least 1 of each", what, p->n_sources, p->n);
  else if (p->index_offset < PACK_HEADER_SIZE || p->index_offset > n
           || isize != n - p->index_offset)
    snprintf (msg, len, "%s: %s: the file has %zu bytes, the header says "
              "%llu + %llu (records + index)", what, p->index_offset
              + isize > n ? "truncated" : "wrong size", n,
              (unsigned long long) p->index_offset,
              (unsigned long long) isize);
  else if (isize < need)
    snprintf (msg, len, "%s: index of %llu bytes, %u sources and %u records "
              "need at least %llu", what, (unsigned long long) isize,
              p->n_sources, p->n, (unsigned long long) need);
  else if (isize - need != le64 (d + p->index_offset + need - 8))
    snprintf (msg, len, "%s: string table of %llu bytes, the index holds %llu",
              what, (unsigned long long) le64 (d + p->index_offset + need - 8),
              (unsigned long long) (isize - need));
  return msg[0] ? -1 : 0;
}

static int
parse_sources (pack *p, const unsigned char *d, const unsigned char *tab,
               uint64_t tab_size, const char *what, char *msg, size_t len)
{
  const unsigned char *e = d + p->index_offset;
  uint32_t next = 0;
  for (uint32_t s = 0; s < p->n_sources; s++, e += PACK_SOURCE_SIZE)
    {
      pack_source *src = &p->sources[s];
      src->name = table_string (tab, tab_size, le32 (e));
      src->files = le32 (e + 4);
      src->unreadable = le32 (e + 8);
      src->gray = le32 (e + 12);
      src->first = le32 (e + 16);
      src->records = le32 (e + 20);
      src->variants = le32 (e + 24);
      for (int i = 0; i < PACK_HBINS; i++)
        for (int j = 0; j < PACK_HBINS; j++)
          src->hist[i][j] = le64 (e + 28 + (i * PACK_HBINS + j) * 8);
      if (!src->name)
        snprintf (msg, len, "%s: source %u: name at %u is not in the string "
                  "table (%llu bytes)", what, s, le32 (e),
                  (unsigned long long) tab_size);
      else if (src->first != next || src->records > p->n - next)
        snprintf (msg, len, "%s: source %u (%s): records %u..%u, expected "
                  "them to start at %u and end by %u", what, s, src->name,
                  src->first, src->first + src->records, next, p->n);
      else if (src->variants < 1 || src->variants > PACK_MAX_VARIANTS)
        snprintf (msg, len, "%s: source %u (%s): %u variants, expected "
                  "1..%d", what, s, src->name, src->variants,
                  PACK_MAX_VARIANTS);
      else if ((uint64_t) src->records + (uint64_t) src->variants
               * ((uint64_t) src->unreadable + src->gray)
               != (uint64_t) src->variants * src->files)
        snprintf (msg, len, "%s: source %u (%s): %u files, but %u records / "
                  "%u variants + %u unreadable + %u near-grayscale", what, s,
                  src->name, src->files, src->records, src->variants,
                  src->unreadable, src->gray);
      if (msg[0])
        return -1;
      next += src->records;
    }
  if (next != p->n)
    {
      snprintf (msg, len, "%s: the sources hold %u records, the header says "
                "%u", what, next, p->n);
      return -1;
    }
  return 0;
}

static int
parse_records (pack *p, const unsigned char *d, const unsigned char *tab,
               uint64_t tab_size, const char *what, char *msg, size_t len)
{
  const unsigned char *e = d + p->index_offset
                           + (size_t) p->n_sources * PACK_SOURCE_SIZE;
  uint64_t end = PACK_HEADER_SIZE;
  uint32_t s = 0;
  for (uint32_t k = 0; k < p->n; k++, e += PACK_RECORD_SIZE)
    {
      pack_record *r = &p->records[k];
      r->offset = le64 (e);
      r->checksum = le64 (e + 8);
      r->size = le32 (e + 16);
      r->w = le32 (e + 20);
      r->h = le32 (e + 24);
      r->source = le32 (e + 28);
      r->path = table_string (tab, tab_size, le32 (e + 32));
      r->mean_chroma = lef32 (e + 36);
      while (s < p->n_sources
             && k >= p->sources[s].first + p->sources[s].records)
        s++;
      uint32_t shorter = r->w < r->h ? r->w : r->h;
      if (!r->path)
        snprintf (msg, len, "%s: record %u: path at %u is not in the string "
                  "table", what, k, le32 (e + 32));
      else if (r->source != s)
        snprintf (msg, len, "%s: record %u (%s): source %u, expected %u", what,
                  k, r->path, r->source, s);
      else if (r->offset != end || r->size < 1
               || r->size > p->index_offset - r->offset)
        snprintf (msg, len, "%s: record %u (%s): bytes %llu + %u, expected "
                  "them to start at %llu and end by the index at %llu", what,
                  k, r->path, (unsigned long long) r->offset, r->size,
                  (unsigned long long) end,
                  (unsigned long long) p->index_offset);
      else if (r->w < 1 || r->h < 1 || r->w > PACK_MAX_SIDE
               || r->h > PACK_MAX_SIDE
               || (uint64_t) r->w * r->h > PACK_MAX_PIXELS)
        snprintf (msg, len, "%s: record %u (%s): size %ux%u, expected 1..%d "
                  "a side and at most %u pixels", what, k, r->path, r->w,
                  r->h, PACK_MAX_SIDE, PACK_MAX_PIXELS);
      else if (p->kind == PACK_LAB16 && shorter > (uint32_t) p->short_side)
        snprintf (msg, len, "%s: record %u (%s): size %ux%u, shorter side "
                  "above the pack's %d", what, k, r->path, r->w, r->h,
                  p->short_side);
      else if (!isfinite (r->mean_chroma) || r->mean_chroma < 0)
        snprintf (msg, len, "%s: record %u (%s): mean chroma %g", what, k,
                  r->path, (double) r->mean_chroma);
      if (msg[0])
        return -1;
      end = r->offset + r->size;
    }
  if (end != p->index_offset)
    {
      snprintf (msg, len, "%s: the records end at %llu, the index starts at "
                "%llu", what, (unsigned long long) end,
                (unsigned long long) p->index_offset);
      return -1;
    }
  return 0;
}

/* The checksums come last, so that a fuzzer reaches every check above
 * (as in checkpoint.c); a damaged file fails one or the other. */
static int
check_sums (const pack *p, const unsigned char *d, size_t n, const char *what,
            char *msg, size_t len)
{
  if (le64 (d + 56) != checkpoint_fnv1a (CHECKPOINT_FNV_SEED, d, 56))
    snprintf (msg, len, "%s: header checksum mismatch (damaged file)", what);
  else if (checkpoint_fnv1a (CHECKPOINT_FNV_SEED, d + p->index_offset,
                             n - p->index_offset) != le64 (d + 48))
    snprintf (msg, len, "%s: index checksum mismatch (damaged file)", what);
  return msg[0] ? -1 : 0;
}

int
pack_parse (pack *p, const unsigned char *data, size_t n, const char *what,
            char *msg, size_t len)
{
  memset (p, 0, sizeof *p);
  msg[0] = 0;
  if (parse_header (p, data, n, what, msg, len))
    return -1;
  size_t need = (size_t) p->n_sources * PACK_SOURCE_SIZE
                + (size_t) p->n * PACK_RECORD_SIZE + 8;
  const unsigned char *tab = data + p->index_offset + need;
  uint64_t tab_size = n - p->index_offset - need;
  p->sources = calloc (p->n_sources, sizeof *p->sources);
  p->records = calloc (p->n, sizeof *p->records);
  if (!p->sources || !p->records)
    snprintf (msg, len, "%s: out of memory for %u records", what, p->n);
  if (msg[0] || parse_sources (p, data, tab, tab_size, what, msg, len)
      || parse_records (p, data, tab, tab_size, what, msg, len)
      || check_sums (p, data, n, what, msg, len))
    {
      free (p->sources);
      free (p->records);
      memset (p, 0, sizeof *p);
      return -1;
    }
  p->data = data;
  p->size = n;
  return 0;
}

int
pack_open (pack *p, const char *path, char *msg, size_t len)
{
  memset (p, 0, sizeof *p);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat (fd, &st))
    {
      snprintf (msg, len, "%s: %s", path, strerror (errno));
      if (fd >= 0)
        close (fd);
      return -1;
    }
  if (!S_ISREG (st.st_mode) || st.st_size < PACK_HEADER_SIZE)
    {
      snprintf (msg, len, "%s: %s", path, S_ISREG (st.st_mode)
                ? "too short for a colorize pack" : "not a regular file");
      close (fd);
      return -1;
    }
  size_t n = (size_t) st.st_size;
  void *map = mmap (NULL, n, PROT_READ, MAP_SHARED, fd, 0);
  int e = errno;
  close (fd);
  if (map == MAP_FAILED)
    {
      snprintf (msg, len, "%s: cannot map: %s", path, strerror (e));
      return -1;
    }
  madvise (map, n, MADV_RANDOM);  /* records are read in a random order */
  if (pack_parse (p, map, n, path, msg, len))
    {
      munmap (map, n);
      return -1;
    }
  p->mapped = 1;
  if (!(p->file = strdup (path)))
    {
      snprintf (msg, len, "out of memory");
      pack_close (p);
      return -1;
    }
  return 0;
}

void
pack_close (pack *p)
{
  if (p->mapped && p->data)
    munmap ((void *) p->data, p->size);
  free (p->sources);
  free (p->records);
  free (p->file);
  memset (p, 0, sizeof *p);
}

size_t
pack_record_bytes (const pack *p, uint32_t k)
{
  const pack_record *r = &p->records[k];
  return (size_t) r->w * r->h * 3 * (p->kind == PACK_LAB16 ? 2 : 1);
}

int
pack_read (const pack *p, uint32_t k, void *out, char *msg, size_t len)
{
  const char *what = p->file ? p->file : "pack";
  if (k >= p->n)
    {
      snprintf (msg, len, "%s: record %u of %u", what, k, p->n);
      return -1;
    }
  const pack_record *r = &p->records[k];
  const unsigned char *b = p->data + r->offset;
  long pg = sysconf (_SC_PAGESIZE);
  uintptr_t a = (uintptr_t) b & ~(uintptr_t) (pg - 1);
  size_t span = (uintptr_t) (b + r->size) - a;
  if (p->mapped)  /* one read of the record, not a page fault a page */
    madvise ((void *) a, span, MADV_WILLNEED);
  uint64_t sum = checkpoint_fnv1a (CHECKPOINT_FNV_SEED, b, r->size);
  char why[256];
  int rc = 0;
  if (sum != r->checksum)
    {
      snprintf (msg, len, "%s: record %u (%s): checksum mismatch, expected "
                "%016llx, found %016llx (damaged file)", what, k, r->path,
                (unsigned long long) r->checksum, (unsigned long long) sum);
      rc = -1;
    }
  else if (pack_decode (p->kind, b, r->size, r->w, r->h, out, why, sizeof why))
    {
      snprintf (msg, len, "%s: record %u (%s, %ux%u): %s", what, k, r->path,
                r->w, r->h, why);
      rc = -1;
    }
  /* Keep resident memory bounded: the pages stay in the page cache
   * (shared by the processes of a node), not in this process. */
  if (p->mapped)
    madvise ((void *) a, span, MADV_DONTNEED);
  return rc;
}

/* ---- Writing ---------------------------------------------------------------- */

struct pack_writer {
  char *path, *tmp;
  FILE *f;
  pack_kind kind;
  int short_side;
  float gray_threshold;
  uint64_t offset;
  pack_source *sources;
  pack_record *records;
  uint32_t *src_name, *rec_path;    /* string table offsets */
  uint32_t n_sources, n, cap_sources, cap_records;
  char *strings;
  size_t strings_size, strings_cap;
};

static int
writer_string (pack_writer *w, const char *s, uint32_t *off)
{
  size_t l = strlen (s) + 1;
  if (w->strings_size + l > UINT32_MAX)
    return -1;
  if (w->strings_size + l > w->strings_cap)
    {
      size_t cap = w->strings_cap ? w->strings_cap * 2 : 65536;
      while (cap < w->strings_size + l)
        cap *= 2;
      char *t = realloc (w->strings, cap);
      if (!t)
        return -1;
      w->strings = t;
      w->strings_cap = cap;
    }
  memcpy (w->strings + w->strings_size, s, l);
  *off = (uint32_t) w->strings_size;
  w->strings_size += l;
  return 0;
}

int
pack_writer_open (pack_writer **out, const char *path, pack_kind kind,
                  int short_side, float gray_threshold, char *msg, size_t len)
{
  pack_writer *w = calloc (1, sizeof *w);
  if (!w || !(w->path = strdup (path)) || !(w->tmp = nn_temp_path (path)))
    {
      snprintf (msg, len, "out of memory");
      pack_writer_abort (w);
      return -1;
    }
  int fd = open (w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || !(w->f = fdopen (fd, "wb")))
    {
      snprintf (msg, len, "cannot write %s: %s", w->tmp, strerror (errno));
      if (fd >= 0)
        {
          close (fd);
          unlink (w->tmp);
        }
      free (w->tmp);
      w->tmp = NULL;
      pack_writer_abort (w);
      return -1;
    }
  w->kind = kind;
  w->short_side = kind == PACK_LAB16 ? short_side : 0;
  w->gray_threshold = kind == PACK_LAB16 ? gray_threshold : 0.0f;
  unsigned char zero[PACK_HEADER_SIZE] = { 0 };
  w->offset = PACK_HEADER_SIZE;
  if (fwrite (zero, 1, sizeof zero, w->f) != sizeof zero)
    {
      snprintf (msg, len, "cannot write %s: %s", w->tmp, strerror (errno));
      pack_writer_abort (w);
      return -1;
    }
  *out = w;
  return 0;
}

static int
grow (void **v, uint32_t *cap, uint32_t n, size_t elem)
{
  if (n < *cap)
    return 0;
  uint32_t c = *cap ? *cap * 2 : 64;
  void *t = realloc (*v, (size_t) c * elem);
  if (!t)
    return -1;
  *v = t;
  *cap = c;
  return 0;
}

int
pack_writer_source (pack_writer *w, const char *name, char *msg, size_t len)
{
  uint32_t cap = w->cap_sources;
  if (grow ((void **) &w->sources, &cap, w->n_sources, sizeof *w->sources)
      || grow ((void **) &w->src_name, &w->cap_sources, w->n_sources,
               sizeof *w->src_name)
      || writer_string (w, name, &w->src_name[w->n_sources]))
    {
      snprintf (msg, len, "out of memory");
      return -1;
    }
  pack_source *s = &w->sources[w->n_sources++];
  memset (s, 0, sizeof *s);
  s->first = w->n;
  return 0;
}

int
pack_writer_add (pack_writer *w, const unsigned char *enc, size_t size,
                 uint32_t width, uint32_t height, const char *path,
                 float mean_chroma,
                 const uint64_t hist[PACK_HBINS][PACK_HBINS], char *msg,
                 size_t len)
{
  uint32_t cap = w->cap_records;
  if (!w->n_sources || w->n == UINT32_MAX || size > UINT32_MAX)
    {
      snprintf (msg, len, "%s: record %u: too large or no source", path, w->n);
      return -1;
    }
  if (grow ((void **) &w->records, &cap, w->n, sizeof *w->records)
      || grow ((void **) &w->rec_path, &w->cap_records, w->n,
               sizeof *w->rec_path)
      || writer_string (w, path, &w->rec_path[w->n]))
    {
      snprintf (msg, len, "out of memory");
      return -1;
    }
  if (fwrite (enc, 1, size, w->f) != size)
    {
      snprintf (msg, len, "cannot write %s: %s", w->tmp, strerror (errno));
      return -1;
    }
  pack_record *r = &w->records[w->n++];
  *r = (pack_record) { w->offset, checkpoint_fnv1a (CHECKPOINT_FNV_SEED, enc,
                                                    size),
                       (uint32_t) size, width, height, w->n_sources - 1, NULL,
                       mean_chroma };
  w->offset += size;
  pack_source *s = &w->sources[w->n_sources - 1];
  s->records++;
  if (hist)
    for (int i = 0; i < PACK_HBINS; i++)
      for (int j = 0; j < PACK_HBINS; j++)
        s->hist[i][j] += hist[i][j];
  return 0;
}

void
pack_writer_end_source (pack_writer *w, uint32_t files, uint32_t unreadable,
                        uint32_t gray, uint32_t variants)
{
  pack_source *s = &w->sources[w->n_sources - 1];
  s->variants = variants;
  s->files = files;
  s->unreadable = unreadable;
  s->gray = gray;
}

/* Writes n bytes to f and into the running checksum. */
static int
index_put (FILE *f, uint64_t *h, const void *b, size_t n)
{
  *h = checkpoint_fnv1a (*h, b, n);
  return fwrite (b, 1, n, f) == n ? 0 : -1;
}

static int
write_index (pack_writer *w, uint64_t *sum, uint64_t *size)
{
  int bad = 0;
  *sum = CHECKPOINT_FNV_SEED;
  unsigned char e[PACK_SOURCE_SIZE];
  for (uint32_t i = 0; i < w->n_sources && !bad; i++)
    {
      const pack_source *s = &w->sources[i];
      put32 (e, w->src_name[i]);
      put32 (e + 4, s->files);
      put32 (e + 8, s->unreadable);
      put32 (e + 12, s->gray);
      put32 (e + 16, s->first);
      put32 (e + 20, s->records);
      put32 (e + 24, s->variants);
      for (int a = 0; a < PACK_HBINS; a++)
        for (int b = 0; b < PACK_HBINS; b++)
          put64 (e + 28 + (a * PACK_HBINS + b) * 8, s->hist[a][b]);
      bad = index_put (w->f, sum, e, PACK_SOURCE_SIZE);
    }
  for (uint32_t k = 0; k < w->n && !bad; k++)
    {
      const pack_record *r = &w->records[k];
      put64 (e, r->offset);
      put64 (e + 8, r->checksum);
      put32 (e + 16, r->size);
      put32 (e + 20, r->w);
      put32 (e + 24, r->h);
      put32 (e + 28, r->source);
      put32 (e + 32, w->rec_path[k]);
      put32 (e + 36, f32bits (r->mean_chroma));
      bad = index_put (w->f, sum, e, PACK_RECORD_SIZE);
    }
  put64 (e, w->strings_size);
  bad = bad || index_put (w->f, sum, e, 8)
        || index_put (w->f, sum, w->strings, w->strings_size);
  *size = (uint64_t) w->n_sources * PACK_SOURCE_SIZE
          + (uint64_t) w->n * PACK_RECORD_SIZE + 8 + w->strings_size;
  return bad;
}

int
pack_writer_finish (pack_writer *w, char *msg, size_t len)
{
  if (!w->n)
    {
      snprintf (msg, len, "%s: no record to write", w->path);
      pack_writer_abort (w);
      return -1;
    }
  uint64_t isum, isize;
  int bad = write_index (w, &isum, &isize);
  unsigned char h[PACK_HEADER_SIZE] = { 0 };
  memcpy (h, PACK_MAGIC, 8);
  put32 (h + 8, PACK_VERSION);
  put32 (h + 12, w->kind);
  put32 (h + 16, (uint32_t) w->short_side);
  put32 (h + 20, f32bits (w->gray_threshold));
  put32 (h + 24, w->n_sources);
  put32 (h + 28, w->n);
  put64 (h + 32, w->offset);
  put64 (h + 40, isize);
  put64 (h + 48, isum);
  put64 (h + 56, checkpoint_fnv1a (CHECKPOINT_FNV_SEED, h, 56));
  bad = bad || fseek (w->f, 0, SEEK_SET)
        || fwrite (h, 1, sizeof h, w->f) != sizeof h || fflush (w->f)
        || fsync (fileno (w->f));
  int e = errno;
  bad |= fclose (w->f) != 0;
  w->f = NULL;
  if (bad || rename (w->tmp, w->path))
    {
      snprintf (msg, len, "cannot write %s: %s", bad ? w->tmp : w->path,
                strerror (bad ? e : errno));
      pack_writer_abort (w);
      return -1;
    }
  free (w->tmp);
  w->tmp = NULL;
  /* The rename itself reaches the disk with the folder. */
  char *dir = strdup (w->path);
  int dfd = dir ? open (dirname (dir), O_RDONLY | O_DIRECTORY) : -1;
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  free (dir);
  pack_writer_abort (w);
  return 0;
}

void
pack_writer_abort (pack_writer *w)
{
  if (!w)
    return;
  if (w->f)
    fclose (w->f);
  if (w->tmp)
    unlink (w->tmp);
  free (w->tmp);
  free (w->path);
  free (w->sources);
  free (w->records);
  free (w->src_name);
  free (w->rec_path);
  free (w->strings);
  free (w);
}

const char *
pack_writer_tmp (const pack_writer *w)
{
  return w ? w->tmp : NULL;
}
