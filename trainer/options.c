/* options.c - the trainer's command lines from tables (options.h). */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blas.h"
#include "model.h"
#include "options.h"

#define FIELD(args, o, type) ((type *) ((char *) (args) + (o)->at))
#define CFIELD(args, o, type) ((const type *) ((const char *) (args) + (o)->at))

static const option *
options_find (const option_table *t, const char *name)
{
  for (int k = 0; k < t->n; k++)
    if (!strcmp (name, t->opts[k].name)
        || (t->opts[k].alias && !strcmp (name, t->opts[k].alias)))
      return &t->opts[k];
  return NULL;
}

/* "a|b|c" as "a, b or c". */
static void
options_choices_text (const char *choices, char *buf, size_t len)
{
  size_t n = 0;
  buf[0] = 0;
  for (const char *c = choices; *c && n + 8 < len; )
    {
      size_t w = strcspn (c, "|");
      const char *sep = c == choices ? "" : strchr (c + w, '|') ? ", " : " or ";
      n += snprintf (buf + n, len - n, "%s%.*s", sep, (int) w, c);
      c += w + (c[w] == '|');
    }
}

static int
options_is_choice (const char *choices, const char *v)
{
  size_t vl = strlen (v);
  for (const char *c = choices; *c; )
    {
      size_t w = strcspn (c, "|");
      if (w == vl && !strncmp (c, v, w))
        return 1;
      c += w + (c[w] == '|');
    }
  return 0;
}

static int
options_integer (const char *cmd, const option *o, const char *typed,
                 const char *v, void *args)
{
  char *end;
  errno = 0;
  long long x = strtoll (v, &end, 10);
  if (!*v || *end || errno || x < o->lo || x > o->hi
      || (o->multiple && x % o->multiple))
    {
      char step[48] = "";
      if (o->multiple)
        snprintf (step, sizeof step, " (a multiple of %d)", o->multiple);
      fprintf (stderr, "colorize-train %s: %s expects an integer in "
               "%lld..%lld%s, got '%s'\n", cmd, typed, o->lo, o->hi, step, v);
      return -1;
    }
  if (o->type == OPT_INT)
    *FIELD (args, o, int) = (int) x;
  else if (o->type == OPT_INT64)
    *FIELD (args, o, int64_t) = (int64_t) x;
  else
    *FIELD (args, o, uint64_t) = (uint64_t) x;
  return 0;
}

static int
options_double (const char *cmd, const option *o, const char *typed,
                const char *v, void *args)
{
  char *end;
  errno = 0;
  double x = strtod (v, &end);
  if (!*v || *end || errno || !isfinite (x) || x < o->min || x > o->max)
    {
      fprintf (stderr, "colorize-train %s: %s expects a number in %g..%g, "
               "got '%s'\n", cmd, typed, o->min, o->max, v);
      return -1;
    }
  *FIELD (args, o, double) = x;
  return 0;
}

static int
options_whole (const char *cmd, const option *o, const char *typed,
               const char *v, void *args)
{
  char *end;
  errno = 0;
  double x = strtod (v, &end);
  if (!*v || *end || errno || !(x >= o->lo && x <= o->hi) || x != floor (x))
    {
      fprintf (stderr, "colorize-train %s: %s expects a number in "
               "%lld..%lld%s, got '%s'\n", cmd, typed, o->lo, o->hi,
               x != floor (x) ? " (a whole one)" : "", v);
      return -1;
    }
  *FIELD (args, o, int) = (int) x;
  return 0;
}

/* Option o (typed as `typed`) with value v into args. */
static int
options_store (const char *cmd, const option *o, const char *typed,
               char *v, void *args)
{
  char what[256];
  switch (o->type)
    {
    case OPT_INT:
    case OPT_INT64:
    case OPT_UINT64:
      return options_integer (cmd, o, typed, v, args);
    case OPT_DOUBLE:
      return options_double (cmd, o, typed, v, args);
    case OPT_WHOLE:
      return options_whole (cmd, o, typed, v, args);
    case OPT_STRING:
      *FIELD (args, o, const char *) = v;
      return 0;
    case OPT_TEXT:
      if (!*v || strlen (v) >= o->size || strchr (v, '\n'))
        {
          fprintf (stderr, "colorize-train %s: %s expects %s (one line, "
                   "under %zu bytes)\n", cmd, typed, o->meta, o->size);
          return -1;
        }
      snprintf (FIELD (args, o, char), o->size, "%s", v);
      return 0;
    case OPT_ENUM:
      if (!options_is_choice (o->choices, v) || strlen (v) >= o->size)
        {
          options_choices_text (o->choices, what, sizeof what);
          fprintf (stderr, "colorize-train %s: %s must be %s, got '%s'\n",
                   cmd, typed, what, v);
          return -1;
        }
      snprintf (FIELD (args, o, char), o->size, "%s", v);
      return 0;
    case OPT_LIST:
      {
        int *n = (int *) ((char *) args + o->count);
        if (*n >= o->hi)
          {
            fprintf (stderr, "colorize-train %s: %s takes at most %lld "
                     "values\n", cmd, typed, o->hi);
            return -1;
          }
        FIELD (args, o, char *)[(*n)++] = v;
        return 0;
      }
    case OPT_FLAG:
      break;
    }
  return 0;
}

/* An argument that is not an option. */
static int
options_positional (const option_table *t, char *arg, void *args)
{
  int *n = (int *) ((char *) args + t->pos_count);
  if (!t->pos_max || *n >= t->pos_max)
    {
      fprintf (stderr, "colorize-train %s: unexpected argument '%s'\n",
               t->command, arg);
      options_usage (t);
      return -1;
    }
  ((char **) ((char *) args + t->pos_at))[(*n)++] = arg;
  return 0;
}

int
options_parse (const option_table *t, int argc, char **argv, void *args,
               unsigned char *given)
{
  if (given)
    memset (given, 0, (size_t) t->n);
  for (int i = 0; i < argc; i++)
    {
      char *a = argv[i];
      if (!strcmp (a, "-h") || !strcmp (a, "--help"))
        {
          options_usage (t);
          return 0;
        }
      if (strncmp (a, "--", 2))
        {
          if (options_positional (t, a, args))
            return 2;
          continue;
        }
      const option *o = options_find (t, a);
      if (!o)
        {
          fprintf (stderr, "colorize-train %s: unknown option '%s'\n",
                   t->command, a);
          options_usage (t);
          return 2;
        }
      if (given)
        given[o - t->opts] = 1;
      if (o->type == OPT_FLAG)
        {
          *FIELD (args, o, int) = 1;
          continue;
        }
      if (i + 1 >= argc)
        {
          fprintf (stderr, "colorize-train %s: option %s needs a value\n",
                   t->command, a);
          return 2;
        }
      if (options_store (t->command, o, a, argv[++i], args))
        return 2;
      while (o->type == OPT_LIST && i + 1 < argc
             && strncmp (argv[i + 1], "--", 2))
        if (options_store (t->command, o, a, argv[++i], args))
          return 2;
    }
  return -1;
}

/* Option o's range for the usage, or "". */
static void
options_range_text (const option *o, char *buf, size_t len)
{
  buf[0] = 0;
  if ((o->type == OPT_INT || o->type == OPT_INT64 || o->type == OPT_UINT64)
      && o->multiple)
    snprintf (buf, len, " [%lld..%lld, a multiple of %d]", o->lo, o->hi,
              o->multiple);
  else if (o->type == OPT_INT || o->type == OPT_INT64
           || o->type == OPT_UINT64 || o->type == OPT_WHOLE)
    snprintf (buf, len, " [%lld..%lld]", o->lo, o->hi);
  else if (o->type == OPT_DOUBLE)
    snprintf (buf, len, " [%g..%g]", o->min, o->max);
}

void
options_usage (const option_table *t)
{
  fprintf (stderr, "usage: colorize-train %s\n", t->synopsis);
  for (int k = 0; k < t->n; k++)
    {
      const option *o = &t->opts[k];
      if (!o->help)
        continue;
      char head[128], range[96];
      snprintf (head, sizeof head, "%s%s%s", o->name, o->meta ? " " : "",
                o->meta ? o->meta : "");
      options_range_text (o, range, sizeof range);
      fprintf (stderr, "  %-26s%s%s%s\n", head,
               strlen (head) > 25 ? "\n                            " : "",
               o->help, range);
      if (o->alias)
        {
          snprintf (head, sizeof head, "%s%s%s", o->alias, o->meta ? " " : "",
                    o->meta ? o->meta : "");
          fprintf (stderr, "  %-26s%sits older spelling, kept\n", head,
                   strlen (head) > 25 ? "\n                            " : "");
        }
    }
}

int
options_given (const option_table *t, const unsigned char *given,
               const char *name)
{
  const option *o = options_find (t, name);
  return o && given[o - t->opts];
}

void
options_settings_text (const option_table *t, const void *args, char *buf,
                       size_t len)
{
  size_t n = 0;
  buf[0] = 0;
  for (int k = 0; k < t->n && n < len; k++)
    {
      const option *o = &t->opts[k];
      if (!o->key)
        continue;
      char *p = buf + n;
      size_t room = len - n;
      int w = 0;
      if (o->type == OPT_INT)
        w = snprintf (p, room, "%s=%d\n", o->key, *CFIELD (args, o, int));
      else if (o->type == OPT_INT64)
        w = snprintf (p, room, "%s=%lld\n", o->key,
                      (long long) *CFIELD (args, o, int64_t));
      else if (o->type == OPT_UINT64)
        w = snprintf (p, room, "%s=%llu\n", o->key,
                      (unsigned long long) *CFIELD (args, o, uint64_t));
      else if (o->type == OPT_DOUBLE)
        w = snprintf (p, room, "%s=%.9g\n", o->key,
                      *CFIELD (args, o, double));
      else if (o->type == OPT_TEXT || o->type == OPT_ENUM)
        w = snprintf (p, room, "%s=%s\n", o->key, CFIELD (args, o, char));
      n += w > 0 ? (size_t) w : 0;
    }
}

int
options_settings_read (const option_table *t, const char *text, void *args,
                       const char **bad)
{
  for (int k = 0; k < t->n; k++)
    {
      const option *o = &t->opts[k];
      if (!o->key)
        continue;
      double x;
      int found;
      if (o->type == OPT_TEXT || o->type == OPT_ENUM)
        found = nn_metadata_string (text, o->key, FIELD (args, o, char),
                                    o->size) == 1;
      else
        found = nn_metadata_number (text, o->key, &x) == 1;
      if (!found && o->optional)
        continue;
      if (!found)
        {
          *bad = o->key;
          return -1;
        }
      if (o->type == OPT_INT)
        *FIELD (args, o, int) = (int) x;
      else if (o->type == OPT_INT64)
        *FIELD (args, o, int64_t) = (int64_t) x;
      else if (o->type == OPT_UINT64)
        *FIELD (args, o, uint64_t) = (uint64_t) x;
      else if (o->type == OPT_DOUBLE)
        *FIELD (args, o, double) = x;
    }
  return 0;
}

const option *
options_conflict (const option_table *t, const unsigned char *given,
                  const void *a, const void *b)
{
  for (int k = 0; k < t->n; k++)
    {
      const option *o = &t->opts[k];
      if (!o->key || !given[k])
        continue;
      int differ = 0;
      if (o->type == OPT_INT)
        differ = *CFIELD (a, o, int) != *CFIELD (b, o, int);
      else if (o->type == OPT_INT64)
        differ = *CFIELD (a, o, int64_t) != *CFIELD (b, o, int64_t);
      else if (o->type == OPT_UINT64)
        differ = *CFIELD (a, o, uint64_t) != *CFIELD (b, o, uint64_t);
      else if (o->type == OPT_DOUBLE)
        differ = *CFIELD (a, o, double) != *CFIELD (b, o, double);
      else if (o->type == OPT_TEXT || o->type == OPT_ENUM)
        differ = strcmp (CFIELD (a, o, char), CFIELD (b, o, char)) != 0;
      if (differ)
        return o;
    }
  return NULL;
}

void
options_set_threads (int n)
{
  if (n > 0)
    {
      nn_blas_set_threads (n);
      omp_set_num_threads (n);
    }
}
