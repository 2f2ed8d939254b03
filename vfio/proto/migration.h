/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user device migration state machines, as tables.
 *
 * v2 (current spec, shared/spec/vfio-user.rst "VFIO_DEVICE_FEATURE_MIG_
 * DEVICE_STATE", "Direct State Transitions", "Complex State Transitions"):
 * states are enum vfio_device_mig_state values (VFIO_DEVICE_STATE_ERROR 0 ..
 * VFIO_DEVICE_STATE_PRE_COPY_P2P 7), the arcs a device implements depend on
 * its VFIO_MIGRATION_* flags (STOP_COPY mandatory; P2P, PRE_COPY optional),
 * and a requested transition is walked one arc at a time along the
 * shortest path with no saving-group state (PRE_COPY, PRE_COPY_P2P,
 * STOP_COPY) in its interior. The path rules are Linux's
 * vfio_mig_get_next_state(); the vfio-user arcs are its P2P-less subset.
 *
 * v1 (shared/spec/vfio-user-0.9.1.rst "VFIO Device Migration Info"):
 * device_state is a bit set (VFIO_USER_MIG_V1_STATE_*) written into the
 * migration region; only the spec's table of transitions is legal.
 *
 * Pure functions, no state: usable by the client and the server core.
 * @flags are VFIO_MIGRATION_* bits as returned by the
 * VFIO_DEVICE_FEATURE_MIGRATION GET; unknown bits are ignored.
 */
#ifndef MINIVMM_VFIO_MIGRATION_H
#define MINIVMM_VFIO_MIGRATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VFIO_USER_MIG_NUM_STATES 8 /* ERROR .. PRE_COPY_P2P */
#define VFIO_USER_MIG_PATH_MAX   8 /* longest path is 4 arcs; slack */

/* ---- v2 ---------------------------------------------------------------- */

/* 0 if @flags describe a migratable device (VFIO_MIGRATION_STOP_COPY set),
 * else -EINVAL. */
int vfio_user_mig_flags_check(uint64_t flags);

/* Name of v2 @state ("STOP", ...), "INVALID" if out of range. */
const char *vfio_user_mig_state_name(uint32_t state);

/* True if a device with @flags has @state (ERROR always: a device can fail
 * into it, though nobody may request it). */
bool vfio_user_mig_state_supported(uint64_t flags, uint32_t state);

/* True if @from -> @to is a direct arc a device with @flags implements
 * (the spec's "Direct State Transitions", extended with the kernel's P2P
 * arcs when VFIO_MIGRATION_P2P is set). */
bool vfio_user_mig_arc_valid(uint64_t flags, uint32_t from, uint32_t to);

/* The next state on the way from @cur to @target for a device with @flags
 * (Linux vfio_mig_get_next_state()). *@next == @cur when @cur == @target.
 * -EINVAL: bad flags, a state out of range or unsupported, @cur or @target
 * ERROR, or no path (STOP_COPY -> PRE_COPY/PRE_COPY_P2P). */
int vfio_user_mig_next_state(uint64_t flags, uint32_t cur, uint32_t target,
                             uint32_t *next);

/* The whole path: states after @cur up to and including @target into
 * @path (room for @max entries), count in *@n (0 when @cur == @target).
 * Errors as vfio_user_mig_next_state(); -ENOSPC if @max is too small. */
int vfio_user_mig_path(uint64_t flags, uint32_t cur, uint32_t target,
                       uint32_t *path, size_t max, size_t *n);

/* ---- v1 (0.9.1, region based) ------------------------------------------ */

/* True for the five usable states (STOP, RUNNING, STOP_COPY, PRE_COPY,
 * RESUMING) and ERROR; false for RESUMING with other bits and for bits
 * outside VFIO_USER_MIG_V1_STATE_MASK. */
bool vfio_user_mig_v1_state_valid(uint32_t state);

/* Name of v1 @state ("STOP", "PRE_COPY", ...), "INVALID" if invalid. */
const char *vfio_user_mig_v1_state_name(uint32_t state);

/* 0 if a client may write @to into device_state while the device is in
 * @from (spec 0.9.1 transition table; writing the current state again is
 * a no-op and allowed), else -EINVAL. ERROR is left only by reset and can
 * never be requested. */
int vfio_user_mig_v1_transition(uint32_t from, uint32_t to);

#endif
