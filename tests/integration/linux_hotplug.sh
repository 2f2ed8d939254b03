#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# timeout: 900
# ACPI PCI hotplug with Linux (docs/api.md "Hotplug"): a vfu-blk disk
# hot-added with device-add is found by acpiphp (GED -> Device Check) and
# bound by virtio_blk; dd's pattern lands in the host file
# (tools/guest/tests/hotplug.sh); device-remove makes Linux release it
# (Eject Request -> acpiphp -> _EJ0): /sys/bus/pci/devices no longer lists
# it, minivmm closes the server's socket (vfu-blk then takes a second
# client: the same device added again at the same slot); SIGTERM with
# --shutdown-timeout presses the ACPI power button and the guest powers
# off cleanly: exit 0. Needs the kit kernel with CONFIG_HOTPLUG_PCI_ACPI
# and CONFIG_ACPI_BUTTON (tools/guest/kernel.config).
name=linux_hotplug
. "$(dirname "$0")/lib_linux.sh"
need_linux vfu-blk
kit_has CONFIG_HOTPLUG_PCI_ACPI
linux_dir
truncate -s 64M "$dir/disk.img"
start_vfu "$dir/disk.img"
log=$BUILD/$name.log
: >"$log"
hostargs=$(host_args)
start=$(date +%s)
"$BUILD/minivmm" --kernel "$KIT/vmlinux" --initrd "$KIT/initrd.cpio" \
    --cpus 1 --memory 512M --api-socket "$dir/api" --shutdown-timeout 120 \
    --cmdline "console=ttyS0 minivmm.test=hotplug $hostargs" \
    </dev/null >"$log" 2>&1 &
vm=$!
wait_log() { # pattern seconds
    i=0
    until tr -d '\r' <"$log" | grep -q -- "$1"; do
        i=$((i + 1))
        [ "$i" -le $(($2 * 5)) ] && kill -0 "$vm" 2>/dev/null || {
            tail -n 40 "$log" | sed 's/^/  | /' >&2
            fail "no '$1' after $(( $(date +%s) - start ))s"; }
        sleep 0.2
    done
}
ctl() { "$BUILD/minivmm-ctl" "$dir/api" "$@"; }
wait_log HOTPLUG-READY 500
slot=$(ctl device-add vfio-user "socket=$dir/s.sock,id=hpblk" |
       sed -n 's/^slot: //p')
[ -n "$slot" ] || fail "device-add failed"
wait_log "HOTPLUG-IO-DONE" 200
tr -d '\r' <"$log" | grep "HOTPLUG-IO-DONE" >&2
pci=$(printf '0000:00:%02x.0' "$slot")
tr -d '\r' <"$log" | grep -q "HOTPLUG-IO-DONE $pci " ||
    fail "the guest's disk is not at $pci"
block_is "$dir/disk.img" 3 MINIVMM-LINUX-HOTPLUG-PATTERN ||
    fail "the pattern is not in the host file at 12288"
ctl device-remove hpblk 60000 >/dev/null || fail "device-remove"
wait_log "HOTPLUG-REMOVED $pci" 200
wait_log "device hpblk removed from PCI slot $slot" 30
# The socket was closed: vfu-blk serves a new client, at the same slot.
again=$(ctl device-add vfio-user "socket=$dir/s.sock,id=hpblk" |
        sed -n 's/^slot: //p')
[ "$again" = "$slot" ] || fail "re-added at slot '$again', want $slot"
wait_log POWERBTN-WAITING 200
kill -TERM "$vm"
wait "$vm"; rc=$?; vm=
echo "$name: minivmm exited $rc after $(( $(date +%s) - start ))s" \
     "(log: $log)" >&2
kill -USR1 "$srv"
for i in $(seq 50); do grep -q "connections=" "$dir/srv.log" && break; sleep 0.1; done
grep "connections=" "$dir/srv.log" | tail -1 >&2
[ "$rc" -eq 0 ] || note "minivmm exited $rc, want 0 (clean power-off)"
grep -q "POWERBTN-PRESSED" "$log" || note "the guest did not see the power button"
grep "connections=" "$dir/srv.log" | tail -1 | grep -q "connections=2" ||
    note "vfu-blk did not see a second client"
verdict 30 "$log"
