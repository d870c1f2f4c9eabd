# plugin/plugin.mk - the GIMP plug-in, included by the top-level Makefile.
#
# Builds plug-ins/colorize/colorize for each GIMP whose development files
# pkg-config finds: gimp-2.0 (GIMP 2.10) and gimp-3.0 (GIMP 3.0).  Nothing
# GIMP-related is built when neither is found.
#
#   make plugin            the plug-in(s) for the GIMPs found here
#   make plugin-test       the same with the test hooks compiled in
#                          (build/plugin-gimp*-test/; tests only)
#   make install           into the user's GIMP profiles, found as GIMP
#                          finds them (gimp_directory in GIMP's
#                          libgimpbase/gimpenv.c): $GIMP2_DIRECTORY /
#                          $GIMP3_DIRECTORY (a relative one under $HOME),
#                          else $XDG_CONFIG_HOME/GIMP/<version> (2.10 or
#                          3.0; XDG_CONFIG_HOME unset or empty:
#                          ~/.config), then plug-ins/colorize/, with
#                          weights/*.weights in plug-ins/colorize/weights/;
#                          with PREFIX or DESTDIR set: into GIMP's system
#                          plug-in folder under $(DESTDIR)$(PREFIX)
#   make gimp3             the GIMP 3 plug-in inside the Debian 13 root of
#                          .ci/gimp3-root.sh (for Debian 12 hosts), in
#                          build/gimp3
#   make demo              colorize tests/gimp/samples through the installed
#                          plug-in in batch mode, write a before/after sheet

PLUGIN_COMMON_SRC := plugin/colorize-core.c plugin/colorize-dir.c plugin/colorize-host.c \
                     plugin/colorize-preview.c
PLUGIN_HDR        := $(wildcard plugin/*.h) $(wildcard nn/*.h)
PLUGIN_NAME       := colorize
PREFIX            ?=
DESTDIR           ?=

HAVE_GIMP2 := $(shell pkg-config --exists gimp-2.0 gimpui-2.0 gegl-0.4 babl 2>/dev/null && echo yes)
HAVE_GIMP3 := $(shell pkg-config --exists gimp-3.0 gimpui-3.0 gegl-0.4 babl-0.1 2>/dev/null && echo yes)

PLUGIN_TARGETS      :=
PLUGIN_TEST_TARGETS :=
INSTALL_TARGETS     :=

# The user's GIMP profile as GIMP finds it: $(1) the variable naming it
# (GIMP2_DIRECTORY or GIMP3_DIRECTORY), $(2) the version folder.
# XDG_CONFIG_HOME as GLib's g_get_user_config_dir takes it (2.74 and
# 2.84, tried): any non-empty value as is, a relative one too.
xdg_config_home = $(or $(XDG_CONFIG_HOME),$(HOME)/.config)
gimp_user_dir   = $(if $($(1)),$(if $(filter /%,$($(1))),$($(1)),$(HOME)/$($(1))),$(xdg_config_home)/GIMP/$(2))

# Installs a plug-in binary ($1) and the bundled weights into folder $2,
# the binary named $3 (default: $(PLUGIN_NAME)).
define plugin_install_into
	@echo "install $(1) -> $(2)/"
	install -d "$(2)" "$(2)/weights"
	install -m 755 $(1) "$(2)/$(or $(3),$(PLUGIN_NAME))"
	@set -e; n=0; for w in weights/*.weights; do \
	  [ -f "$$w" ] || continue; \
	  install -m 644 "$$w" "$(2)/weights/"; n=$$((n + 1)); \
	done; \
	if [ $$n = 0 ]; then \
	  echo "note: no weights/*.weights to bundle yet; set COLORIZE_WEIGHTS_DIR or choose a weights file in the dialog"; \
	fi
endef

ifeq ($(HAVE_GIMP2),yes)
# -isystem: warnings in GIMP's and GTK's own headers are not ours.
GIMP2_CFLAGS   := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags gimp-2.0 gimpui-2.0 gegl-0.4 babl)) \
                  -DGLIB_DISABLE_DEPRECATION_WARNINGS
GIMP2_LIBS     := $(shell pkg-config --libs gimp-2.0 gimpui-2.0 gegl-0.4 babl)
GIMP2_OBJDIR   := $(BUILD)/plugin-gimp2
GIMP2_PLUGIN   := $(GIMP2_OBJDIR)/$(PLUGIN_NAME)
GIMP2_OBJ      := $(PLUGIN_COMMON_SRC:plugin/%.c=$(GIMP2_OBJDIR)/%.o) \
                  $(GIMP2_OBJDIR)/colorize-gimp2.o
GIMP2_PCPREFIX := $(shell pkg-config --variable=prefix gimp-2.0)
GIMP2_LIBDIR   := $(shell pkg-config --variable=gimplibdir gimp-2.0)
ifneq ($(PREFIX)$(DESTDIR),)
GIMP2_INSTALL_DIR = $(DESTDIR)$(patsubst $(GIMP2_PCPREFIX)%,$(or $(PREFIX),$(GIMP2_PCPREFIX))%,$(GIMP2_LIBDIR))/plug-ins/$(PLUGIN_NAME)
else
GIMP2_INSTALL_DIR = $(call gimp_user_dir,GIMP2_DIRECTORY,2.10)/plug-ins/$(PLUGIN_NAME)
endif

$(GIMP2_OBJDIR)/%.o: plugin/%.c $(PLUGIN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GIMP2_CFLAGS) -Iplugin -c $< -o $@

$(GIMP2_PLUGIN): $(GIMP2_OBJ) $(LIBNN)
	$(CC) $(GIMP2_OBJ) $(LIBNN) $(GIMP2_LIBS) $(ALL_LDLIBS) -o $@

# The test build: the same plug-in with the test hooks compiled in
# (COLORIZE_TEST_HOOKS, plugin/colorize-core.h), never installed.
GIMP2_TOBJDIR  := $(BUILD)/plugin-gimp2-test
GIMP2_TPLUGIN  := $(GIMP2_TOBJDIR)/$(PLUGIN_NAME)
GIMP2_TOBJ     := $(GIMP2_OBJ:$(GIMP2_OBJDIR)/%=$(GIMP2_TOBJDIR)/%)

$(GIMP2_TOBJDIR)/%.o: plugin/%.c $(PLUGIN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GIMP2_CFLAGS) -DCOLORIZE_TEST_HOOKS -Iplugin -c $< -o $@

$(GIMP2_TPLUGIN): $(GIMP2_TOBJ) $(LIBNN)
	$(CC) $(GIMP2_TOBJ) $(LIBNN) $(GIMP2_LIBS) $(ALL_LDLIBS) -o $@

PLUGIN_TARGETS      += $(GIMP2_PLUGIN)
PLUGIN_TEST_TARGETS += $(GIMP2_TPLUGIN)
INSTALL_TARGETS     += install-gimp2

.PHONY: install-gimp2
install-gimp2: $(GIMP2_PLUGIN)
	$(call plugin_install_into,$(GIMP2_PLUGIN),$(GIMP2_INSTALL_DIR))
endif

ifeq ($(HAVE_GIMP3),yes)
GIMP3_CFLAGS   := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags gimp-3.0 gimpui-3.0 gegl-0.4 babl-0.1))
GIMP3_LIBS     := $(shell pkg-config --libs gimp-3.0 gimpui-3.0 gegl-0.4 babl-0.1)
GIMP3_OBJDIR   := $(BUILD)/plugin-gimp3
GIMP3_PLUGIN   := $(GIMP3_OBJDIR)/$(PLUGIN_NAME)
GIMP3_OBJ      := $(PLUGIN_COMMON_SRC:plugin/%.c=$(GIMP3_OBJDIR)/%.o) \
                  $(GIMP3_OBJDIR)/colorize-gimp3.o
GIMP3_PCPREFIX := $(shell pkg-config --variable=prefix gimp-3.0)
GIMP3_LIBDIR   := $(shell pkg-config --variable=gimplibdir gimp-3.0)
ifneq ($(PREFIX)$(DESTDIR),)
GIMP3_INSTALL_DIR = $(DESTDIR)$(patsubst $(GIMP3_PCPREFIX)%,$(or $(PREFIX),$(GIMP3_PCPREFIX))%,$(GIMP3_LIBDIR))/plug-ins/$(PLUGIN_NAME)
else
GIMP3_INSTALL_DIR = $(call gimp_user_dir,GIMP3_DIRECTORY,3.0)/plug-ins/$(PLUGIN_NAME)
endif

$(GIMP3_OBJDIR)/%.o: plugin/%.c $(PLUGIN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GIMP3_CFLAGS) -Iplugin -c $< -o $@

$(GIMP3_PLUGIN): $(GIMP3_OBJ) $(LIBNN)
	$(CC) $(GIMP3_OBJ) $(LIBNN) $(GIMP3_LIBS) $(ALL_LDLIBS) -o $@

GIMP3_TOBJDIR  := $(BUILD)/plugin-gimp3-test
GIMP3_TPLUGIN  := $(GIMP3_TOBJDIR)/$(PLUGIN_NAME)
GIMP3_TOBJ     := $(GIMP3_OBJ:$(GIMP3_OBJDIR)/%=$(GIMP3_TOBJDIR)/%)

$(GIMP3_TOBJDIR)/%.o: plugin/%.c $(PLUGIN_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(GIMP3_CFLAGS) -DCOLORIZE_TEST_HOOKS -Iplugin -c $< -o $@

$(GIMP3_TPLUGIN): $(GIMP3_TOBJ) $(LIBNN)
	$(CC) $(GIMP3_TOBJ) $(LIBNN) $(GIMP3_LIBS) $(ALL_LDLIBS) -o $@

PLUGIN_TARGETS      += $(GIMP3_PLUGIN)
PLUGIN_TEST_TARGETS += $(GIMP3_TPLUGIN)
INSTALL_TARGETS     += install-gimp3

.PHONY: install-gimp3
install-gimp3: $(GIMP3_PLUGIN)
	$(call plugin_install_into,$(GIMP3_PLUGIN),$(GIMP3_INSTALL_DIR))
endif

.PHONY: plugin plugin-test gimp3 demo
plugin: $(PLUGIN_TARGETS)
plugin-test: $(PLUGIN_TEST_TARGETS)
all: plugin

install: $(INSTALL_TARGETS)
	@[ -n "$(INSTALL_TARGETS)" ] || \
	  echo "note: no GIMP development files found (pkg-config gimp-3.0 / gimp-2.0): no plug-in installed"

# The GIMP 3 plug-in and the GEGL operations (plugin/gegl/gegl.mk) built
# in the Debian 13 root (Debian 12 has no GIMP 3).
gimp3:
	.ci/gimp3-root.sh run $(MAKE) BUILD=$(BUILD)/gimp3 plugin gegl

demo: install
	tests/gimp/demo.sh
