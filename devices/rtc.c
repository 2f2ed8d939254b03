/* SPDX-License-Identifier: BSD-3-Clause */
/* RTC/CMOS (see rtc.h). Register layout per the Motorola MC146818A data
 * sheet; CMOS memory-size bytes as in QEMU's hw/i386/pc.c. */
#include "devices/rtc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG_SEC     0x00
#define REG_MIN     0x02
#define REG_HOUR    0x04
#define REG_WDAY    0x06
#define REG_MDAY    0x07
#define REG_MONTH   0x08
#define REG_YEAR    0x09
#define REG_A       0x0A
#define REG_B       0x0B
#define REG_C       0x0C
#define REG_D       0x0D
#define REG_CENTURY 0x32

#define A_UIP     0x80
#define B_SET     0x80
#define B_DM      0x04 /* binary, not BCD */
#define B_24H     0x02
#define D_VRT     0x80
#define HOUR_PM   0x80
#define IDX_NMI   0x80
#define IDX_MASK  0x7F

#define NS_PER_S  1000000000ULL
#define UIP_NS    244000ULL /* update cycle: UIP before the second ends */

struct rtc {
    pthread_mutex_t lock;
    struct rtc_config cfg;
    uint8_t cmos[RTC_CMOS_SIZE];
    uint8_t index;  /* including IDX_NMI */
    int64_t offset; /* guest time - host time, seconds */
};

static uint64_t rtc_host_ns(const struct rtc *rtc)
{
    struct timespec ts;

    if (rtc->cfg.clock_ns)
        return rtc->cfg.clock_ns(rtc->cfg.clock_opaque);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void rtc_set16(struct rtc *rtc, uint8_t reg, uint32_t v)
{
    rtc->cmos[reg] = (uint8_t)v;
    rtc->cmos[reg + 1] = (uint8_t)(v >> 8);
}

static void rtc_init_memory(struct rtc *rtc)
{
    uint64_t below = rtc->cfg.ram_below_4g, v;
    uint32_t sum = 0;

    rtc_set16(rtc, 0x15, 640);
    v = below > (1 << 20) ? (below - (1 << 20)) >> 10 : 0;
    rtc_set16(rtc, 0x17, v > 0xFFFF ? 0xFFFF : (uint32_t)v);
    rtc_set16(rtc, 0x30, v > 0xFFFF ? 0xFFFF : (uint32_t)v);
    v = below > (16 << 20) ? (below - (16 << 20)) >> 16 : 0;
    rtc_set16(rtc, 0x34, v > 0xFFFF ? 0xFFFF : (uint32_t)v);
    v = rtc->cfg.ram_above_4g >> 16;
    if (v > 0xFFFFFF)
        v = 0xFFFFFF;
    rtc_set16(rtc, 0x5B, (uint32_t)v);
    rtc->cmos[0x5D] = (uint8_t)(v >> 16);
    for (unsigned int i = 0x10; i <= 0x2D; i++)
        sum += rtc->cmos[i];
    rtc->cmos[0x2E] = (uint8_t)(sum >> 8);
    rtc->cmos[0x2F] = (uint8_t)sum;
}

int rtc_create(const struct rtc_config *cfg, struct rtc **out)
{
    struct rtc *rtc = calloc(1, sizeof(*rtc));
    int r;

    if (!rtc)
        return -ENOMEM;
    r = pthread_mutex_init(&rtc->lock, NULL);
    if (r) {
        free(rtc);
        return -r;
    }
    rtc->cfg = *cfg;
    rtc->cmos[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
    rtc->cmos[REG_B] = B_24H;
    rtc->cmos[REG_D] = D_VRT;
    rtc_init_memory(rtc);
    *out = rtc;
    return 0;
}

void rtc_destroy(struct rtc *rtc)
{
    if (!rtc)
        return;
    pthread_mutex_destroy(&rtc->lock);
    free(rtc);
}

static bool rtc_is_time_reg(uint8_t reg)
{
    return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR ||
           (reg >= REG_WDAY && reg <= REG_YEAR) || reg == REG_CENTURY;
}

static uint8_t rtc_enc(const struct rtc *rtc, unsigned int v)
{
    return rtc->cmos[REG_B] & B_DM ? (uint8_t)v
                                   : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned int rtc_dec(uint8_t b, uint8_t reg_b)
{
    return reg_b & B_DM ? b : (b >> 4) * 10 + (b & 0x0F);
}

static uint8_t rtc_enc_hour(const struct rtc *rtc, int hour)
{
    int h12 = hour % 12 ? hour % 12 : 12;

    if (rtc->cmos[REG_B] & B_24H)
        return rtc_enc(rtc, (unsigned int)hour);
    return rtc_enc(rtc, (unsigned int)h12) | (hour >= 12 ? HOUR_PM : 0);
}

/* Copy the guest's current time into the time registers. */
static void rtc_latch(struct rtc *rtc)
{
    time_t t = (time_t)(rtc_host_ns(rtc) / NS_PER_S) + (time_t)rtc->offset;
    struct tm tm;
    int year;

    gmtime_r(&t, &tm);
    year = tm.tm_year + 1900;
    rtc->cmos[REG_SEC] = rtc_enc(rtc, (unsigned int)tm.tm_sec);
    rtc->cmos[REG_MIN] = rtc_enc(rtc, (unsigned int)tm.tm_min);
    rtc->cmos[REG_HOUR] = rtc_enc_hour(rtc, tm.tm_hour);
    rtc->cmos[REG_WDAY] = rtc_enc(rtc, (unsigned int)tm.tm_wday + 1);
    rtc->cmos[REG_MDAY] = rtc_enc(rtc, (unsigned int)tm.tm_mday);
    rtc->cmos[REG_MONTH] = rtc_enc(rtc, (unsigned int)tm.tm_mon + 1);
    rtc->cmos[REG_YEAR] = rtc_enc(rtc, (unsigned int)(year % 100));
    rtc->cmos[REG_CENTURY] = rtc_enc(rtc, (unsigned int)(year / 100));
}

/* Set the guest offset from the time registers, read in @reg_b's format.
 * Out-of-range fields are normalized by timegm(), as good as any. */
static void rtc_commit(struct rtc *rtc, uint8_t reg_b)
{
    const uint8_t *c = rtc->cmos;
    uint8_t hb = c[REG_HOUR];
    struct tm tm = { 0 };
    int hour;
    time_t t;

    if (reg_b & B_24H)
        hour = (int)rtc_dec(hb, reg_b);
    else
        hour = (int)rtc_dec(hb & ~HOUR_PM, reg_b) % 12 +
               (hb & HOUR_PM ? 12 : 0);
    tm.tm_sec = (int)rtc_dec(c[REG_SEC], reg_b);
    tm.tm_min = (int)rtc_dec(c[REG_MIN], reg_b);
    tm.tm_hour = hour;
    tm.tm_mday = (int)rtc_dec(c[REG_MDAY], reg_b);
    tm.tm_mon = (int)rtc_dec(c[REG_MONTH], reg_b) - 1;
    tm.tm_year = (int)(rtc_dec(c[REG_CENTURY], reg_b) * 100 +
                       rtc_dec(c[REG_YEAR], reg_b)) - 1900;
    t = timegm(&tm);
    rtc->offset = (int64_t)t - (int64_t)(rtc_host_ns(rtc) / NS_PER_S);
}

static uint8_t rtc_read_reg(struct rtc *rtc, uint8_t reg)
{
    bool set = rtc->cmos[REG_B] & B_SET;

    if (rtc_is_time_reg(reg) && !set)
        rtc_latch(rtc);
    switch (reg) {
    case REG_A:
        if (!set && rtc_host_ns(rtc) % NS_PER_S >= NS_PER_S - UIP_NS)
            return rtc->cmos[REG_A] | A_UIP;
        return rtc->cmos[REG_A] & ~A_UIP;
    case REG_C:
        return 0;
    case REG_D:
        return D_VRT;
    default:
        return rtc->cmos[reg];
    }
}

static void rtc_write_b(struct rtc *rtc, uint8_t v)
{
    uint8_t old = rtc->cmos[REG_B];

    if (!(old & B_SET) && (v & B_SET)) {
        rtc->cmos[REG_B] = v; /* latch in the new format */
        rtc_latch(rtc);
    } else if ((old & B_SET) && !(v & B_SET)) {
        rtc_commit(rtc, v);
    }
    rtc->cmos[REG_B] = v;
}

static void rtc_write_reg(struct rtc *rtc, uint8_t reg, uint8_t v)
{
    if (rtc_is_time_reg(reg)) {
        bool set = rtc->cmos[REG_B] & B_SET;

        if (!set)
            rtc_latch(rtc);
        rtc->cmos[reg] = v;
        if (!set)
            rtc_commit(rtc, rtc->cmos[REG_B]);
        return;
    }
    switch (reg) {
    case REG_A:
        rtc->cmos[REG_A] = v & ~A_UIP;
        break;
    case REG_B:
        rtc_write_b(rtc, v);
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        rtc->cmos[reg] = v;
        break;
    }
}

static void rtc_read(void *opaque, uint64_t offset, void *data, uint32_t len)
{
    struct rtc *rtc = opaque;

    if (offset != 1 || len != 1) {
        memset(data, 0xFF, len);
        return;
    }
    pthread_mutex_lock(&rtc->lock);
    *(uint8_t *)data = rtc_read_reg(rtc, rtc->index & IDX_MASK);
    pthread_mutex_unlock(&rtc->lock);
}

static void rtc_write(void *opaque, uint64_t offset, const void *data,
                      uint32_t len)
{
    struct rtc *rtc = opaque;
    uint8_t v = *(const uint8_t *)data;

    if (len != 1 || offset >= RTC_PORT_LEN)
        return;
    pthread_mutex_lock(&rtc->lock);
    if (offset == 0)
        rtc->index = v;
    else
        rtc_write_reg(rtc, rtc->index & IDX_MASK, v);
    pthread_mutex_unlock(&rtc->lock);
}

const struct bus_ops rtc_bus_ops = {
    .read = rtc_read,
    .write = rtc_write,
};

bool rtc_nmi_disabled(struct rtc *rtc)
{
    bool v;

    pthread_mutex_lock(&rtc->lock);
    v = rtc->index & IDX_NMI;
    pthread_mutex_unlock(&rtc->lock);
    return v;
}

static int rtc_save(void *opaque, void *fdt, int node)
{
    struct rtc *rtc = opaque;
    int r;

    pthread_mutex_lock(&rtc->lock);
    r = state_put_bytes(fdt, node, "cmos", rtc->cmos, sizeof(rtc->cmos));
    if (r == 0)
        r = state_put_u32(fdt, node, "index", rtc->index);
    if (r == 0)
        r = state_put_u64(fdt, node, "offset", (uint64_t)rtc->offset);
    pthread_mutex_unlock(&rtc->lock);
    return r;
}

static int rtc_load(void *opaque, const void *fdt, int node)
{
    struct rtc *rtc = opaque;
    uint8_t cmos[RTC_CMOS_SIZE];
    uint32_t index;
    uint64_t offset;
    int r;

    r = state_get_bytes(fdt, node, "cmos", cmos, sizeof(cmos));
    if (r == 0)
        r = state_get_u32(fdt, node, "index", &index);
    if (r == 0)
        r = state_get_u64(fdt, node, "offset", &offset);
    if (r < 0)
        return r;
    if (index > 0xFF)
        return -EINVAL;
    pthread_mutex_lock(&rtc->lock);
    memcpy(rtc->cmos, cmos, sizeof(cmos));
    rtc->cmos[REG_A] &= ~A_UIP;
    rtc->index = (uint8_t)index;
    rtc->offset = (int64_t)offset;
    pthread_mutex_unlock(&rtc->lock);
    return 0;
}

const struct state_ops rtc_state_ops = {
    .save = rtc_save,
    .load = rtc_load,
};
