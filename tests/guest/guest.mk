# SPDX-License-Identifier: BSD-3-Clause
# Test payloads: freestanding x86_64 PVH kernels (see tests/guest/README.md).
# Included by the top Makefile; outputs go to $(BUILD)/guest/.
#
# Another payload (e.g. a virtio driver test) lives in tests/guest/<name>/,
# defines payload_main() and its test table, and is added with one line:
#   $(eval $(call guest_payload,<name>,$(wildcard $(GUEST_DIR)/<name>/*.c)))
# which builds $(BUILD)/guest/<name>.elf from boot/ + lib/ + those sources.

GUEST_DIR    := tests/guest
GUEST_OUT    := $(BUILD)/guest
GUEST_CC     ?= gcc
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wmissing-prototypes \
                -Wstrict-prototypes -Wshadow -ffreestanding -nostdlib \
                -fno-pic -fno-pie -fno-stack-protector -mno-red-zone \
                -mgeneral-regs-only -mcmodel=small -static \
                -fno-asynchronous-unwind-tables -fno-builtin \
                -fno-tree-loop-distribute-patterns -Wa,--noexecstack \
                -MMD -MP -I$(GUEST_DIR)
GUEST_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none \
                 -Wl,-z,max-page-size=4096 -T $(GUEST_DIR)/payload.ld

GUEST_COMMON := $(wildcard $(GUEST_DIR)/boot/*.c $(GUEST_DIR)/boot/*.S \
                           $(GUEST_DIR)/lib/*.c $(GUEST_DIR)/lib/*.S)
guest_objs    = $(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/obj/%.o,$(1))

$(GUEST_OUT)/obj/%.c.o: $(GUEST_DIR)/%.c $(GUEST_DIR)/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_OUT)/obj/%.S.o: $(GUEST_DIR)/%.S $(GUEST_DIR)/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

# $(1): payload name, $(2): its sources besides boot/ and lib/.
define guest_payload
$(GUEST_OUT)/$(1).elf: $(call guest_objs,$(GUEST_COMMON) $(2)) \
                       $(GUEST_DIR)/payload.ld
	$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
guest:: $(GUEST_OUT)/$(1).elf
endef

# The base tests: serial, pci, timer, ioapic, smp (and fault, exit:N).
$(eval $(call guest_payload,payload,$(wildcard $(GUEST_DIR)/tests/*.c)))

# virtio-pci driver tests and the virtio-blk benchmark (tests/guest/virtio).
$(eval $(call guest_payload,virtio,$(wildcard $(GUEST_DIR)/virtio/*.c)))

# vfio-user device tests and benchmarks (tests/guest/vfio), reusing the
# virtio-blk helpers.
$(eval $(call guest_payload,vfio,$(wildcard $(GUEST_DIR)/vfio/*.c) \
    $(GUEST_DIR)/virtio/vblk.c))

# The libvfio-user migration test device (tests/guest/lvu, interop suite).
$(eval $(call guest_payload,lvu,$(wildcard $(GUEST_DIR)/lvu/*.c)))

# The start-up benchmark guest: exits through port 0xF4 at once.
$(GUEST_OUT)/minimal.elf: $(call guest_objs,$(GUEST_DIR)/minimal.S) \
                          $(GUEST_DIR)/payload.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
guest:: $(GUEST_OUT)/minimal.elf

# popcnt at CPL0: the kvm_pvm crash hint (tests/integration/payload_pvm_hint.sh).
$(GUEST_OUT)/pvmcrash.elf: $(call guest_objs,$(GUEST_DIR)/pvmcrash.S) \
                           $(GUEST_DIR)/payload.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
guest:: $(GUEST_OUT)/pvmcrash.elf

# Interop tests against libvfio-user's samples and lvu-test-server
# (tests/guest/interop, scripts in tests/interop/).
$(eval $(call guest_payload,interop,$(wildcard $(GUEST_DIR)/interop/*.c)))
