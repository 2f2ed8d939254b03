#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# migrate test (tests/integration/linux_migrate.sh): a dd + md5 check that
# runs across a live migration. Makes about 1 MiB of random text in RAM
# (with awk: user space is native here, while the kernel's urandom runs
# emulated under kvm_pvm), prints
#   MIGRATE-WRITING <md5> <bytes>
# (the host starts migrating then), writes it to /dev/vda three times in
# 4 KiB direct writes, reads it back past the page cache and prints
#   MIGRATE-MD5 <md5 of the data> <md5 read back>
rc=0
seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
awk -v seed="$seed" 'BEGIN { srand(seed); for (i = 0; i < 16384; i++) {
    s = ""; for (j = 0; j < 8; j++)
        s = s sprintf("%08x", int(rand() * 4294967296)); print s } }' \
    >/tmp/data || rc=1
sum=$(md5sum </tmp/data | cut -d' ' -f1)
bytes=$(wc -c </tmp/data)
echo "MIGRATE-WRITING $sum $bytes"
for pass in 1 2 3; do
    dd if=/tmp/data of=/dev/vda bs=4k oflag=direct conv=fsync \
        2>/dev/null || rc=1
    echo "MIGRATE-PASS $pass"
done
got=$(dd if=/dev/vda bs=4k count=$(((bytes + 4095) / 4096)) iflag=direct \
      2>/dev/null | head -c "$bytes" | md5sum | cut -d' ' -f1)
echo "MIGRATE-MD5 $sum $got"
[ "$got" = "$sum" ] || rc=1
exit $rc
