/* main.c - build/colorize-train: the trainer's command line. */
#include <stdio.h>
#include <string.h>
#include "commands.h"

typedef struct command {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *usage;
} command;

static const command commands[] = {
  { "init", cmd_init, "init --arch cnn|resnet18 --out FILE.weights [--seed S]\n"
    "        [--head ab|class] [--encoder DIR --data PHOTOS] (resnet18: ImageNet encoder)\n"
    "        [--from FILE.weights] (copy the tensors of the same name and shape)" },
  { "info", cmd_info, "info FILE.weights | info SET.pack [--records] [--check]" },
  { "forward", cmd_forward, "forward --weights W --input IN.npy --output OUT.npy" },
  { "bench", cmd_bench, "bench [--arch cnn|resnet18 | --weights W] [--input-size S] [--train] [--threads N] [--runs N] [--profile]" },
  { "train", cmd_train, "train --arch cnn|resnet18 --data DIR --out FILE.weights [--val DIR]\n"
    "        [--epochs N | --steps N | --minutes M] [--batch 16] [--crop 128] [--lr 1e-3]\n"
    "        [--threads N] [--seed S] [--init FILE.weights] [--resume FILE.ckpt] (--help: all)" },
  { "pack", cmd_pack, "pack DIR... --out SET.pack [--short-side 160] [--gray-threshold 3] [--full]" },
  { "eval", cmd_eval, "eval --weights W --data DIR|VAL.pack [--working-size S] [--sheet OUT.png] [--csv OUT.csv]" },
  { "apply", cmd_apply, "apply --weights W IN OUT [--working-size S] [--strength X]" },
};

static void
print_usage (FILE *f)
{
  fprintf (f, "usage: colorize-train COMMAND [ARGS]\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (f, "  colorize-train %s\n", commands[i].usage);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      print_usage (stderr);
      return 2;
    }
  if (!strcmp (argv[1], "-h") || !strcmp (argv[1], "--help") || !strcmp (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp (argv[1], commands[i].name))
      return commands[i].run (argc - 2, argv + 2);
  fprintf (stderr, "colorize-train: unknown command '%s'\n", argv[1]);
  print_usage (stderr);
  return 2;
}
