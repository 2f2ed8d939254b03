# SPDX-License-Identifier: BSD-3-Clause
# libFuzzer targets, included by the top Makefile.
#
# Every tests/fuzz/fuzz_<name>.c becomes $(FUZZ_BUILD)/fuzz_<name>, built
# with clang -fsanitize=fuzzer,address,undefined. A target names what it
# links, one line each (paths from the top), in its own header comment:
#     * FUZZ_SRCS: vfio/proto/conn.c vfio/proto/caps.c
#     * FUZZ_PKGS: json-c
#     * FUZZ_LIBS: -lfdt          (libraries without a pkg-config file)
#     * FUZZ_ARGS: -max_len=1024  (libFuzzer options for fuzz-run)
# or in a tests/fuzz/fuzz_<name>.srcs file holding the same lines (both are
# read). Adding a target is dropping such files here; nothing else to edit.
# Seeds, if any, live in tests/fuzz/corpus/fuzz_<name>/ (read only); the
# growing corpus is $(FUZZ_BUILD)/corpus/fuzz_<name>/.
#
#   make fuzz                      build every target
#   make fuzz-run FUZZ_SECONDS=60  run each target that long, stop on a crash
#   make fuzz-smoke                fuzz-run for 30 s each with the targets'
#                                  output quiet (part of `make check`);
#                                  skipped with a message when $(FUZZ_CC)
#                                  cannot link libFuzzer

FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=gnu11 -O1 -g $(WARN) -I. -D_GNU_SOURCE $(FUZZ_SAN)

FUZZ_SRCS_ALL := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     := $(FUZZ_SRCS_ALL:tests/fuzz/%.c=$(FUZZ_BUILD)/%)

# $(call fuzz_field,name,KEY): the words after "KEY:" in fuzz_<name>.c and
# fuzz_<name>.srcs.
fuzz_field = $(shell sed -n 's/^.*$(2):[[:space:]]*//p' tests/fuzz/$(1).c \
                 $(wildcard tests/fuzz/$(1).srcs))

# $(call fuzz_pkg,--cflags|--libs,name): pkg-config output for its PKGS.
fuzz_pkg = $(if $(FUZZ_$(2)_PKGS),$(shell pkg-config $(1) $(FUZZ_$(2)_PKGS)))

define fuzz_rule
FUZZ_$(1)_SRCS := $(call fuzz_field,$(1),FUZZ_SRCS)
FUZZ_$(1)_PKGS := $(call fuzz_field,$(1),FUZZ_PKGS)
FUZZ_$(1)_LIBS := $(call fuzz_field,$(1),FUZZ_LIBS)
FUZZ_$(1)_ARGS := $(call fuzz_field,$(1),FUZZ_ARGS)
$(FUZZ_BUILD)/$(1): tests/fuzz/$(1).c $$(FUZZ_$(1)_SRCS) \
        $$(wildcard $$(addsuffix *.h,$$(sort $$(dir $$(FUZZ_$(1)_SRCS)))))
	@mkdir -p $$(dir $$@)
	@$$(if $$(FUZZ_$(1)_SRCS),:,echo "$(1): no FUZZ_SRCS line"; false)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(call fuzz_pkg,--cflags,$(1)) \
	    -o $$@ $$< $$(FUZZ_$(1)_SRCS) $$(call fuzz_pkg,--libs,$(1)) \
	    $$(FUZZ_$(1)_LIBS) -lpthread
endef
$(foreach t,$(FUZZ_SRCS_ALL:tests/fuzz/%.c=%),$(eval $(call fuzz_rule,$(t))))

.PHONY: fuzz fuzz-run fuzz-smoke
fuzz: $(FUZZ_BINS)

# $(FUZZ_FLAGS): extra libFuzzer options for every target.
fuzz-run: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
	    n=$${f##*/}; corpus=$(FUZZ_BUILD)/corpus/$$n; mkdir -p $$corpus; \
	    seeds=; [ -d tests/fuzz/corpus/$$n ] && seeds=tests/fuzz/corpus/$$n; \
	    args=$$(sed -n 's/^.*FUZZ_ARGS:[[:space:]]*//p' tests/fuzz/$$n.c); \
	    echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=30 -print_final_stats=1 \
	        $$args $(FUZZ_FLAGS) \
	        -artifact_prefix=$(FUZZ_BUILD)/$$n- $$corpus $$seeds; \
	done

FUZZ_SMOKE_SECONDS ?= 30
fuzz-smoke:
	@if ! printf 'int LLVMFuzzerTestOneInput(const char *d, long n)\n{ return (int)(d[0] * 0 + n * 0); }\n' | \
	        $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
	    echo "fuzz-smoke: skipped: $(FUZZ_CC) cannot link libFuzzer" \
	         "(-fsanitize=fuzzer; Debian: apt-get install clang)"; \
	else \
	    log=$(FUZZ_BUILD)/fuzz-smoke.log; mkdir -p $(FUZZ_BUILD); \
	    if $(MAKE) --no-print-directory fuzz-run \
	        FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) \
	        FUZZ_FLAGS="-close_fd_mask=3 $(FUZZ_FLAGS)" >$$log 2>&1; then \
	        grep -E '^fuzz:|^#[0-9]+[[:space:]]+DONE' $$log; \
	        echo "fuzz-smoke: every target ran, no finding (log: $$log)"; \
	    else \
	        tail -n 80 $$log; echo "fuzz-smoke: FAILED (log: $$log)"; exit 1; \
	    fi; \
	fi
