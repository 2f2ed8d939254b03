/* Guest RAM as one memfd split around the PCI hole (see memory.h). */
#include "vmm/memory.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void add_region(struct guest_memory *mem, uint64_t gpa, uint64_t size,
                       uint64_t fd_offset)
{
    struct guest_region *r = &mem->regions[mem->nregions++];

    r->gpa = gpa;
    r->size = size;
    r->hva = mem->base + fd_offset;
    r->fd = mem->fd;
    r->fd_offset = fd_offset;
}

int guest_memory_create(uint64_t ram_size, struct guest_memory *mem)
{
    uint64_t low;
    int ret;

    memset(mem, 0, sizeof(*mem));
    mem->fd = -1;
    if (ram_size == 0 || ram_size % 4096)
        return -EINVAL;
    mem->fd = memfd_create("minivmm-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mem->fd < 0)
        return -errno;
    if (ftruncate(mem->fd, (off_t)ram_size) < 0)
        goto fail_errno;
    /* The size is fixed for the VM's life: servers mapping it may rely on
     * that (vfio-user DMA_MAP of fd ranges). */
    if (fcntl(mem->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
        goto fail_errno;
    mem->base = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_NORESERVE, mem->fd, 0);
    if (mem->base == MAP_FAILED) {
        mem->base = NULL;
        goto fail_errno;
    }
    mem->ram_size = ram_size;
    low = ram_size < GUEST_MEM_LOW_LIMIT ? ram_size : GUEST_MEM_LOW_LIMIT;
    add_region(mem, 0, low, 0);
    if (ram_size > low)
        add_region(mem, GUEST_MEM_HIGH_START, ram_size - low, low);
    return 0;

fail_errno:
    ret = -errno;
    guest_memory_destroy(mem);
    return ret;
}

void guest_memory_destroy(struct guest_memory *mem)
{
    if (mem->base)
        munmap(mem->base, mem->ram_size);
    if (mem->fd >= 0)
        close(mem->fd);
    memset(mem, 0, sizeof(*mem));
    mem->fd = -1;
}

void *guest_memory_hva(const struct guest_memory *mem, uint64_t gpa,
                       uint64_t len)
{
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *r = &mem->regions[i];
        uint64_t off = gpa - r->gpa;

        if (gpa < r->gpa || off >= r->size)
            continue;
        if (len > r->size - off)
            return NULL;
        return r->hva + off;
    }
    return NULL;
}

int guest_memory_read(const struct guest_memory *mem, uint64_t gpa,
                      void *buf, uint64_t len)
{
    void *p = guest_memory_hva(mem, gpa, len);

    if (!p)
        return -EFAULT;
    memcpy(buf, p, len);
    return 0;
}

int guest_memory_write(const struct guest_memory *mem, uint64_t gpa,
                       const void *buf, uint64_t len)
{
    void *p = guest_memory_hva(mem, gpa, len);

    if (!p)
        return -EFAULT;
    memcpy(p, buf, len);
    return 0;
}

uint64_t guest_memory_low_size(const struct guest_memory *mem)
{
    return mem->nregions ? mem->regions[0].size : 0;
}

void guest_memory_mark_dirty(const struct guest_memory *mem, uint64_t gpa,
                             uint64_t len)
{
    uint64_t *bits = __atomic_load_n(&mem->dirty, __ATOMIC_ACQUIRE);

    if (!bits || !len)
        return;
    for (unsigned int i = 0; i < mem->nregions; i++) {
        const struct guest_region *r = &mem->regions[i];
        uint64_t s, e, first, last;

        if (gpa >= r->gpa + r->size || gpa + len <= r->gpa)
            continue;
        s = gpa > r->gpa ? gpa : r->gpa;
        e = gpa + len < r->gpa + r->size ? gpa + len : r->gpa + r->size;
        first = (r->fd_offset + s - r->gpa) >> 12;
        last = (r->fd_offset + e - 1 - r->gpa) >> 12;
        for (uint64_t p = first; p <= last; p++)
            __atomic_fetch_or(&bits[p / 64], 1ULL << (p % 64),
                              __ATOMIC_RELAXED);
    }
}
