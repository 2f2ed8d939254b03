#!/bin/sh
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

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

echo "MINIVMM-INIT-REACHED"
echo "MINIVMM-CPUS $(grep -c '^processor' /proc/cpuinfo)"
echo "MINIVMM-MEMTOTAL $(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo)"

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
        sh "/tests/$test.sh"
        rc=$?
    else
        echo "MINIVMM-TEST-MISSING $test (have: $(ls /tests))"
        rc=127
    fi
    ;;
esac
echo "MINIVMM-TEST-DONE $rc"

# poweroff runs as a child: if the kernel has no power-off method, only the
# child exits and we get to try a reset.
poweroff -f
echo "MINIVMM-POWEROFF-FAILED"
reboot -f
echo "MINIVMM-REBOOT-FAILED"
while :; do sleep 3600; done
