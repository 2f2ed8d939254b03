# minivmm — plain Makefile. `make`, `make check`, `make asan`, `make bench`.
# Sources are found by directory: adding a .c file to a module directory adds
# it to the build. See docs/architecture.md for the layout.

BUILD    ?= build
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
LIB_DIRS := vmm arch/x86 devices vfio virtio
LIB_SRCS := $(filter-out vmm/main.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
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
        fuzz check-headers clean setup check-interop peers lvu-server
all: $(PROGS) $(SCTEST) guest

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/minivmm: $(BUILD)/vmm/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

define tool_rule
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach t,$(TOOL_DIRS),$(eval $(call tool_rule,$(t))))

# Test-only binaries whose sc_probe_hook makes a forbidden syscall on
# demand (tests/seccomp/probe.c, tests/integration/payload_seccomp.sh).
$(BUILD)/minivmm-sctest: $(BUILD)/vmm/main.o $(BUILD)/tests/seccomp/probe.o \
                         $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/vfu-blk-sctest: $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/vfu-blk/*.c)) \
                         $(BUILD)/tests/seccomp/probe.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
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

check: check-unit check-payload check-linux fuzz-smoke

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

setup:
	tools/setup.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz

ALL_OBJS := $(LIB_OBJS) $(BUILD)/vmm/main.o \
            $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/*/*.c)) \
            $(UNIT_SRCS:%.c=$(BUILD)/%.o)
-include $(ALL_OBJS:.o=.d)
