/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The logind inhibitor against python-dbusmock's logind template (started by test_inhibit.py
 * on a private bus, $DBUS_SYSTEM_BUS_ADDRESS): taken once however many jobs hold it, closed
 * with the last release, and a no-op without logind. TAP output.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "bus/bus-daemon.h"
#include "bus/inhibitor.h"
#include "core/config.h"
#include "core/manager.h"
#include "macro.h"

static unsigned n_test;
static bool failed;

static void ok(bool cond, const char *what) {
        printf("%sok %u - %s\n", cond ? "" : "not ", ++n_test, what);
        fflush(stdout);
        failed = failed || !cond;
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* The inhibitors logind (the mock) holds for "imapid", or -1 if it cannot be asked. */
static int count_inhibitors(sd_bus *bus, const char *why) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *what, *who, *w, *mode;
        uint32_t uid, pid;
        int n = 0, r;

        r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
                               "org.freedesktop.login1.Manager", "ListInhibitors", &error, &reply, NULL);
        sd_bus_error_free(&error);
        if (r < 0)
                return -1;
        r = sd_bus_message_enter_container(reply, 'a', "(ssssuu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssuu)", &what, &who, &w, &mode, &uid, &pid)) > 0)
                if (streq(who, "imapid") && streq(what, "sleep:shutdown") && streq(mode, "block") &&
                    (!why || streq(w, why)))
                        n++;
        return r < 0 ? -1 : n;
}

/* Runs the loop (the inhibitor's replies arrive there; without d, only waits) until cond
 * holds, for up to 20 s. A bounded wait, not a timing assertion. */
static bool run_until(BusDaemon *d, sd_bus *bus, bool (*cond)(BusDaemon *d, sd_bus *bus)) {
        uint64_t deadline = now_ms() + 20000;

        while (now_ms() < deadline) {
                if (cond(d, bus))
                        return true;
                if (d)
                        (void) sd_event_run(d->event, 50 * 1000);
                else
                        (void) nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        return cond(d, bus);
}

static bool is_held(BusDaemon *d, sd_bus *bus) {
        return inhibitor_is_held(d);
}

static bool logind_has_none(BusDaemon *d, sd_bus *bus) {
        return count_inhibitors(bus, NULL) == 0;
}

static bool logind_has_one(BusDaemon *d, sd_bus *bus) {
        return count_inhibitors(bus, NULL) == 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        sd_bus *bus = NULL, *client = NULL;
        bool with_logind = argc > 1 && streq(argv[1], "--with-logind");
        Manager *m = NULL;
        BusDaemon *d = NULL;
        Config config;
        int r;

        config_init(&config);
        if (sd_event_new(&event) < 0 || manager_new(event, &config, &m) < 0 || bus_daemon_new(m, &d) < 0) {
                printf("Bail out! cannot set up the daemon object\n");
                return 1;
        }

        /* No bus at all: nothing to ask, nothing to fail. */
        r = inhibitor_acquire(d, "Burning a disc");
        ok(r == 0 && !inhibitor_is_held(d), "without a bus, acquiring is a harmless no-op");
        inhibitor_release(d);

        if (sd_bus_open_system(&bus) < 0 || sd_bus_attach_event(bus, event, 0) < 0 ||
            bus_daemon_attach(d, bus) < 0 || sd_bus_open_system(&client) < 0) {
                printf("Bail out! cannot connect to $DBUS_SYSTEM_BUS_ADDRESS\n");
                return 1;
        }

        if (!with_logind) {
                r = inhibitor_acquire(d, "Burning a disc");
                /* The error reply (no logind) arrives through the loop: let it. */
                for (int i = 0; i < 20; i++)
                        (void) sd_event_run(event, 10 * 1000);
                ok(r == 0 && !inhibitor_is_held(d), "without logind on the bus, acquiring is a harmless no-op");
                inhibitor_release(d);
                ok(!inhibitor_is_held(d), "and releasing too");
                goto finish;
        }

        r = inhibitor_acquire(d, "Burning a disc in sr0");
        ok(r == 0 && run_until(d, client, is_held), "the first acquire takes logind's inhibitor");
        ok(count_inhibitors(client, "Burning a disc in sr0") == 1,
           "logind lists it: sleep:shutdown, imapid, the reason, block");

        r = inhibitor_acquire(d, "Erasing a disc in sr1");
        for (int i = 0; i < 10; i++)
                (void) sd_event_run(event, 10 * 1000);
        ok(r == 0 && count_inhibitors(client, NULL) == 1, "a second job shares the one inhibitor");

        inhibitor_release(d);
        ok(inhibitor_is_held(d) && logind_has_one(d, client), "it is kept while a job still runs");
        inhibitor_release(d);
        ok(!inhibitor_is_held(d) && run_until(d, client, logind_has_none), "the last release closes it");

        /* Released before logind answered: the answer must not leave an inhibitor behind. */
        r = inhibitor_acquire(d, "Burning a disc in sr0");
        inhibitor_release(d);
        for (int i = 0; i < 20; i++)
                (void) sd_event_run(event, 10 * 1000);
        ok(r == 0 && !inhibitor_is_held(d) && run_until(d, client, logind_has_none),
           "released before logind answered: nothing is held");

        inhibitor_release(d);
        ok(!inhibitor_is_held(d), "an extra release is ignored");

        r = inhibitor_acquire(d, "Burning a disc in sr0");
        ok(r == 0 && run_until(d, client, is_held), "it can be taken again");
finish:
        /* bus_daemon_free() drops whatever is still held. */
        d = bus_daemon_free(d);
        m = manager_free(m);
        ok(!with_logind || run_until(NULL, client, logind_has_none), "exit drops the inhibitor");
        sd_bus_flush_close_unref(bus);
        sd_bus_flush_close_unref(client);
        config_done(&config);
        printf("1..%u\n", n_test);
        return failed ? 1 : 0;
}
