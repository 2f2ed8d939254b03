/* SPDX-License-Identifier: BSD-3-Clause */
/* 16550A UART: register semantics, interrupt identification and the IRQ
 * line, FIFO limits, output fd handling, save/load (devices/serial.c). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include "devices/serial.h"
#include "vmm/bus.h"

#define COM1 SERIAL_COM1_BASE

struct fake_irq {
    uint32_t gsi;
    bool level;
    int raises; /* 0 → 1 transitions */
    int calls;
};

static int fake_set_level(void *opaque, uint32_t gsi, bool level)
{
    struct fake_irq *f = opaque;

    f->gsi = gsi;
    if (level && !f->level)
        f->raises++;
    f->level = level;
    f->calls++;
    return 0;
}

static const struct irq_ops fake_irq_ops = { fake_set_level };

struct fixture {
    struct bus *pio;
    struct serial *s;
    struct fake_irq irq;
    int pipe[2]; /* output: [0] read end for the test */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct serial_config cfg;

    assert_non_null(f);
    assert_int_equal(pipe2(f->pipe, O_NONBLOCK), 0);
    cfg = (struct serial_config){
        .out_fd = f->pipe[1],
        .irq = { &fake_irq_ops, &f->irq },
        .gsi = SERIAL_COM1_GSI,
    };
    assert_int_equal(bus_create("pio", &f->pio), 0);
    assert_int_equal(serial_create(&cfg, &f->s), 0);
    assert_int_equal(bus_register(f->pio, COM1, SERIAL_NR_REGS,
                                  &serial_bus_ops, f->s), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    bus_destroy(f->pio);
    serial_destroy(f->s);
    close(f->pipe[0]);
    close(f->pipe[1]);
    free(f);
    return 0;
}

static uint8_t inb(struct fixture *f, unsigned int reg)
{
    uint8_t v = 0;

    assert_int_equal(bus_dispatch(f->pio, COM1 + reg, &v, 1, false), 0);
    return v;
}

static void outb(struct fixture *f, unsigned int reg, uint8_t v)
{
    assert_int_equal(bus_dispatch(f->pio, COM1 + reg, &v, 1, true), 0);
}

static void test_reset_state(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(inb(f, 1), 0);        /* IER */
    assert_int_equal(inb(f, 2), 0x01);     /* IIR: none, no FIFO */
    assert_int_equal(inb(f, 5), 0x60);     /* LSR: THRE | TEMT */
    assert_int_equal(inb(f, 6) & 0xB0, 0xB0); /* DCD DSR CTS */
    assert_false(f->irq.level);
}

static void test_dlab_divisor_scratch(void **state)
{
    struct fixture *f = *state;

    outb(f, 3, 0x83); /* DLAB, 8N1 */
    outb(f, 0, 0x01);
    outb(f, 1, 0x02);
    assert_int_equal(inb(f, 0), 0x01);
    assert_int_equal(inb(f, 1), 0x02);
    outb(f, 3, 0x03);
    assert_int_equal(inb(f, 3), 0x03);
    assert_int_equal(inb(f, 1), 0); /* IER unaffected by DLM write */
    outb(f, 7, 0x5A);
    assert_int_equal(inb(f, 7), 0x5A);
}

static void test_output_to_fd(void **state)
{
    struct fixture *f = *state;
    char buf[8] = { 0 };

    outb(f, 0, 'h');
    outb(f, 0, 'i');
    assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), 2);
    assert_string_equal(buf, "hi");
    assert_int_equal(inb(f, 5) & 0x60, 0x60);
}

static void test_output_eagain_drops(void **state)
{
    struct fixture *f = *state;
    char junk[4096];
    ssize_t n;

    memset(junk, 'x', sizeof(junk));
    do {
        n = write(f->pipe[1], junk, sizeof(junk));
    } while (n > 0);
    assert_int_equal(errno, EAGAIN);
    outb(f, 0, 'a'); /* must return, not block */
    outb(f, 0, 'b');
    assert_int_equal(serial_tx_dropped(f->s), 2);
}

static void test_thre_interrupt(void **state)
{
    struct fixture *f = *state;

    outb(f, 1, 0x02); /* ETBEI with THR empty: raise at once */
    assert_true(f->irq.level);
    assert_int_equal(f->irq.gsi, SERIAL_COM1_GSI);
    assert_int_equal(inb(f, 2), 0x02); /* reading IIR clears THRI */
    assert_false(f->irq.level);
    assert_int_equal(inb(f, 2), 0x01);

    outb(f, 0, 'x'); /* THR write: drop then raise again (edge) */
    assert_int_equal(f->irq.raises, 2);
    assert_true(f->irq.level);
    outb(f, 0, 'y');
    assert_int_equal(f->irq.raises, 3);
    outb(f, 1, 0x00); /* disabling ETBEI deasserts */
    assert_false(f->irq.level);
}

static void test_rx_and_priority(void **state)
{
    struct fixture *f = *state;
    const uint8_t in[] = { 'a', 'b' };

    outb(f, 1, 0x03); /* ERBFI | ETBEI */
    assert_int_equal(inb(f, 2), 0x02);
    assert_int_equal(serial_input(f->s, in, 2), 2);
    assert_true(f->irq.level);
    assert_int_equal(inb(f, 5) & 0x01, 0x01);
    outb(f, 1, 0x01); /* ERBFI only */
    outb(f, 1, 0x03); /* ETBEI 0→1: THRI pending again */
    assert_int_equal(inb(f, 2), 0x04); /* RDA outranks THRE */
    assert_int_equal(inb(f, 0), 'a');
    assert_int_equal(inb(f, 0), 'b');
    assert_int_equal(inb(f, 5) & 0x01, 0);
    assert_int_equal(inb(f, 2), 0x02); /* now THRE */
    assert_int_equal(inb(f, 2), 0x01);
    assert_false(f->irq.level);
}

static void test_fifo_trigger_timeout(void **state)
{
    struct fixture *f = *state;
    const uint8_t in[8] = "12345678";

    outb(f, 2, 0x81); /* FIFO on, trigger 8 */
    outb(f, 1, 0x01);
    assert_int_equal(serial_input(f->s, in, 3), 3);
    assert_int_equal(inb(f, 2), 0xCC); /* FIFO bits | timeout */
    assert_int_equal(serial_input(f->s, in + 3, 5), 5);
    assert_int_equal(inb(f, 2), 0xC4); /* trigger reached */
    outb(f, 2, 0x83); /* clear RX */
    assert_int_equal(inb(f, 5) & 0x01, 0);
    assert_int_equal(inb(f, 2), 0xC1);
    assert_false(f->irq.level);
}

static void test_fifo_overflow(void **state)
{
    struct fixture *f = *state;
    uint8_t in[SERIAL_RX_FIFO_SIZE + 10];

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)i;
    assert_int_equal(serial_input(f->s, in, sizeof(in)),
                     SERIAL_RX_FIFO_SIZE);
    assert_int_equal(serial_rx_space(f->s), 0);
    assert_int_equal(serial_input(f->s, in, 1), 0);
    assert_int_equal(inb(f, 5) & 0x02, 0); /* no overrun: caller keeps it */
    for (size_t i = 0; i < SERIAL_RX_FIFO_SIZE; i++)
        assert_int_equal(inb(f, 0), (uint8_t)i);
    assert_int_equal(serial_rx_space(f->s), SERIAL_RX_FIFO_SIZE);
}

static void test_loopback(void **state)
{
    struct fixture *f = *state;
    char buf[4];

    outb(f, 4, 0x10 | 0x02); /* LOOP | RTS */
    assert_int_equal(inb(f, 6) & 0xF0, 0x10); /* CTS only */
    outb(f, 1, 0x0D); /* ERBFI | ELSI | EDSSI */
    outb(f, 0, 'z');
    assert_int_equal(read(f->pipe[0], buf, sizeof(buf)), -1);
    assert_int_equal(inb(f, 2), 0x04);
    assert_int_equal(inb(f, 0), 'z');
    assert_int_equal(inb(f, 2), 0x01);
    outb(f, 4, 0x10 | 0x02 | 0x01); /* + DTR: DSR rises */
    assert_int_equal(inb(f, 2), 0x00); /* modem status (delta bits) */
    assert_int_equal(inb(f, 6), 0x30 | 0x02); /* CTS DSR | DDSR */
    assert_int_equal(inb(f, 2), 0x01);
    for (int i = 0; i < SERIAL_RX_FIFO_SIZE + 1; i++)
        outb(f, 0, 'q');
    assert_int_equal(inb(f, 2), 0x06); /* overrun: line status first */
    assert_int_equal(inb(f, 5) & 0x03, 0x03);
    assert_int_equal(inb(f, 5) & 0x02, 0); /* OE cleared by LSR read */
    assert_int_equal(inb(f, 2), 0x04);
}

static void test_wide_access(void **state)
{
    struct fixture *f = *state;
    uint16_t v = 0;

    assert_int_equal(bus_dispatch(f->pio, COM1 + 2, &v, 2, false), 0);
    assert_int_equal(v, 0xFFFF);
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    char fdt[4096];
    struct serial *s2;
    struct fake_irq irq2 = { 0 };
    struct serial_config cfg = { -1, { &fake_irq_ops, &irq2 }, 4 };
    int node;

    outb(f, 3, 0x83);
    outb(f, 0, 0x03);
    outb(f, 3, 0x03);
    outb(f, 7, 0x42);
    outb(f, 1, 0x01);
    assert_int_equal(serial_input(f->s, (const uint8_t *)"xyz", 3), 3);
    assert_int_equal(inb(f, 0), 'x');

    assert_int_equal(fdt_create_empty_tree(fdt, sizeof(fdt)), 0);
    node = fdt_add_subnode(fdt, 0, "serial");
    assert_true(node >= 0);
    assert_int_equal(serial_state_ops.save(f->s, fdt, node), 0);

    assert_int_equal(serial_create(&cfg, &s2), 0);
    assert_int_equal(serial_state_ops.load(s2, fdt, node), 0);
    assert_true(irq2.level); /* data pending with ERBFI */
    serial_destroy(f->s);
    f->s = s2;
    bus_unregister(f->pio, COM1);
    assert_int_equal(bus_register(f->pio, COM1, SERIAL_NR_REGS,
                                  &serial_bus_ops, s2), 0);
    assert_int_equal(inb(f, 7), 0x42);
    assert_int_equal(inb(f, 0), 'y');
    assert_int_equal(inb(f, 0), 'z');
    outb(f, 3, 0x83);
    assert_int_equal(inb(f, 0), 0x03);

    /* Bad values are refused. */
    assert_int_equal(state_put_u32(fdt, node, "rx-count", 1000), 0);
    assert_int_equal(serial_state_ops.load(s2, fdt, node), -EINVAL);
    fdt_delprop(fdt, node, "ier");
    assert_int_equal(serial_state_ops.load(s2, fdt, node), -ENOENT);
}

#define STREAM_LEN 20000

static void *input_thread(void *opaque)
{
    struct fixture *f = opaque;

    for (uint32_t i = 0; i < STREAM_LEN;) {
        uint8_t b = (uint8_t)i;

        i += (uint32_t)serial_input(f->s, &b, 1);
    }
    return NULL;
}

/* The event loop feeds input while a vCPU drains it: nothing is lost,
 * duplicated or reordered. */
static void test_concurrent_input(void **state)
{
    struct fixture *f = *state;
    pthread_t t;
    uint32_t got = 0;

    outb(f, 1, 0x01);
    assert_int_equal(pthread_create(&t, NULL, input_thread, f), 0);
    while (got < STREAM_LEN) {
        if (inb(f, 5) & 0x01)
            assert_int_equal(inb(f, 0), (uint8_t)got++);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(inb(f, 5) & 0x01, 0);
    assert_false(f->irq.level);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlab_divisor_scratch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output_to_fd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_eagain_drops, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_and_priority, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fifo_trigger_timeout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fifo_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_input, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
