/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapid: command line, bus connection and the event loop. */

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <imapi/imapi.h>

#include "bus/bus-daemon.h"
#include "bus/idle.h"
#include "bus/p2p.h"
#include "core/config.h"
#include "core/hotplug.h"
#include "core/limits.h"
#include "core/manager.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"
#include "media/drive.h"
#include "media/iso.h"
#include "media/stash.h"

static const char *arg_config_path = CONFIG_DEFAULT_PATH;
static bool arg_config_explicit = false;

static void help(void) {
        printf("Usage: imapid [OPTIONS...]\n"
               "\n"
               "The optical disc burning service: owns CD/DVD/BD recorders and offers them,\n"
               "with IMAPI's disc masters and jobs, on D-Bus as %s.\n"
               "\n"
               "Options:\n"
               "  -h --help                Show this help and exit\n"
               "     --version             Show the version and exit\n"
               "     --bus-address=ADDRESS Serve on this D-Bus address instead of the system bus\n"
               "     --no-bus              Serve only the peer-to-peer sockets of socket activation\n"
               "     --idle-timeout=TIME   Exit after TIME (30s, 5min) with nothing to do; 0 never\n"
               "                           (default 0, or IdleTimeoutSec= in the configuration)\n"
               "     --config=PATH         Read this configuration file (default %s)\n"
               "     --drive=ADDRESS       Offer this drive: /dev/srN, or stdio:/path/to/image.iso\n"
               "                           for an image file (may be repeated)\n"
               "     --no-scan             Do not look for optical drives in the system\n"
               "     --no-default-drive    Do not offer %s\n"
               "                           when no drive is found\n"
               "     --stash-dir=DIR       Keep stash files in DIR (default %s)\n"
               "     --log-level=LEVEL     debug, info, notice, warning or err (default info)\n"
               "\n"
               "See imapid(8) for the configuration file and the D-Bus interfaces.\n",
               IMAPI_BUS_NAME, CONFIG_DEFAULT_PATH, CONFIG_DEFAULT_DRIVE, DEFAULT_STASH_DIR);
}

static int parse_log_level(const char *s) {
        static const struct {
                const char *name;
                int level;
        } levels[] = {
                { "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
                { "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
        };
        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                if (streq(s, levels[i].name))
                        return levels[i].level;
        return -EINVAL;
}

enum {
        ARG_VERSION = 0x100,
        ARG_BUS_ADDRESS,
        ARG_NO_BUS,
        ARG_IDLE_TIMEOUT,
        ARG_CONFIG,
        ARG_DRIVE,
        ARG_NO_SCAN,
        ARG_NO_DEFAULT_DRIVE,
        ARG_STASH_DIR,
        ARG_LOG_LEVEL,
};

static const struct option options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, ARG_VERSION },
        { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
        { "no-bus", no_argument, NULL, ARG_NO_BUS },
        { "idle-timeout", required_argument, NULL, ARG_IDLE_TIMEOUT },
        { "config", required_argument, NULL, ARG_CONFIG },
        { "drive", required_argument, NULL, ARG_DRIVE },
        { "no-scan", no_argument, NULL, ARG_NO_SCAN },
        { "no-default-drive", no_argument, NULL, ARG_NO_DEFAULT_DRIVE },
        { "stash-dir", required_argument, NULL, ARG_STASH_DIR },
        { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
        {}
};

/* The config file is read before the other options apply, so the command line wins. */
static int parse_config_option(int argc, char *argv[]) {
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                if (c == ARG_CONFIG) {
                        arg_config_path = optarg;
                        arg_config_explicit = true;
                } else if (c == 'h' || c == ARG_VERSION)
                        /* --help and --version work whatever the config file says. */
                        arg_config_path = "/dev/null";
        optind = 0;
        opterr = 1;
        return 0;
}

static int parse_argv(int argc, char *argv[], Config *config) {
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("imapid %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS_ADDRESS:
                        free(config->bus_address);
                        config->bus_address = strdup(optarg);
                        if (!config->bus_address)
                                return log_oom();
                        break;
                case ARG_NO_BUS:
                        config->bus = false;
                        break;
                case ARG_IDLE_TIMEOUT:
                        r = config_parse_timespan(optarg, &config->idle_timeout_usec);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --idle-timeout=%s: %m", optarg);
                        break;
                case ARG_CONFIG:
                        break;
                case ARG_DRIVE:
                        r = config_add_drive(config, optarg);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --drive=%s: %m", optarg);
                        break;
                case ARG_NO_SCAN:
                        config->scan = false;
                        break;
                case ARG_NO_DEFAULT_DRIVE:
                        free(config->default_drive);
                        config->default_drive = NULL;
                        break;
                case ARG_STASH_DIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--stash-dir= needs an absolute path: %s",
                                                       optarg);
                        free(config->stash_dir);
                        config->stash_dir = strdup(optarg);
                        if (!config->stash_dir)
                                return log_oom();
                        break;
                case ARG_LOG_LEVEL:
                        r = parse_log_level(optarg);
                        if (r < 0)
                                return log_error_errno(r, "Unknown log level: %s", optarg);
                        log_set_max_level(r);
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }

        if (optind < argc)
                return log_error_errno(EINVAL, "imapid takes no positional arguments (see --help).");
        return 1;
}

/* optional: socket-activated with no system bus around, imapid still serves its socket. */
static int connect_bus(const Config *config, bool optional, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (config->bus_address) {
                r = sd_bus_new(&bus);
                if (r < 0)
                        return log_error_errno(r, "Failed to allocate bus: %m");
                r = sd_bus_set_address(bus, config->bus_address);
                if (r < 0)
                        return log_error_errno(r, "Invalid bus address %s: %m", config->bus_address);
                (void) sd_bus_set_bus_client(bus, 1);
                (void) sd_bus_negotiate_creds(bus, 1, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID);
                r = sd_bus_start(bus);
                if (r < 0)
                        return log_error_errno(r, "Failed to connect to %s: %m", config->bus_address);
        } else {
                r = sd_bus_open_system(&bus);
                if (r < 0 && optional) {
                        log_full_errno(LOG_NOTICE, r,
                                       "No system bus (%m); serving the peer-to-peer socket only.");
                        *ret = NULL;
                        return 0;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to connect to the system bus: %m");
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *manager = userdata;

        log_info("Received %s.", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1");
        manager_request_exit(manager);
        return 0;
}

/* Every disc master holds a directory open, and every peer a socket: imapid takes all the
 * descriptors it may have (the unit's LimitNOFILE=, or the hard limit when run by hand) and
 * derives its limits from that (core/limits.h). select() is nowhere in imapid or its libraries,
 * so fds past 1024 are fine. Under the unit's system call filter setrlimit() is refused, but
 * LimitNOFILE= sets both limits already. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_debug_errno(errno, "Failed to raise the file descriptor limit to %llu, ignoring: %m",
                                (unsigned long long) rl.rlim_max);
}

/* Before any thread exists (libburn, libisofs and our workers start their own). */
static void process_setup(void) {
        sigset_t mask;

        /* glibc serves an allocation of 128 KiB or more with its own mmap(), but raises that
         * threshold to the size of the largest such block freed. After the first burn, the
         * staging's arrays (megabytes for 100,000 names) would then come from the heap, and
         * freeing them would leave holes the heap keeps: 8 MiB more at the peak of every burn
         * after the first. A fixed threshold keeps them mapped and returned whole. */
        (void) mallopt(M_MMAP_THRESHOLD, 128 * 1024);
        /* glibc gives threads arenas of their own, up to eight per CPU, and each keeps what was
         * freed in it. imapid's threads (workers, one image generator, write buffer and libburn
         * writer per recorder) allocate little once started, so they share one arena besides
         * the event loop's: with eight recorders that was 3 MiB of arenas less, at no cost in
         * time (bench/recorders, bench/run). */
        (void) mallopt(M_ARENA_MAX, 2);

        /* The time zone is read here, once: localtime_r() never reads /etc/localtime again once
         * it has been. The first disc master's default volume name read it on the event loop,
         * from the disk after a cold start (six waits for the disk under __tzfile_read(), seen
         * with perf sched_switch stacks of the loop's thread). */
        tzset();

        /* So that SIGTERM and SIGINT stay blocked in every thread and reach the event loop. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        raise_fd_limit();
}

/* The bus connection ended under imapid (the broker went away, or it closed the connection): a
 * failure, which systemd should see as one. With a peer-to-peer socket to serve, imapid goes
 * on serving it. */
static int on_bus_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusDaemon *daemon = userdata;

        if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
                return 0;
        if (daemon->p2p) {
                log_warning("Lost the connection to the bus; serving the peer-to-peer socket only.");
                return 0;
        }
        log_error("Lost the connection to the bus, exiting.");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Lost the connection to the bus.");
        return sd_event_exit(daemon->event, -ECONNRESET);
}

/* The sockets of socket activation, and the bus with imapid's name unless told otherwise. */
static int serve(BusDaemon *daemon, const Config *config, sd_bus **ret_bus, int *ret_sockets) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int n_sockets, r;

        r = p2p_listen(daemon);
        if (r < 0)
                return r;
        n_sockets = r;
        if (!config->bus && n_sockets == 0)
                return log_error_errno(EINVAL,
                                       "--no-bus needs the sockets of socket activation (imapid.socket).");
        if (config->bus) {
                r = connect_bus(config, n_sockets > 0, &bus);
                if (r < 0)
                        return r;
        }
        if (bus) {
                r = bus_daemon_attach(daemon, bus);
                if (r < 0)
                        return r;
                r = sd_bus_request_name(bus, IMAPI_BUS_NAME, 0);
                if (r < 0)
                        return log_error_errno(r, "Failed to acquire the bus name %s: %m", IMAPI_BUS_NAME);
                r = sd_bus_attach_event(bus, daemon->event, SD_EVENT_PRIORITY_NORMAL);
                if (r < 0)
                        return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
                /* Without a socket to serve, a daemon whose bus went away has nobody to serve. */
                r = sd_bus_add_filter(bus, NULL, on_bus_disconnected, daemon);
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the bus connection: %m");
        }
        *ret_bus = TAKE_PTR(bus);
        *ret_sockets = n_sockets;
        return 0;
}

/* The core and the bus layer that observes and serves it, until imapid exits. */
static int run_daemon(const Config *config, sd_event *event) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        Manager *manager = NULL;
        BusDaemon *daemon = NULL;
        int n_sockets = 0, r;

        r = manager_new(event, config, &manager);
        if (r == -EMFILE) {
                struct rlimit rl = {};

                (void) getrlimit(RLIMIT_NOFILE, &rl);
                log_error("imapid needs at least %llu file descriptors to serve anyone, but may open only "
                          "%llu (LimitNOFILE=, ulimit -n).",
                          (unsigned long long) limits_min_fds(config),
                          (unsigned long long) rl.rlim_cur);
                goto finish;
        }
        if (r >= 0)
                r = bus_daemon_new(manager, &daemon);
        if (r < 0) {
                log_error_errno(r, "Failed to set up imapid: %m");
                goto finish;
        }
        limits_log(&manager->limits, config);
        r = manager_add_recorders(manager);
        if (r < 0)
                goto finish;
        r = sd_event_add_signal(event, NULL, SIGTERM, on_exit_signal, manager);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, on_exit_signal, manager);
        if (r < 0) {
                log_error_errno(r, "Failed to set up signal handling: %m");
                goto finish;
        }
        r = serve(daemon, config, &bus, &n_sockets);
        if (r < 0)
                goto finish;
        r = hotplug_start(manager, config->hotplug_interval_usec);
        if (r < 0) {
                log_error_errno(r, "Failed to set up looking for drives: %m");
                goto finish;
        }

        log_info("imapid %s ready on %s%s with %zu recorder(s).", PACKAGE_VERSION,
                 !bus ? "its peer-to-peer socket" : config->bus_address ?: "the system bus",
                 bus && n_sockets > 0 ? " and its peer-to-peer socket" : "", manager->n_recorders);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %zu recorder(s).", manager->n_recorders);

        r = idle_run(daemon, bus, config->idle_timeout_usec);
        (void) sd_notify(false, "STOPPING=1");
        /* SIGTERM and idle end the loop with 0; anything else logged its cause and is a failure. */
        if (r == 0)
                log_info("imapid exiting.");
        else if (r > 0)
                r = log_error_errno(EIO, "imapid's event loop ended with status %d, exiting.", r);

finish:
        /* The bus layer first: its clients go, and with them what they held in the core. */
        daemon = bus_daemon_free(daemon);
        manager = manager_free(manager);
        return r;
}

static int run(int argc, char *argv[]) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Config config;
        int r;

        process_setup();
        log_setup("imapid");
        config_init(&config);
        if (!config.stash_dir || !config.default_drive)
                return log_oom();

        parse_config_option(argc, argv);
        r = config_parse_file(&config, arg_config_path, arg_config_explicit);
        if (r < 0)
                goto finish;
        r = parse_argv(argc, argv, &config);
        if (r <= 0)
                goto finish;

        r = hresult_register_error_map();
        if (r < 0) {
                log_error_errno(r, "Failed to register the error map: %m");
                goto finish;
        }
        r = sd_event_default(&event);
        if (r < 0) {
                log_error_errno(r, "Failed to allocate the event loop: %m");
                goto finish;
        }
        (void) sd_event_set_watchdog(event, true);

        r = drive_library_init();
        if (r < 0)
                goto finish;
        r = iso_library_init();
        if (r >= 0) {
                /* Stashes left by a daemon that crashed: nobody holds their locks any more. */
                r = stash_remove_stale(config.stash_dir);
                if (r > 0)
                        log_info("Removed %d stale stash(es) from %s.", r, config.stash_dir);
                r = run_daemon(&config, event);
                iso_library_finish();
        }
        drive_library_finish();
finish:
        config_done(&config);
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
