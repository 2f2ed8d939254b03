/* SPDX-License-Identifier: BSD-3-Clause */
/* The shared core of an outgoing migration (see migration_core.h). */
#include "minivmm/persist/migration_core.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* Apply @ev under m->lock; the caller holds it. */
int mig_apply_locked(struct migration *m, enum mig_event ev)
{
    enum mig_state next;
    int r = mig_fsm_next(m->state, ev, &next);

    if (r == 0) {
        m->state = next;
        m->progress_pending = true;
    }
    return r;
}

/* Wake the event loop (requests, progress). */
void mig_kick_loop(struct migration *m)
{
    uint64_t one = 1;

    if (write(m->efd, &one, sizeof(one)) < 0) {
        /* The counter cannot overflow: the loop reads it each time. */
    }
}

int mig_ask_loop(struct migration *m, enum mig_req req, bool done)
{
    int r;

    pthread_mutex_lock(&m->lock);
    m->req = req;
    m->req_done_flag = done;
    m->req_finished = false;
    pthread_mutex_unlock(&m->lock);
    mig_kick_loop(m);
    if (req == MIG_REQ_END)
        return 0; /* the loop joins us */
    pthread_mutex_lock(&m->lock);
    while (!m->req_finished && !m->loop_gone)
        pthread_cond_wait(&m->cond, &m->lock);
    r = m->req_finished ? m->req_ret : -ECANCELED;
    pthread_mutex_unlock(&m->lock);
    return r;
}

