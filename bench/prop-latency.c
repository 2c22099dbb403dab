/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Times property reads on imapid while something else keeps it busy.
 *
 *   prop-latency --address=unix:path=/run/bus [--interval=0.01] [--count=0] [--out=FILE]
 *
 * Reads org.imapid.Imapi1.Recorder.State of the first recorder through
 * org.freedesktop.DBus.Properties.Get, one call at a time, every INTERVAL seconds, until COUNT
 * calls are done (0: until SIGTERM or SIGINT). Writes one JSON object, {"samples": [[t, ms],
 * ...]}, with t on CLOCK_MONOTONIC in seconds (Python's time.monotonic() in another process)
 * and the round trip of each call in milliseconds, to FILE or stdout. "ready" on stderr says
 * that the first call can be made. bench/run uses it during burns.
 *
 * A compiled client, so that what is timed is the bus and imapid: an interpreter's own pauses
 * (a Python client showed 35 ms of bytecode inside one call) are not imapid's.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define BUS_NAME "org.imapid.Imapi1"
#define MANAGER_PATH "/org/imapid/Imapi1/Manager"

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        stop = 1;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
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
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *address = NULL, *out_path = NULL;
        double interval = 0.01, *samples = NULL;
        size_t n = 0, allocated = 0;
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
                case 'h':
                        printf("%s --address=ADDRESS [--interval=SECONDS] [--count=N] [--out=FILE]\n"
                               "Times Get(org.imapid.Imapi1.Recorder, State) round trips on imapid.\n", argv[0]);
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

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "prop-latency: cannot connect to %s: %s\n", address, strerror(-r));
                return EXIT_FAILURE;
        }
        if (first_recorder(bus, &recorder) < 0)
                return EXIT_FAILURE;

        fprintf(stderr, "ready\n");
        fflush(stderr);
        while (!stop && (count == 0 || (long) n < count)) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                uint32_t state = 0;
                double t0, t1;

                t0 = now();
                r = sd_bus_get_property_trivial(bus, BUS_NAME, recorder, "org.imapid.Imapi1.Recorder", "State",
                                                &error, 'u', &state);
                t1 = now();
                if (r < 0) {
                        fprintf(stderr, "prop-latency: Get(State) failed: %s\n", error.message ?: strerror(-r));
                        sd_bus_error_free(&error);
                        return EXIT_FAILURE;
                }
                if (n == allocated) {
                        allocated = allocated ? allocated * 2 : 4096;
                        samples = realloc(samples, allocated * 2 * sizeof(double));
                        if (!samples)
                                return EXIT_FAILURE;
                }
                samples[2 * n] = t0;
                samples[2 * n + 1] = (t1 - t0) * 1000.0;
                n++;
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
        fputs("{\"samples\": [", out);
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s[%.6f, %.4f]", i ? ", " : "", samples[2 * i], samples[2 * i + 1]);
        fputs("]}\n", out);
        r = fflush(out) == 0 && !ferror(out) ? EXIT_SUCCESS : EXIT_FAILURE;
        if (out != stdout)
                fclose(out);
        free(samples);
        free(recorder);
        sd_bus_flush_close_unref(bus);
        return r;
}
