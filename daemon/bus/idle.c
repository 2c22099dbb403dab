/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exit on idle, and the STATUS= line systemd shows for imapid. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <imapi/imapi.h>

#include "bus/bus-sender.h"
#include "bus/idle.h"
#include "log.h"
#include "macro.h"
#include "bus/p2p.h"
#include "bus/polkit.h"
#include "time-util.h"

typedef struct IdleLoop {
        BusDaemon *daemon;
        sd_bus *bus;
        uint64_t timeout;
        uint64_t last_activity;
        bool exiting;           /* STOPPING=1 sent, the name is being released */
        bool released;          /* the bus no longer routes new calls to us */
        char status[160];
} IdleLoop;

bool idle_nothing_to_do(const BusDaemon *d) {
        return manager_is_idle(d->manager) && polkit_pending(d) == 0 && bus_senders_held(d) == 0 &&
               p2p_peer_count(d) == 0;
}

static void idle_loop_update_status(IdleLoop *l, bool idle) {
        const BusDaemon *d = l->daemon;
        const Manager *m = d->manager;
        char s[sizeof l->status];

        if (idle)
                snprintf(s, sizeof s, "Idle with %zu recorder(s).", m->n_recorders);
        else
                snprintf(s, sizeof s, "Serving %zu client(s), %zu peer(s); %zu disc master(s), %zu job(s).",
                         m->n_clients, p2p_peer_count(d), m->n_masters, m->n_jobs);
        if (streq(s, l->status))
                return;
        memcpy(l->status, s, sizeof s);
        (void) sd_notifyf(false, "STATUS=%s", s);
}

/* Any message on the bus counts as activity, so that a client making one call after another
 * (holding nothing) does not see imapid go away under it. */
static int on_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        IdleLoop *l = userdata;

        l->last_activity = now_usec(CLOCK_MONOTONIC);
        return 0;
}

static void name_released(IdleLoop *l) {
        if (l->released)
                return;
        l->released = true;
        if (idle_nothing_to_do(l->daemon))
                (void) sd_event_exit(l->daemon->event, 0);
        else
                log_notice("Work arrived while the bus name was being released; finishing it before exiting.");
}

static int on_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        name_released(userdata);
        return 0;
}

static int on_release_name(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        IdleLoop *l = userdata;
        uint32_t result;

        /* Released (1): NameOwnerChanged follows, in order after everything sent to us before.
         * Anything else: the name was not ours, so there is nothing to wait for. */
        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "u", &result) < 0 ||
            result != 1)
                name_released(l);
        return 0;
}

static int idle_loop_begin_exit(IdleLoop *l) {
        _cleanup_free_ char *match = NULL;
        const char *unique;
        int r;

        log_info("Idle for %llu s, exiting.", (unsigned long long) (l->timeout / 1000000ULL));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Idle, exiting.");
        l->exiting = true;

        if (!l->bus)
                return sd_event_exit(l->daemon->event, 0);

        r = sd_bus_get_unique_name(l->bus, &unique);
        if (r >= 0 && asprintf(&match,
                               "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                               "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s',"
                               "arg1='%s',arg2=''", IMAPI_BUS_NAME, unique) < 0)
                r = -ENOMEM;
        /* The match is in place before the release: the bus handles our calls in order. */
        if (r >= 0)
                r = sd_bus_add_match_async(l->bus, NULL, match, on_name_owner_changed, NULL, l);
        if (r >= 0)
                r = sd_bus_release_name_async(l->bus, NULL, IMAPI_BUS_NAME, on_release_name, l);
        if (r < 0) {
                log_warning_errno(r, "Failed to release the bus name, exiting at once: %m");
                return sd_event_exit(l->daemon->event, 0);
        }
        return 0;
}

/* The calling thread's CPU time and context switches so far. */
static void thread_usage(DispatchUsage *ret) {
        struct rusage ru;

        if (getrusage(RUSAGE_THREAD, &ru) < 0) {
                *ret = (DispatchUsage) {};
                return;
        }
        *ret = (DispatchUsage) {
                .cpu_usec = (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ULL +
                            (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec),
                .waits = (uint64_t) ru.ru_nvcsw,
                .preemptions = (uint64_t) ru.ru_nivcsw,
        };
}

/* sd_event_run(), with each dispatch timed: sd-event dispatches one source per iteration, so
 * the time is that one handler's, and the manager keeps the worst for every job. The thread's
 * CPU time and its context switches tell the handler's own work, and its waits (a blocking call,
 * a lock), from time the machine gave to others meanwhile (preemptions). */
static int idle_loop_run_once(BusDaemon *d, uint64_t wait) {
        DispatchUsage before, after;
        uint64_t start;
        int r;

        r = sd_event_prepare(d->event);
        if (r == 0)
                r = sd_event_wait(d->event, wait);
        if (r <= 0)
                return r;
        start = now_usec(CLOCK_MONOTONIC);
        thread_usage(&before);
        r = sd_event_dispatch(d->event);
        thread_usage(&after);
        manager_note_dispatch(d->manager, &(DispatchUsage) {
                .usec = now_usec(CLOCK_MONOTONIC) - start,
                .cpu_usec = after.cpu_usec - before.cpu_usec,
                .waits = after.waits - before.waits,
                .preemptions = after.preemptions - before.preemptions,
        });
        return r;
}

int idle_run(BusDaemon *d, sd_bus *bus, uint64_t idle_timeout_usec) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *filter = NULL;
        IdleLoop l = {
                .daemon = d,
                .bus = bus,
                .timeout = idle_timeout_usec,
                .last_activity = now_usec(CLOCK_MONOTONIC),
        };
        int code = 0, r;

        if (bus && idle_timeout_usec > 0) {
                r = sd_bus_add_filter(bus, &filter, on_bus_message, &l);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch bus activity: %m");
        }

        for (;;) {
                uint64_t wait = UINT64_MAX, now;
                bool idle;

                if (sd_event_get_state(d->event) == SD_EVENT_FINISHED)
                        break;

                idle = idle_nothing_to_do(d);
                if (!l.exiting)
                        idle_loop_update_status(&l, idle);
                now = now_usec(CLOCK_MONOTONIC);
                if (!idle)
                        l.last_activity = now;
                else if (l.released) {
                        /* Work that arrived during the release is done. */
                        r = sd_event_exit(d->event, 0);
                        if (r < 0)
                                return r;
                } else if (l.timeout > 0 && !l.exiting) {
                        if (now >= l.last_activity + l.timeout) {
                                r = idle_loop_begin_exit(&l);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        wait = l.last_activity + l.timeout - now;
                }

                r = idle_loop_run_once(d, wait);
                if (r < 0)
                        return log_error_errno(r, "Event loop failed: %m");
        }

        r = sd_event_get_exit_code(d->event, &code);
        if (r < 0)
                return r;
        return code;
}
