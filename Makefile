# colorize - top-level build.  See README.md.
#
#   make            library, trainer, tests, and the GIMP plug-in for each
#                   GIMP whose development files pkg-config finds
#   make test       the whole test suite (ends with "N passed, N failed")
#   make bench      C and PyTorch timings side by side
#   make install    plug-in and bundled weights into the user's GIMP profiles,
#                   the GEGL operations into GEGL's user plug-in folder
#
# BUILD selects the output folder (the GIMP 3 chroot build uses its own).

BUILD    ?= build
CC       ?= cc
SAN      ?=
OPT      ?= -O3
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -std=c11 -D_GNU_SOURCE
# no FP exception traps are ever enabled; this lets GCC vectorize loops
# with float selects (ReLU masks); results are unchanged
FPFLAGS  := -fno-trapping-math
OPENMP   ?= -fopenmp
# OpenBLAS built with OpenMP (Debian's libopenblas-openmp-dev), so that
# OpenBLAS and our OpenMP loops share one thread pool: with the pthread
# build, each pool's spinning threads starve the other's on 2 cores
# (measured: resnet18 forward 256 x 256 took 10x longer).
MULTIARCH   := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR    ?= /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_INC    ?= /usr/include/$(MULTIARCH)/openblas-openmp
ifneq ($(wildcard $(BLAS_DIR)/libopenblas.so),)
BLAS_CFLAGS := -I$(BLAS_INC)
BLAS_LIBS   := -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas
else
$(warning libopenblas-openmp-dev not found: using the default OpenBLAS, set OMP_WAIT_POLICY=passive)
BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)
endif
# gegl-0.4.pc requires babl (named babl on Debian 12, babl-0.1 on 13)
GEGL_CFLAGS := $(shell pkg-config --cflags gegl-0.4 2>/dev/null)
GEGL_LIBS   := $(shell pkg-config --libs gegl-0.4 2>/dev/null)

ALL_CFLAGS = $(CFLAGS) $(WARN) $(FPFLAGS) $(OPENMP) $(SAN) $(BLAS_CFLAGS) -Inn
ALL_LDLIBS = $(OPENMP) $(SAN) $(BLAS_LIBS) -lm -lpthread

# ---- MPI (issue 4) -------------------------------------------------------
# make MPI=1 BUILD=build-mpi: the trainer for data-parallel training
# (mpirun -np N build-mpi/colorize-train train ...), built with mpicc
# (Debian: libopenmpi-dev openmpi-bin).  Without MPI=1 nothing of MPI is
# compiled or linked.
MPI ?= 0
ifeq ($(MPI),1)
CC := mpicc
ALL_CFLAGS += -DCOLORIZE_MPI
endif
# ---- end MPI ---------------------------------------------------------------

NN_SRC      := $(wildcard nn/*.c)
NN_OBJ      := $(NN_SRC:%.c=$(BUILD)/%.o)
TRAINER_SRC := $(wildcard trainer/*.c)
TRAINER_OBJ := $(TRAINER_SRC:%.c=$(BUILD)/%.o)
TEST_SRC    := $(wildcard tests/test_*.c)
TEST_BIN    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_UTIL   := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
TEST_UTIL_OBJ := $(TEST_UTIL:%.c=$(BUILD)/%.o)

LIBNN   := $(BUILD)/libnn.a
TRAINER := $(BUILD)/colorize-train
STROKES := $(BUILD)/make-strokes

.SECONDARY:
.PHONY: all lib trainer tests test test-unit bench clean install fuzz fuzz-long
all: lib trainer tests

lib: $(LIBNN)
trainer: $(TRAINER) $(STROKES)
tests: $(TEST_BIN)

$(BUILD)/nn/%.o: nn/%.c $(wildcard nn/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBNN): $(NN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/trainer/%.o: trainer/%.c $(wildcard trainer/*.h nn/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GEGL_CFLAGS) -Itrainer -c $< -o $@

$(TRAINER): $(TRAINER_OBJ) $(LIBNN)
	$(CC) $(TRAINER_OBJ) $(LIBNN) $(GEGL_LIBS) $(ALL_LDLIBS) -o $@

# tools/make-strokes.c: colour hints sampled from the truth (eval --hints)
$(BUILD)/tools/make-strokes.o: tools/make-strokes.c $(wildcard trainer/*.h nn/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GEGL_CFLAGS) -Itrainer -c $< -o $@
$(STROKES): $(BUILD)/tools/make-strokes.o $(filter-out $(BUILD)/trainer/main.o,$(TRAINER_OBJ)) $(LIBNN)
	$(CC) $^ $(GEGL_LIBS) $(ALL_LDLIBS) -o $@

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h nn/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_UTIL_OBJ) $(LIBNN)
	$(CC) $< $(TEST_UTIL_OBJ) $(LIBNN) $(ALL_LDLIBS) -o $@

# test_encoder also links the trainer's encoder import and .npy reader
# (plain C, nothing of GEGL).
$(BUILD)/tests/test_encoder: $(BUILD)/tests/test_encoder.o $(BUILD)/trainer/encoder.o \
                             $(BUILD)/trainer/npy.o $(TEST_UTIL_OBJ) $(LIBNN)
	$(CC) $^ $(ALL_LDLIBS) -o $@

# test_accuracy checks trainer/accuracy.c, which needs nothing of GEGL.
$(BUILD)/tests/test_accuracy.o: ALL_CFLAGS += -Itrainer
$(BUILD)/tests/test_accuracy.o: trainer/accuracy.h
$(BUILD)/tests/test_accuracy: $(BUILD)/tests/test_accuracy.o \
                              $(BUILD)/trainer/accuracy.o $(TEST_UTIL_OBJ) $(LIBNN)
	$(CC) $^ $(ALL_LDLIBS) -o $@

# The GIMP plug-in (both hosts), its install and its tests.
-include plugin/plugin.mk
# The GEGL operations colorize:resnet18 and colorize:cnn, and their install.
-include plugin/gegl/gegl.mk

# libFuzzer targets (clang; Debian's clang package): the weight loader,
# the checkpoint reader, the .npy reader, the metadata text, the pack
# reader (index and record decoder).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := weights checkpoint npy metadata pack
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_BIN := $(BUILD)/fuzz/fuzz_weights
FUZZ_SRC := $(NN_SRC)
FUZZ_EXTRA_checkpoint := trainer/checkpoint.c
FUZZ_EXTRA_npy := trainer/npy.c
FUZZ_EXTRA_pack := trainer/pack.c trainer/checkpoint.c
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRC) $(wildcard nn/*.h trainer/*.h)
	@mkdir -p $(dir $@)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  $(BLAS_CFLAGS) -Inn -Itrainer $< $(FUZZ_EXTRA_$*) $(FUZZ_SRC) $(BLAS_LIBS) -lm -o $@
# make fuzz: every target for FUZZ_SECONDS each; make fuzz-long
# FUZZ_SECONDS=3600 for the long runs (README, reliability).
fuzz: $(FUZZ_BINS) $(TRAINER)
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/test_fuzz.sh
fuzz-long: $(FUZZ_BINS) $(TRAINER)
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/test_fuzz.sh

# make test: everything CI checks.  The unit tests and the trainer tests
# run twice, the second time built with ASan and UBSan in $(SAN_BUILD);
# each fuzz target runs for $(FUZZ_SECONDS) s.
SAN_BUILD ?= $(BUILD)-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
test: all $(FUZZ_BINS)
	$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) SAN="$(SAN_FLAGS)" OPT=-O1 lib trainer tests
	$(MAKE) --no-print-directory MPI=1 BUILD=$(BUILD)-mpi trainer
	BUILD=$(BUILD) SAN_BUILD=$(SAN_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run-all.sh

# make bench: the network against PyTorch, then the plug-in on a
# 4000 x 3000 photo in GIMP 2.10 and 3.0 (issue 7's limits; reported,
# not fatal)
bench: all
	tools/bench.sh $(BUILD)
	-BUILD=$(BUILD) tools/bench-plugin.sh both

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(BUILD)-mpi
