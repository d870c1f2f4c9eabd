# plugin/gegl/gegl.mk - the GEGL operations colorize:resnet18,
# colorize:cnn, colorize:resnet18-hints and colorize:cnn-hints (one
# module, colorize.so), included by the top-level Makefile.  Built wherever pkg-config finds gegl-0.4 (Debian 12's GEGL
# 0.4.42 and Debian 13's 0.4.62 alike).
#
#   make gegl          $(BUILD)/gegl/colorize.so
#   make install       also installs it, with the bundled weights in
#                      weights/ beside it, into GEGL's user plug-in folder
#                      as GEGL finds it (gegl_init's module path, GLib's
#                      g_get_user_data_dir): $XDG_DATA_HOME/gegl-0.4/
#                      plug-ins/colorize/ (XDG_DATA_HOME unset or empty:
#                      ~/.local/share); with PREFIX or DESTDIR set: into
#                      GEGL's system folder (pkg-config's pluginsdir)
#                      under $(DESTDIR)$(PREFIX)
#
# GEGL loads modules from plug-ins/ and its subfolders; $GEGL_PATH, when
# set, replaces both the system and the user folder.

HAVE_GEGL := $(shell pkg-config --exists gegl-0.4 2>/dev/null && echo yes)

ifeq ($(HAVE_GEGL),yes)
GEGL_OP_DIR    := $(BUILD)/gegl
GEGL_OP_MODULE := $(GEGL_OP_DIR)/colorize.so
# A shared object: the network library again, position-independent.
GEGL_OP_NN_OBJ := $(NN_SRC:%.c=$(GEGL_OP_DIR)/%.o)
GEGL_OP_OBJ    := $(GEGL_OP_DIR)/colorize-core.o \
                  $(GEGL_OP_DIR)/colorize-op.o \
                  $(GEGL_OP_DIR)/colorize-resnet18.o \
                  $(GEGL_OP_DIR)/colorize-cnn.o \
                  $(GEGL_OP_DIR)/colorize-resnet18-hints.o \
                  $(GEGL_OP_DIR)/colorize-cnn-hints.o \
                  $(GEGL_OP_DIR)/colorize-module.o
GEGL_OP_HDR    := $(wildcard plugin/gegl/*.h plugin/*.h nn/*.h)
# -isystem: warnings in GEGL's own headers (gegl-op.h) are not ours.
GEGL_OP_CFLAGS := -fPIC $(patsubst -I%,-isystem %,$(GEGL_CFLAGS)) \
                  -Iplugin/gegl -Iplugin
GEGL_PCPREFIX  := $(shell pkg-config --variable=prefix gegl-0.4)
GEGL_PLUGINSDIR := $(shell pkg-config --variable=pluginsdir gegl-0.4)
xdg_data_home   = $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
ifneq ($(PREFIX)$(DESTDIR),)
GEGL_INSTALL_DIR = $(DESTDIR)$(patsubst $(GEGL_PCPREFIX)%,$(or $(PREFIX),$(GEGL_PCPREFIX))%,$(GEGL_PLUGINSDIR))/colorize
else
GEGL_INSTALL_DIR = $(xdg_data_home)/gegl-0.4/plug-ins/colorize
endif

$(GEGL_OP_DIR)/nn/%.o: nn/%.c $(wildcard nn/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c $< -o $@

$(GEGL_OP_DIR)/colorize-core.o: plugin/colorize-core.c $(GEGL_OP_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GEGL_OP_CFLAGS) -c $< -o $@

$(GEGL_OP_DIR)/%.o: plugin/gegl/%.c $(GEGL_OP_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GEGL_OP_CFLAGS) -c $< -o $@

$(GEGL_OP_MODULE): $(GEGL_OP_OBJ) $(GEGL_OP_NN_OBJ)
	$(CC) -shared -Wl,-z,defs $^ $(GEGL_LIBS) $(ALL_LDLIBS) -o $@

.PHONY: gegl install-gegl
gegl: $(GEGL_OP_MODULE)
all: gegl
install: install-gegl

install-gegl: $(GEGL_OP_MODULE)
	$(call plugin_install_into,$(GEGL_OP_MODULE),$(GEGL_INSTALL_DIR),colorize.so)
else
gegl:
	@echo "note: pkg-config finds no gegl-0.4 (libgegl-dev): no GEGL operation built"
endif
