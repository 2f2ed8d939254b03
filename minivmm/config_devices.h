/* SPDX-License-Identifier: BSD-3-Clause */
/* The device options (--disk, --net, --vfio-user) into struct vm_config,
 * all through the one key=value parser (vmm/kvopts.h: ",," is a comma in
 * a value). Pure: no files, taps or sockets are opened here
 * (virtio_devs.c and vfio_devs.c do that before the guest starts).
 *
 * Two levels: config_<dev>_parse() reads one option string into one
 * struct, as the device creators take it (the command line, --config and
 * the API's device-add alike); config_add_<dev>() appends it to a
 * configuration with its default id and the checks across devices. */
#ifndef MINIVMM_CONFIG_DEVICES_H
#define MINIVMM_CONFIG_DEVICES_H

#include <stddef.h>

#include "minivmm/config_types.h"

/* path=FILE[,readonly][,id=NAME] into @d (zeroed first; id left empty
 * when not given). NAME is 1-20 characters of [A-Za-z0-9_.-]. 0 or
 * -EINVAL with "--disk 'ARG': reason" in @err. */
int config_disk_parse(const char *arg, struct config_disk *d, char *err,
                      size_t errlen);

/* tap=NAME[,mac=XX:XX:XX:XX:XX:XX] into @n (zeroed first; id left
 * empty). A MAC must be unicast. 0 or -EINVAL with the reason. */
int config_net_parse(const char *arg, struct config_net *n, char *err,
                     size_t errlen);

/* socket=PATH[,id=NAME][,dma=fd|message][,reconnect=SECONDS]
 * [,timeout=MS] into @c (zeroed first; id left empty). 0 or -EINVAL with
 * the reason. */
int config_vfio_parse(const char *arg, struct config_vfio *c, char *err,
                      size_t errlen);

/* Parse @arg and append it to @cfg: default id "diskN" / "netN" /
 * "vfioN", ids unique (disks and nets share a name space), a tap used
 * once, at most CONFIG_MAX_* of each. 0 or -EINVAL with the reason. */
int config_add_disk(const char *arg, struct vm_config *cfg, char *err,
                    size_t errlen);
int config_add_net(const char *arg, struct vm_config *cfg, char *err,
                   size_t errlen);
int config_add_vfio(const char *arg, struct vm_config *cfg, char *err,
                    size_t errlen);

#endif
