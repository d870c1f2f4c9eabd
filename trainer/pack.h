/* pack.h - a packed data set: many photos in one file, read through a
 * memory map (issue 14).  `colorize-train pack DIR... --out SET.pack`
 * writes one (cmd_pack.c), `train --data SET.pack` and `--val` read it
 * (trainset.h), `info SET.pack` lists it.
 *
 * Two kinds of records:
 *   PACK_LAB16  training photos exactly as train caches them (dataset.h):
 *               shrunk so that the shorter side is at most short_side,
 *               CIE Lab quantized to int16 (L * 300, a and b * 200),
 *               near-grayscale photos left out.  A sample made from a
 *               record equals the sample made from the folder.
 *   PACK_RGB8   the photos whole as "R'G'B' u8" (pack --full): the 8-bit
 *               truth that validation and eval compare against; nothing
 *               left out but unreadable files.
 *
 * Record encoding (lossless): the w x h x 3 interleaved values, channel by
 * channel, row by row; each value predicted from its left (a), upper (b)
 * and upper-left (c) neighbours in the same channel with LOCO-I's median
 * edge detector (min (a, b) if c >= max (a, b), max (a, b) if c <= min
 * (a, b), else a + b - c; the first row uses a, the first column b, the
 * first value 0); the residual e, zigzag-mapped to u = 2e (e >= 0) or
 * -2e - 1, is Rice-coded with parameter k: u >> k one-bits, a zero-bit,
 * then the k low bits of u, most significant first; u >> k >= 24 is
 * written as 24 one-bits and u in 18 bits.  k is the smallest (at most
 * 18) with N << k >= A, where A and N belong to the value's context: per
 * channel 16 contexts, the bit length of |a - c| + |b - c| (at most 15; 0
 * on the first row and column).  Each context's A starts at 8 and N at 1;
 * each value adds u to A and 1 to N, and both are halved when N reaches
 * 64.  Bits fill bytes from the most significant bit; the last byte is
 * padded with zeros.  Measured on ../shared/data/train (1524 records at
 * shorter side 160): 136 KB a record, 0.632 of the int16 cache's 216 KB;
 * decoding with the checksum 1.7 ms a record on a loaded core (README).
 *
 * File layout (little-endian; offsets from the start of the file):
 *   header, PACK_HEADER_SIZE (64) bytes:
 *      0  "CLRZPACK"
 *      8  u32 version (1)
 *     12  u32 kind (1 PACK_LAB16, 2 PACK_RGB8)
 *     16  u32 short_side (PACK_LAB16; 0 for PACK_RGB8)
 *     20  f32 gray_threshold (PACK_LAB16; 0 for PACK_RGB8)
 *     24  u32 source count S (>= 1)
 *     28  u32 record count R (>= 1)
 *     32  u64 index offset (= the end of the records)
 *     40  u64 index size (the index ends the file)
 *     48  u64 FNV-1a 64 of the index
 *     56  u64 FNV-1a 64 of header bytes 0..55
 *   the records' encoded bytes, back to back from byte 64, in index order;
 *   the index:
 *     S source entries of PACK_SOURCE_SIZE (3900) bytes: u32 name (offset
 *       of the folder's path in the string table), u32 files found, u32
 *       unreadable, u32 near-grayscale, u32 first record, u32 records
 *       (records of a source are contiguous, sources in order), u32
 *       variants V (1..PACK_MAX_VARIANTS: records = V x (files -
 *       unreadable - near-grayscale); V > 1 only from pack --variants, for
 *       measurements), then 22 x 22 u64: the a,b
 *       histogram of its pixels in dataset.h's rare-colour bins (zeros
 *       for PACK_RGB8);
 *     R record entries of PACK_RECORD_SIZE (40) bytes: u64 offset, u64
 *       FNV-1a 64 of the encoded bytes, u32 their size, u32 w, u32 h, u32
 *       source, u32 path (offset in the string table), f32 the photo's
 *       mean chroma at full resolution;
 *     u64 string table size, then the table: NUL-terminated UTF-8 paths.
 * The FNV-1a 64 is checkpoint.h's (seed CHECKPOINT_FNV_SEED).
 *
 * Writing (pack_writer_*): to the temporary nn_temp_path (path) beside the
 * output (".colorize-PID-NAME", trainer/tmpfile.h), then fsync, rename
 * and fsync of the folder: an interrupted run never leaves a file under
 * the final name.
 */
#ifndef TRAINER_PACK_H
#define TRAINER_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PACK_MAGIC "CLRZPACK"
#define PACK_VERSION 1u
#define PACK_HEADER_SIZE 64
#define PACK_HBINS 22              /* = DATASET_WBINS */
#define PACK_SOURCE_SIZE (28 + PACK_HBINS * PACK_HBINS * 8)
#define PACK_MAX_VARIANTS 16
#define PACK_RECORD_SIZE 40
#define PACK_MAX_SIDE 65535
#define PACK_MAX_PIXELS (1u << 28)

typedef enum pack_kind {
  PACK_LAB16 = 1,
  PACK_RGB8 = 2
} pack_kind;

typedef struct pack_source {
  const char *name;                /* the folder as given to pack */
  uint32_t files, unreadable, gray, first, records, variants;
  uint64_t hist[PACK_HBINS][PACK_HBINS];
} pack_source;

typedef struct pack_record {
  uint64_t offset, checksum;
  uint32_t size, w, h, source;
  const char *path;
  float mean_chroma;
} pack_record;

typedef struct pack {
  char *file;                      /* the path it was opened from */
  const unsigned char *data;       /* the mapped file (or the caller's) */
  size_t size;
  int mapped;
  pack_kind kind;
  int short_side;
  float gray_threshold;
  uint32_t n_sources, n;
  pack_source *sources;
  pack_record *records;
  uint64_t index_offset;
} pack;

/* Checks n bytes of a whole pack file (header, index, every entry; not the
 * records' own bytes) and fills p; strings point into data, which must
 * outlive p.  `what` names the file in messages.  Returns 0, or -1 with a
 * message that names the file, the part (header, source s, record k) and
 * what was expected and found. */
int pack_parse (pack *p, const unsigned char *data, size_t n,
                const char *what, char *msg, size_t len);

/* Maps path read-only and parses it.  Returns 0 or -1 with a message. */
int pack_open (pack *p, const char *path, char *msg, size_t len);
void pack_close (pack *p);

/* Record k decoded into out (w * h * 3 values: int16_t for PACK_LAB16,
 * unsigned char for PACK_RGB8), after checking its checksum.  Returns 0,
 * or -1 with a message naming the file, the record and its path. */
int pack_read (const pack *p, uint32_t k, void *out, char *msg, size_t len);

/* Bytes of a decoded record. */
size_t pack_record_bytes (const pack *p, uint32_t k);

/* The codec alone: encodes w * h * 3 values (int16_t for PACK_LAB16,
 * unsigned char for PACK_RGB8) into a malloc'ed buffer.  Returns 0, or -1
 * when out of memory. */
int pack_encode (pack_kind kind, const void *values, uint32_t w, uint32_t h,
                 unsigned char **out, size_t *out_size);
/* Decodes size bytes into w * h * 3 values.  Returns 0, or -1 with what is
 * wrong (ends early, a value out of range, bytes left over). */
int pack_decode (pack_kind kind, const unsigned char *in, size_t size,
                 uint32_t w, uint32_t h, void *values, char *msg, size_t len);

/* ---- Writing ---------------------------------------------------------------- */

typedef struct pack_writer pack_writer;

/* Starts writing path (through a temporary file beside it). */
int pack_writer_open (pack_writer **w, const char *path, pack_kind kind,
                      int short_side, float gray_threshold, char *msg,
                      size_t len);
/* Begins the next source (a folder); its counts are set by
 * pack_writer_end_source. */
int pack_writer_source (pack_writer *w, const char *name, char *msg,
                        size_t len);
/* Appends one record of the current source: its encoded bytes, size and
 * path, and adds hist (may be NULL) to the source's histogram. */
int pack_writer_add (pack_writer *w, const unsigned char *enc, size_t size,
                     uint32_t width, uint32_t height, const char *path,
                     float mean_chroma,
                     const uint64_t hist[PACK_HBINS][PACK_HBINS], char *msg,
                     size_t len);
void pack_writer_end_source (pack_writer *w, uint32_t files,
                             uint32_t unreadable, uint32_t gray,
                             uint32_t variants);
/* Writes the index, fsyncs and renames into place.  Frees w. */
int pack_writer_finish (pack_writer *w, char *msg, size_t len);
/* Removes the temporary file.  Frees w. */
void pack_writer_abort (pack_writer *w);
/* The temporary file's path (for a signal handler), or NULL. */
const char *pack_writer_tmp (const pack_writer *w);

#endif
