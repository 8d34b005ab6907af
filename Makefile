# dbops — one plain Makefile for the whole suite.
#
# Layout it knows (see README.md):
#   common/*.c            -> $(BUILD)/libdbops.a
#   utils/<tool>/*.c      -> $(BUILD)/bin/<tool>   (libraries: utils/<tool>/tool.mk)
#   tests/unit/test_*.c   -> $(BUILD)/tests/test_*  (cmocka)
#   tests/driver/*.c      -> $(BUILD)/tests/<name>  (small programs the bats files drive)
#
# A new tool needs no edit here: add utils/<tool>/ with its sources and, if it
# links a library, a tool.mk setting <tool>_PKGS to its pkg-config names.

VERSION := 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BUILD ?= build

CC ?= cc
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
# Warnings are errors by default (developers, make check); a package build,
# facing a newer compiler's new warnings, may set WERROR= to keep going.
WERROR ?= -Werror
WARNINGS := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wno-unused-parameter

# SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ALL_CPPFLAGS := -Icommon -D_GNU_SOURCE -DDBOPS_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS := -std=c11 -pthread $(WARNINGS) $(WERROR) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS := -pthread $(SAN_FLAGS) $(LDFLAGS)

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
COMMON_PKGS :=
LIBDBOPS := $(BUILD)/libdbops.a

TOOLS := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard utils/*/main.c)))))
-include $(wildcard utils/*/tool.mk)
TOOL_BINS := $(TOOLS:%=$(BUILD)/bin/%)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
DRIVER_SRC := $(sort $(wildcard tests/driver/*.c))
DRIVER_BINS := $(DRIVER_SRC:tests/driver/%.c=$(BUILD)/tests/%)
# Sample data generators (tests/data/*.c), used by tests, demo and bench.
DATA_SRC := $(sort $(wildcard tests/data/*.c))
DATA_BINS := $(DATA_SRC:tests/data/%.c=$(BUILD)/tests/%)

MANPAGES := $(sort $(wildcard man/*.1 man/*.7))

pkg_cflags = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --libs $(1)))

.PHONY: all tests unit-bins deps check unit-check demo bench install clean format lint-man
all: $(LIBDBOPS) $(TOOL_BINS)
tests: $(UNIT_BINS) $(DRIVER_BINS) $(DATA_BINS)
unit-bins: $(UNIT_BINS)

# Objects are rebuilt when the compiler or its flags change, not only the sources.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' >$@
FORCE:

# Keep objects of the test programs; they are intermediate to make otherwise.
.SECONDARY:

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(call pkg_cflags,$(COMMON_PKGS) $(PKGS_$(firstword $(subst /, ,$(patsubst utils/%,%,$(dir $<)))))) -MMD -MP -c -o $@ $<

$(LIBDBOPS): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# One link rule per tool, each with its own objects and libraries.
define tool_template
$(1)_OBJ := $$(patsubst %.c,$$(BUILD)/%.o,$$(sort $$(wildcard utils/$(1)/*.c)))
$$(BUILD)/bin/$(1): $$($(1)_OBJ) $$(LIBDBOPS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$($(1)_OBJ) $$(LIBDBOPS) $$(call pkg_libs,$$($(1)_PKGS) $$(COMMON_PKGS))
endef
$(foreach t,$(TOOLS),$(eval $(call tool_template,$(t))))
# The object rule above looks up a tool's libraries as PKGS_<folder>.
$(foreach t,$(TOOLS),$(eval PKGS_$(t) := $$($(t)_PKGS)))

# A unit test of a tool's own module, tests/unit/test_<tool>_<module>.c
# (the tool's name with _ for -; it includes "../../utils/<tool>/x.h"),
# links that tool's objects (all but main.o) and libraries.
define tool_unit_template
$$(BUILD)/tests/test_$(subst -,_,$(1))_%: $$(BUILD)/tests/unit/test_$(subst -,_,$(1))_%.o $$(filter-out %/main.o,$$($(1)_OBJ)) $$(LIBDBOPS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(call pkg_libs,cmocka $$($(1)_PKGS) $$(COMMON_PKGS))
endef
$(foreach t,$(TOOLS),$(eval $(call tool_unit_template,$(t))))

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBDBOPS) $(call pkg_libs,cmocka $(COMMON_PKGS))

$(BUILD)/tests/unit/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(call pkg_cflags,cmocka $(foreach t,$(TOOLS),$($(t)_PKGS))) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/driver/%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBDBOPS) $(call pkg_libs,$(COMMON_PKGS))

$(BUILD)/tests/%: $(BUILD)/tests/data/%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBDBOPS) $(call pkg_libs,$(COMMON_PKGS))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

deps:
	@scripts/deps.sh

# The README's test command: installs what it needs, builds with warnings as
# errors, runs the unit tests and the bats suites, the unit tests once more
# under ASan+UBSan, lints the man pages, and ends with "N passed, N failed".
check: deps
	$(MAKE) all tests
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 unit-bins
	tests/run.sh --build $(BUILD) --asan-build $(BUILD)/asan

# Only the unit tests, normal and sanitized: quick, no servers.
unit-check: all tests
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 unit-bins
	tests/run.sh --build $(BUILD) --asan-build $(BUILD)/asan --no-bats

demo: deps
	$(MAKE) all tests
	scripts/demo.sh $(BUILD)

bench: all tests
	@scripts/deps.sh --bench
	bench/run.sh $(BUILD)

lint-man:
	@for m in $(MANPAGES); do mandoc -Tlint -W warning $$m || exit 1; done

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(if $(TOOL_BINS),install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(filter %.1,$(MANPAGES)),install -m 0644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(filter %.7,$(MANPAGES)),install -m 0644 $(filter %.7,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man7/)

format:
	clang-format -i $(wildcard common/*.[ch] utils/*/*.[ch] tests/unit/*.[ch] tests/driver/*.[ch])

clean:
	rm -rf $(BUILD)
