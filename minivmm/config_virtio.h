/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of the virtio device options (--disk, --net) into struct
 * vm_config; called by config.c. Pure: no files or taps are opened here
 * (vmm/virtio_devs.c does that before the guest starts). */
#ifndef MINIVMM_CONFIG_VIRTIO_H
#define MINIVMM_CONFIG_VIRTIO_H

#include <stddef.h>

#include "minivmm/config.h"

/* A "slot=" value: 1 with *@slot set for 1..CONFIG_SLOT_MAX, else 0. */
int config_parse_slot(const char *v, unsigned int *slot);

/* --disk path=FILE[,readonly][,id=NAME][,slot=N]: append to cfg->disks. NAME is
 * 1-20 characters of [A-Za-z0-9_.-], unique among disks and nets.
 * 0 or -EINVAL with the reason in @err. */
int config_parse_disk(const char *arg, struct vm_config *cfg, char *err,
                      size_t errlen);

/* --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]: append to cfg->nets. A MAC must
 * be unicast. 0 or -EINVAL with the reason in @err. */
int config_parse_net(const char *arg, struct vm_config *cfg, char *err,
                     size_t errlen);

#endif
