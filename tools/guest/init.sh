#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# /init of the minivmm Linux guest kit (busybox ash, PID 1).
#
# Prints markers on the console that the host-side tests look for:
#   MINIVMM-INIT-REACHED
#   MINIVMM-CPUS <processors in /proc/cpuinfo>
#   MINIVMM-MEMTOTAL <MemTotal in kB>
#   MINIVMM-TEST-DONE <exit status of the test>
# then powers the VM off. The test is chosen on the kernel command line with
# minivmm.test=NAME and runs /tests/NAME.sh (tools/guest/tests/NAME.sh);
# minivmm.test=shell gives an interactive shell instead.
#
# Every system call is expensive on kvm_pvm hosts (the guest kernel is
# emulated), so this script forks as little as possible.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TERM=vt100

# proc, sysfs, devtmpfs (tools/guest/fstab) in one process. By path: until
# /proc is mounted the shell cannot run applets (it uses /proc/self/exe).
/bin/busybox mount -a

echo "MINIVMM-INIT-REACHED"
# One process for both numbers (each fork+exec costs ~0.25 s on kvm_pvm).
awk '/^processor[ \t]*:/ { n++ }
     /^MemTotal:/ { m = $2 }
     END { print "MINIVMM-CPUS " n; print "MINIVMM-MEMTOTAL " m }' \
    /proc/cpuinfo /proc/meminfo

# Dotted parameters are not passed to init's environment: read the cmdline.
test=
read -r cmdline < /proc/cmdline
for arg in $cmdline; do
    case $arg in
    minivmm.test=*) test=${arg#minivmm.test=} ;;
    esac
done

rc=0
case $test in
"") ;;
shell)
    echo "minivmm: interactive shell; 'exit' powers off"
    setsid cttyhack sh
    rc=$?
    ;;
*)
    if [ -f "/tests/$test.sh" ]; then
        echo "MINIVMM-TEST-START $test"
        # A subshell (fork, no exec): the test may `exit` with its status.
        (. "/tests/$test.sh")
        rc=$?
    else
        echo "MINIVMM-TEST-MISSING $test (have: $(ls /tests))"
        rc=127
    fi
    ;;
esac
echo "MINIVMM-TEST-DONE $rc"

# poweroff runs as a child: if the kernel's power-off does not stop the VM,
# only the child exits and we try a reset. By then the kernel has already
# taken the other CPUs down, so do not fork again: exec the reset.
poweroff -f
echo "MINIVMM-POWEROFF-FAILED"
exec reboot -f
