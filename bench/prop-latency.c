/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Times property reads on imapid while something else keeps it busy.
 *
 *   prop-latency --address=unix:path=/run/bus [--interval=0.01] [--count=0] [--reference]
 *                [--out=FILE]
 *
 * Reads org.imapid.Imapi1.Recorder.State of the first recorder through
 * org.freedesktop.DBus.Properties.Get, one call at a time, every INTERVAL seconds, until COUNT
 * calls are done (0: until SIGTERM or SIGINT). Writes one JSON object, {"samples": [[t, ms],
 * ...]}, with t on CLOCK_MONOTONIC in seconds (Python's time.monotonic() in another process)
 * and the round trip of each call in milliseconds, to FILE or stdout. "ready" on stderr says
 * that the first call can be made. bench/run uses it during burns.
 *
 * With --reference, each round also reads org.imapid.BenchReference.State from bench/ref-service
 * on the same bus, first one and then the other in turn, so that both see the same moments of
 * the machine; those round trips go to "reference" in the same form.
 *
 * A compiled client, so that what is timed is the bus and imapid: an interpreter's own pauses
 * (a Python client showed 35 ms of bytecode inside one call) are not imapid's.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "bench-bus.h"

#define BUS_NAME "org.imapid.Imapi1"
#define MANAGER_PATH "/org/imapid/Imapi1/Manager"
#define REFERENCE_NAME "org.imapid.BenchReference"
#define REFERENCE_PATH "/org/imapid/BenchReference"

typedef struct Samples {
        double *v;              /* t, ms pairs */
        size_t n, allocated;
} Samples;

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int samples_add(Samples *s, double t0, double t1) {
        if (s->n == s->allocated) {
                size_t a = s->allocated ? s->allocated * 2 : 4096;
                double *v = realloc(s->v, a * 2 * sizeof(double));

                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->allocated = a;
        }
        s->v[2 * s->n] = t0;
        s->v[2 * s->n + 1] = (t1 - t0) * 1000.0;
        s->n++;
        return 0;
}

static void samples_print(FILE *out, const char *key, const Samples *s) {
        fprintf(out, "\"%s\": [", key);
        for (size_t i = 0; i < s->n; i++)
                fprintf(out, "%s[%.6f, %.4f]", i ? ", " : "", s->v[2 * i], s->v[2 * i + 1]);
        fputs("]", out);
}

/* One timed Get of a "u" property; the time goes to s. */
static int timed_get(sd_bus *bus, const char *name, const char *path, const char *interface, Samples *s) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        uint32_t state = 0;
        double t0, t1;
        int r;

        t0 = now();
        r = sd_bus_get_property_trivial(bus, name, path, interface, "State", &error, 'u', &state);
        t1 = now();
        if (r < 0) {
                if (!stop)
                        fprintf(stderr, "prop-latency: Get(%s, State) failed: %s\n", interface,
                                error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        return samples_add(s, t0, t1);
}

static int first_recorder(sd_bus *bus, char **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        const char *path = NULL;
        int r;

        r = sd_bus_get_property(bus, BUS_NAME, MANAGER_PATH, "org.imapid.Imapi1.Manager", "Recorders", &error,
                                &reply, "ao");
        if (r < 0) {
                fprintf(stderr, "prop-latency: cannot list recorders: %s\n", error.message ?: strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        r = sd_bus_message_enter_container(reply, 'a', "o");
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r > 0)
                *ret = strdup(path);
        sd_bus_message_unref(reply);
        if (r <= 0) {
                fprintf(stderr, "prop-latency: imapid offers no recorder\n");
                return -ENOENT;
        }
        return *ret ? 0 : -ENOMEM;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "interval", required_argument, NULL, 'i' },
                { "count", required_argument, NULL, 'c' },
                { "out", required_argument, NULL, 'o' },
                { "reference", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *address = NULL, *out_path = NULL;
        double interval = 0.01;
        Samples imapid = {}, reference = {};
        bool with_reference = false;
        long count = 0;
        char *recorder = NULL;
        sd_bus *bus = NULL;
        struct sigaction sa = { .sa_handler = on_signal };
        FILE *out;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        address = optarg;
                        break;
                case 'i':
                        interval = strtod(optarg, NULL);
                        break;
                case 'c':
                        count = strtol(optarg, NULL, 10);
                        break;
                case 'o':
                        out_path = optarg;
                        break;
                case 'r':
                        with_reference = true;
                        break;
                case 'h':
                        printf("%s --address=ADDRESS [--interval=SECONDS] [--count=N] [--reference] [--out=FILE]\n"
                               "Times Get(org.imapid.Imapi1.Recorder, State) round trips on imapid, and with\n"
                               "--reference those of bench/ref-service in turn.\n", argv[0]);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        if (!address || interval < 0 || count < 0) {
                fprintf(stderr, "prop-latency: --address is required; --interval and --count are not negative\n");
                return EXIT_FAILURE;
        }
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        r = bench_bus_open(address, &bus);
        if (r < 0) {
                fprintf(stderr, "prop-latency: cannot connect to %s: %s\n", address, strerror(-r));
                return EXIT_FAILURE;
        }
        if (first_recorder(bus, &recorder) < 0)
                return EXIT_FAILURE;

        fprintf(stderr, "ready\n");
        fflush(stderr);
        for (size_t round = 0; !stop && (count == 0 || (long) imapid.n < count); round++) {
                /* In turn, so that neither is always the one read right after the other. */
                for (int k = 0; k < (with_reference ? 2 : 1); k++) {
                        bool ref = with_reference && (round + k) % 2 == 1;

                        r = ref ? timed_get(bus, REFERENCE_NAME, REFERENCE_PATH, REFERENCE_NAME, &reference)
                                : timed_get(bus, BUS_NAME, recorder, "org.imapid.Imapi1.Recorder", &imapid);
                        if (r < 0 && stop)
                                break;  /* the signal cut the call short: the last one is not counted */
                        if (r < 0)
                                return EXIT_FAILURE;
                }
                if (interval > 0) {
                        struct timespec ts = { .tv_sec = (time_t) interval,
                                               .tv_nsec = (long) ((interval - (double) (time_t) interval) * 1e9) };
                        nanosleep(&ts, NULL); /* a signal cuts it short, and the loop ends */
                }
        }

        out = out_path ? fopen(out_path, "w") : stdout;
        if (!out) {
                fprintf(stderr, "prop-latency: cannot write %s: %s\n", out_path, strerror(errno));
                return EXIT_FAILURE;
        }
        fputs("{", out);
        samples_print(out, "samples", &imapid);
        if (with_reference) {
                fputs(", ", out);
                samples_print(out, "reference", &reference);
        }
        fputs("}\n", out);
        r = fflush(out) == 0 && !ferror(out) ? EXIT_SUCCESS : EXIT_FAILURE;
        if (out != stdout)
                fclose(out);
        free(imapid.v);
        free(reference.v);
        free(recorder);
        sd_bus_flush_close_unref(bus);
        return r;
}
