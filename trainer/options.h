/* options.h - the trainer's command lines: one table per command.
 *
 * A command describes each option once, as an `option`: its name, an
 * older spelling that keeps working (alias), its type, the field of the
 * command's argument struct that it fills (offsetof), its range and a
 * help line.  From the table:
 *   options_parse          reads argv; an error names the option as it was
 *                          typed, the value and what was expected, and the
 *                          command exits 2;
 *   options_usage          prints the synopsis and one line per option;
 * and for train, whose settings carry a key:
 *   options_settings_text  the settings as "key=value\n" lines, in table
 *                          order: the text that checkpoints (checkpoint.h)
 *                          and weight metadata hold.  Its keys, order and
 *                          number formats (int %d, int64 %lld, uint64 %llu,
 *                          double %.9g, text as it is) are a file format:
 *                          checkpoints of older builds must still resume;
 *   options_settings_read  the same fields back from such a text;
 *   options_conflict       the first setting given on the command line
 *                          whose value differs from a checkpoint's.
 *
 * One name per setting across commands: --working-size (eval and apply
 * also take --size, its name before train had the option), --threads;
 * bench --input-size is the network's input side (bench --size, kept, is
 * its older spelling).
 *
 * Messages go to stderr as "colorize-train COMMAND: ...".
 */
#ifndef TRAINER_OPTIONS_H
#define TRAINER_OPTIONS_H

#include <stddef.h>
#include "colorize.h"

typedef enum option_type {
  OPT_INT,       /* int: lo..hi, a multiple of `multiple` when that is set */
  OPT_INT64,     /* int64_t: lo..hi */
  OPT_UINT64,    /* uint64_t: lo..hi (lo >= 0) */
  OPT_DOUBLE,    /* double: min..max, finite */
  OPT_WHOLE,     /* int written as any number (1e2, 160.0), whole, lo..hi:
                    pack's options, whose messages say "a number" */
  OPT_STRING,    /* const char *, pointing into argv */
  OPT_TEXT,      /* char[size], copied: one line, not empty, under size bytes */
  OPT_ENUM,      /* char[size]: one of `choices`, "a|b|c" */
  OPT_FLAG,      /* int, set to 1; takes no value */
  OPT_LIST       /* char *[hi], its count an int at `count`: the value and
                    every argument after it up to the next "--" */
} option_type;

typedef struct option {
  const char *name;        /* "--batch" */
  const char *alias;       /* an older spelling, still accepted, or NULL */
  option_type type;
  size_t at;               /* offsetof the field in the command's struct */
  size_t size;             /* OPT_TEXT, OPT_ENUM: sizeof the char array */
  long long lo, hi;        /* integer types; OPT_LIST: hi is the capacity */
  double min, max;         /* OPT_DOUBLE */
  int multiple;            /* integer types: 0, or a step the value keeps */
  const char *choices;     /* OPT_ENUM */
  size_t count;            /* OPT_LIST: offsetof its int count */
  const char *key;         /* train: the key in the settings text, or NULL;
                              settings are INT, INT64, UINT64, DOUBLE, TEXT
                              or ENUM options */
  int optional;            /* the key may be missing (checkpoints of older
                              builds): then the field keeps its default */
  const char *meta;        /* the value in the usage: "N", "FILE.weights" */
  const char *help;        /* NULL: left out of the usage (testing options) */
} option;

typedef struct option_table {
  const char *command;     /* "train" */
  const char *synopsis;    /* the usage line after "colorize-train " */
  const option *opts;
  int n;                   /* at most OPTIONS_MAX */
  /* arguments that are not options (apply IN OUT, pack DIR...): pos_max
   * of them into the char *[pos_max] at pos_at, their count at pos_count */
  int pos_max;
  size_t pos_at, pos_count;
} option_table;

#define OPTIONS_MAX 48
#define OPTIONS_COUNT(a) ((int) (sizeof (a) / sizeof (a)[0]))

/* The options every command that computes spells the same way. */
#define OPTIONS_THREADS_MAX 256
#define OPTION_THREADS(T, f)                                           \
  { .name = "--threads", .type = OPT_INT, .at = offsetof (T, f),       \
    .lo = 1, .hi = OPTIONS_THREADS_MAX, .meta = "N",                          \
    .help = "threads of OpenBLAS and OpenMP (default: theirs)" }

#define OPTION_WORKING_SIZE(T, f, old_name)                            \
  { .name = "--working-size", .alias = old_name, .type = OPT_INT,             \
    .at = offsetof (T, f), .lo = COLORIZE_MIN_WORKING_SIZE,            \
    .hi = COLORIZE_MAX_WORKING_SIZE, .meta = "S",                             \
    .help = OPTIONS_WORKING_SIZE_HELP }
#define OPTIONS_WORKING_SIZE_HELP                                             \
  "the side the network sees (default: the model's, else 256)"

/* Fills the struct at args from argv (given[k] = 1 for each option k of
 * the table that was on the command line; given may be NULL).  Returns -1
 * to go on, 0 after printing the usage for -h or --help, or 2 after an
 * error message (unknown option, missing or bad value, unexpected
 * argument). */
int options_parse (const option_table *t, int argc, char **argv, void *args,
                   unsigned char *given);

/* The usage on stderr: the synopsis, then each option with its range. */
void options_usage (const option_table *t);

/* Whether the option named `name` was given (options_parse's given). */
int options_given (const option_table *t, const unsigned char *given,
                   const char *name);

/* The settings (the options with a key) of the struct at args as
 * "key=value\n" lines into buf (NUL-terminated, cut at len). */
void options_settings_text (const option_table *t, const void *args,
                            char *buf, size_t len);

/* Reads every setting of text into the struct at args: a key that is
 * missing keeps its field when optional.  Returns 0, or -1 with *bad the
 * first key missing or unreadable. */
int options_settings_read (const option_table *t, const char *text,
                           void *args, const char **bad);

/* The first setting given (options_parse's given) whose field differs
 * between the structs at a and b, or NULL. */
const option *options_conflict (const option_table *t,
                                const unsigned char *given, const void *a,
                                const void *b);

/* --threads N: OpenBLAS and OpenMP both use n threads (0: their own
 * defaults are kept). */
void options_set_threads (int n);

#endif
