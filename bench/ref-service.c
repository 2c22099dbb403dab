/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reference service of the latency benchmark: the least an sd-bus service can do.
 *
 *   ref-service --address=unix:path=/run/bus
 *
 * Takes the name org.imapid.BenchReference on the bus and serves one read-only property,
 * org.imapid.BenchReference.State ("u", always 0) on /org/imapid/BenchReference, from an
 * sd-event loop with nothing else to do. Prints "ready" on stderr once the name is taken, and
 * runs until SIGTERM or SIGINT.
 *
 * bench/prop-latency reads its property in turn with imapid's Recorder.State during a burn: the
 * reference's round trips show what the bus, the kernel and the machine cost any service under
 * the same load at the same moment, so that imapid's can be compared with that floor rather
 * than with a fixed number of milliseconds.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bench-bus.h"

#define NAME "org.imapid.BenchReference"
#define PATH "/org/imapid/BenchReference"

static int get_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                     sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "u", (uint32_t) 0);
}

static const sd_bus_vtable vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("State", "u", get_state, 0, 0),
        SD_BUS_VTABLE_END
};

int main(int argc, char *argv[]) {
        const char *address = NULL;
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        sigset_t mask;
        int r;

        for (int i = 1; i < argc; i++)
                if (strncmp(argv[i], "--address=", 10) == 0)
                        address = argv[i] + 10;
                else {
                        fprintf(stderr, "usage: %s --address=ADDRESS\n", argv[0]);
                        return EXIT_FAILURE;
                }
        if (!address) {
                fprintf(stderr, "ref-service: --address is required\n");
                return EXIT_FAILURE;
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = bench_bus_open(address, &bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, PATH, NAME, vtable, NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, NAME, 0);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                fprintf(stderr, "ref-service: cannot serve %s on %s: %s\n", NAME, address, strerror(-r));
                return EXIT_FAILURE;
        }
        fprintf(stderr, "ready\n");
        fflush(stderr);

        r = sd_event_loop(event);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
