/* npy.h - float32 NumPy .npy arrays (format version 1.0/2.0, little-endian
 * '<f4', C order), as numpy.save writes them. */
#ifndef TRAINER_NPY_H
#define TRAINER_NPY_H

#include <stddef.h>
#include <stdio.h>
#include "error.h"

#define NPY_MAX_DIMS 8

typedef struct npy_array {
  int ndim;
  size_t shape[NPY_MAX_DIMS];
  size_t size;  /* number of elements */
  float *data;
} npy_array;

nn_code npy_read (const char *path, npy_array *out, nn_error *err);
/* The same from an open, seekable stream (not closed); `path` names it in
 * messages.  The data the header promises must be in the stream: a
 * header that claims more is refused before anything is allocated. */
nn_code npy_read_stream (FILE *f, const char *path, npy_array *out,
                         nn_error *err);
nn_code npy_write (const char *path, const float *data, int ndim,
                   const size_t *shape, nn_error *err);
void npy_free (npy_array *a);

#endif
