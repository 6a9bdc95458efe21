/* The deadline watchdog: one small thread per reader that sleeps on a
 * condition variable (monotonic clock, the same one q_now reads) and sets a
 * MuPDF cookie's abort flag when the armed deadline passes. */
#define _POSIX_C_SOURCE 200809L
#include "doc_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct doc_watchdog {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double deadline; /* 0 = disarmed */
    int *abort_flag;
    int quit;
};

static void *watchdog_main(void *arg) {
    doc_watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->quit) {
        if (w->deadline <= 0) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        if (q_now() >= w->deadline) {
            /* MuPDF polls this int without locks by design (fz_cookie). */
            *(volatile int *)w->abort_flag = 1;
            w->deadline = 0;
            continue;
        }
        double t = w->deadline;
        struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

q_status doc_watchdog_new(doc_watchdog **out) {
    *out = NULL;
    doc_watchdog *w = calloc(1, sizeof *w);
    if (!w) return Q_FAIL(Q_ERR_NOMEM, "out of memory for the watchdog");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int e = pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (e) {
        free(w);
        return Q_FAIL(Q_ERR_NOMEM, "cannot create the watchdog's condition variable");
    }
    pthread_mutex_init(&w->mu, NULL);
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return Q_FAIL(Q_ERR_NOMEM, "cannot start the watchdog thread");
    }
    *out = w;
    return Q_OK;
}

void doc_watchdog_free(doc_watchdog *w) {
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void doc_watchdog_arm(doc_watchdog *w, double deadline, int *abort_flag) {
    pthread_mutex_lock(&w->mu);
    w->deadline = deadline;
    w->abort_flag = abort_flag;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}
