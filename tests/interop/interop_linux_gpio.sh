#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 900
# A Linux guest (the kit, tools/guest/build-kit.sh, with CONFIG_GPIO_PCI_IDIO_16)
# binds gpio_pci_idio_16 to libvfio-user's gpio-pci-idio-16 sample under
# minivmm and reads line OUT0 through the server 12 times
# (tools/guest/tests/gpio_idio16.sh): the values must follow the sample's
# counter (BAR2[0] reads return pin++ / 3, so OUT0 changes every third
# read: both 0 and 1 appear), and the sample's log must show the reads.
NAME=interop_linux_gpio
. tests/interop/lib_interop.sh
: "${KIT:=$BUILD/kit}"
tools/guest/build-kit.sh --out "$KIT" >&2 || fail "build-kit.sh failed"
grep -q "^CONFIG_GPIO_PCI_IDIO_16=y" "$KIT/kernel.config" ||
    fail "$KIT's kernel has no CONFIG_GPIO_PCI_IDIO_16"

spawn gpio "$SAMPLES/gpio-pci-idio-16" -v "$dir/gpio.sock" >"$dir/gpio.log" 2>&1
wait_sock "$dir/gpio.sock"
hostargs=$(tools/guest/host-cmdline.sh)
log=$BUILD/$NAME.log
start=$(date +%s)
timeout -k 5 800 "$BUILD/minivmm" --kernel "$KIT/vmlinux" \
    --initrd "$KIT/initrd.cpio" --cpus 1 --memory 512M \
    --vfio-user "socket=$dir/gpio.sock,id=gpio" \
    --cmdline "console=ttyS0 minivmm.test=gpio_idio16 $hostargs" \
    </dev/null >"$log" 2>&1
rc=$?
tr -d '\r' <"$log" >"$dir/log"
echo "$NAME: minivmm exited $rc after $(( $(date +%s) - start ))s (log: $log)" >&2
grep -E "GPIO-IDIO16|idio|MINIVMM-TEST-DONE|vfio-user|BAR 2" "$dir/log" >&2
[ "$rc" -eq 0 ] || fail "minivmm exited $rc, want 0"
grep -q "^GPIO-IDIO16 bound .* driver pci-idio-16$" "$dir/log" ||
    fail "gpio_pci_idio_16 did not bind"
values=$(sed -n 's/^GPIO-IDIO16 values //p' "$dir/log")
[ "$(echo "$values" | wc -w)" -eq 12 ] || fail "want 12 values, got '$values'"
echo " $values " | grep -q " 0 " && echo " $values " | grep -q " 1 " ||
    fail "OUT0 read '$values': the server's counter does not show"
n=$(grep -c "region2: read .* from (0:1)" "$dir/gpio.log")
[ "$n" -ge 12 ] || fail "the sample logged $n BAR2[0] reads, want >= 12"
grep -q "MINIVMM-TEST-DONE 0" "$dir/log" || fail "guest test did not pass"
echo "$NAME: Linux bound gpio_pci_idio_16 to the sample; OUT0 read:$values"
exit 0
