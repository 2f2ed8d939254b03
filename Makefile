# SPDX-License-Identifier: BSD-3-Clause
# minivmm — plain Makefile. `make`, `make check`, `make asan`, `make bench`.
# Sources are found by directory: adding a .c file to a module directory adds
# it to the build. See docs/architecture.md for the layout.

BUILD    ?= build
OBJ      := $(BUILD)/obj
CC       ?= cc
PKGS     := json-c liburing libxxhash libcrypto libseccomp
OPT      ?= -O2
SANITIZE ?=

WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
            -Wshadow
CFLAGS   := -std=gnu11 $(OPT) -g $(WARN) $(SANITIZE) -MMD -MP -I. \
            -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS))
FDT_LIBS := $(shell pkg-config --libs libfdt 2>/dev/null || echo -lfdt)
LDLIBS   := $(shell pkg-config --libs $(PKGS)) $(FDT_LIBS) -lpthread
LDFLAGS  := $(SANITIZE)
CMOCKA   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

# The library: everything but program entry points.
LIB_DIRS := vmm arch/x86 devices vfio/proto vfio/client vfio/server vfio/pci \
            virtio minivmm/persist minivmm
LIB_SRCS := $(filter-out minivmm/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o) $(BUILD)/gen/version.o \
            $(BUILD)/gen/seccomp_bpf.o
LIB      := $(BUILD)/libminivmm.a

# Programs: build/minivmm and one per tools/<name>/ directory holding C.
TOOL_DIRS := $(patsubst tools/%/,%,$(dir $(wildcard tools/*/main.c)))
TOOLS     := $(TOOL_DIRS:%=$(BUILD)/%)
PROGS     := $(BUILD)/minivmm $(TOOLS)
SCTEST    := $(BUILD)/minivmm-sctest $(BUILD)/vfu-blk-sctest

# Unit tests: tests/unit/test_<name>.c, each its own cmocka binary. An
# optional tests/unit/test_<name>.ldflags adds link flags (e.g. -Wl,--wrap).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.SECONDARY:
.PHONY: all check check-unit check-payload check-linux check-kvm asan bench \
        fuzz check-headers clean setup check-interop peers lvu-server \
        demo install uninstall check-man check-spdx check-layers
all: $(PROGS) $(SCTEST) guest

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The version (tools/version.sh: git describe, else VERSION), compiled in;
# the generated file is rewritten only when the version changes.
MINIVMM_VERSION := $(shell tools/version.sh)
$(shell mkdir -p $(BUILD)/gen && \
    v='extern const char minivmm_version[];'; \
    v="$$v const char minivmm_version[] = \"$(MINIVMM_VERSION)\";"; \
    [ "$$(cat $(BUILD)/gen/version.c 2>/dev/null)" = "$$v" ] || \
    echo "$$v" > $(BUILD)/gen/version.c)
$(BUILD)/gen/version.o: $(BUILD)/gen/version.c
	$(CC) $(CFLAGS) -c -o $@ $<

# The seccomp filters, compiled to BPF at build time (vmm/seccomp_bpf.h):
# the generator is built with the same SANITIZE flags as the library (the
# policy tables differ under AddressSanitizer) and run here.
SC_GEN_SRCS := tools/gen/seccomp_bpf_gen.c vmm/seccomp_build.c \
               vmm/seccomp_policy.c
$(BUILD)/gen/seccomp-bpf-gen: $(SC_GEN_SRCS) vmm/seccomp_build.h \
                              vmm/seccomp_policy.h
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(SC_GEN_SRCS) $(LDLIBS)
$(BUILD)/gen/seccomp_bpf.c: $(BUILD)/gen/seccomp-bpf-gen
	$< > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/seccomp_bpf.o: $(BUILD)/gen/seccomp_bpf.c vmm/seccomp_bpf.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# minivmm links its libraries statically when their archives are installed
# (libc stays shared): the dynamic loader then maps and relocates one
# library instead of six, exec -> main() 1-2.5 ms sooner on the bench host
# (docs/platform.md "Start-up timeline"). libseccomp is not among them: the
# filters are compiled at build time.
PROG_STATIC := json-c uring xxhash crypto fdt
PROG_STATIC_OK := $(shell for l in $(PROG_STATIC); do \
    f=$$($(CC) -print-file-name=lib$$l.a); [ -f "$$f" ] || exit 0; done; \
    echo yes)
ifeq ($(PROG_STATIC_OK),yes)
PROG_LDLIBS := -Wl,-Bstatic $(addprefix -l,$(PROG_STATIC)) -Wl,-Bdynamic \
               -lpthread -ldl
else
PROG_LDLIBS := $(LDLIBS)
endif

$(BUILD)/minivmm: $(OBJ)/minivmm/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PROG_LDLIBS)

define tool_rule
$(BUILD)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/$(1)/*.c)) $(LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call tool_rule,$(t))))

# Test-only binaries whose sc_probe_hook makes a forbidden syscall on
# demand (tests/seccomp/probe.c, tests/integration/payload_seccomp.sh).
$(BUILD)/minivmm-sctest: $(OBJ)/minivmm/main.o $(OBJ)/tests/seccomp/probe.o \
                         $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/vfu-blk-sctest: $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/vfu-blk/*.c)) \
                         $(OBJ)/tests/seccomp/probe.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(shell cat tests/unit/$*.ldflags 2>/dev/null) \
	    $(LIB) $(CMOCKA) $(LDLIBS)

# Test payloads (freestanding guest kernels), see tests/guest/guest.mk.
-include tests/guest/guest.mk
guest:: ;

check-unit: $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check-payload: $(PROGS) $(SCTEST) guest
	@BUILD=$(BUILD) tests/run-integration.sh payload

check-linux: $(PROGS)
	@BUILD=$(BUILD) tests/run-integration.sh linux

check-kvm: check-payload check-linux

# The floors of docs/architecture.md hold: includes one-way, no circles of
# files (includes and the calls seen in the objects).
check-layers: $(PROGS)
	@tools/check-layers.py --obj $(OBJ)

check: check-unit check-man check-spdx check-layers check-payload check-linux fuzz-smoke

# Interop suite against third-party vfio-user peers built from Debian's qemu
# source package (tests/interop/build-peers.sh; skips with 77 when it cannot
# be had). Tests: tests/interop/interop_*.sh.
peers:
	@tests/interop/build-peers.sh --out $(BUILD)/peers; rc=$$?; \
	    [ $$rc -eq 0 ] || [ $$rc -eq 77 ]

# Our libvfio-user-based test server (tests/interop/lvu-test-server.c),
# linked against the peers' libvfio-user; built only when the peers are.
LVU_SERVER := $(BUILD)/interop/lvu-test-server
LVU_LIB    := $(BUILD)/peers/libvfio-user/lib
$(LVU_SERVER): tests/interop/lvu-test-server.c $(BUILD)/peers/.stamp
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE \
	    -I$(BUILD)/peers/include -o $@ $< -L$(LVU_LIB) -lvfio-user \
	    -Wl,-rpath,$(abspath $(LVU_LIB))

lvu-server: peers
	@if [ -f $(BUILD)/peers/.stamp ]; then \
	    $(MAKE) --no-print-directory $(LVU_SERVER); fi

check-interop: $(PROGS) guest peers lvu-server
	@BUILD=$(BUILD) tests/run-integration.sh interop

# ASan + UBSan: unit and payload tests, in a separate build tree.
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	    SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    check-unit check-payload

bench: $(PROGS) guest
	@BUILD=$(BUILD) bench/run.sh

# Every public header compiles on its own.
HDRS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h))
check-headers:
	@for h in $(HDRS); do \
	    echo "#include \"$$h\"" | $(CC) $(CFLAGS) -fsyntax-only -x c - || exit 1; \
	done; echo "headers: all self-contained"

-include tests/fuzz/fuzz.mk

# --- demo, install, man pages (issue 12) ---------------------------------
# `make demo`: the README's main job in one command (tools/demo.sh: kit,
# scratch disk, vfu-blk, a Linux guest using it); ARGS=--shell for a shell.
ARGS ?=
demo: $(BUILD)/minivmm $(BUILD)/vfu-blk
	@BUILD=$(BUILD) tools/demo.sh $(ARGS)

# `make install [PREFIX=/usr/local] [DESTDIR=]`: the programs, vfu-blk's
# vfio-user description file (spec "Backend Program Conventions":
# share/vfio-user/, its "binary" pointing at the installed vfu-blk), man
# pages and docs. `make uninstall` removes exactly these.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
DOCDIR  ?= $(DATADIR)/doc/minivmm
MANS    := $(wildcard docs/man/*.1)
DOCS    := README.md CHANGELOG.md LICENSE $(wildcard docs/*.md)
VFU_JSON := $(DATADIR)/vfio-user/50-minivmm-vfu-blk.json
INSTALLED_PROGS := minivmm minivmm-ctl vfu-blk

install: $(BUILD)/minivmm $(BUILD)/minivmm-ctl $(BUILD)/vfu-blk
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)/vfio-user
	install -m 0755 $(INSTALLED_PROGS:%=$(BUILD)/%) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)
	sed 's|"binary": *"[^"]*"|"binary": "$(BINDIR)/vfu-blk"|' \
	    tools/vfu-blk/vfu-blk.json > $(DESTDIR)$(VFU_JSON)
	chmod 0644 $(DESTDIR)$(VFU_JSON)

uninstall:
	rm -f $(INSTALLED_PROGS:%=$(DESTDIR)$(BINDIR)/%) \
	    $(MANS:docs/man/%=$(DESTDIR)$(MANDIR)/man1/%) \
	    $(DESTDIR)$(VFU_JSON)
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(DATADIR)/vfio-user 2>/dev/null

# Every source file carries an SPDX line (tools/spdx.sh --add tags new ones).
check-spdx:
	@tools/spdx.sh --check

# Man pages: lint (man-db's --warnings through groff) in `make check`.
check-man:
	@for m in $(MANS); do \
	    w=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -E UTF-8 $$m 2>&1 >/dev/null); \
	    if [ -n "$$w" ]; then echo "$$m:"; echo "$$w"; exit 1; fi; \
	done; echo "man pages: $(words $(MANS)) clean (man --warnings)"

setup:
	tools/setup.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz

ALL_OBJS := $(LIB_OBJS) $(OBJ)/minivmm/main.o \
            $(patsubst %.c,$(OBJ)/%.o,$(wildcard tools/*/*.c)) \
            $(UNIT_SRCS:%.c=$(OBJ)/%.o)
-include $(ALL_OBJS:.o=.d)
