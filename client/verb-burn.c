/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imapictl burn: IMAPI's sequence (CreateDiscMaster, Open, SetActiveDiscMasterFormat,
 * SetActiveDiscRecorder, AddData..., RecordDisc, Close) driven from one sd-event loop, so that
 * staging progress, job progress and Ctrl-C are all handled as they come. With --image the
 * format is Image and one SetImage, with the image's fd, takes the place of the AddData calls.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <imapi/imapi.h>
#include <systemd/sd-event.h>

#include "burn-record.h"
#include "ctl.h"
#include "follow.h"
#include "macro.h"
#include "names.h"
#include "progress.h"
#include "verbs.h"
#include "walk.h"

/* The system bus passes at most 16 fds in one message by default (max_message_unix_fds). */
#define BATCH_MAX 16

BurnArgs arg_burn = {};

typedef enum BurnStage {
        BURN_STAGING,
        BURN_RECORDING,
} BurnStage;

typedef struct Burn {
        sd_bus *bus;
        sd_event *event;
        const char *master;
        Progress *progress;
        JobFollow *follow;
        BurnRecord *record;
        Walker *walker;
        BurnStage stage;
        sd_bus_slot *add_call;
        int image_fd;                           /* --image: the image (-1: a data disc) */

        uint64_t files_total, bytes_total;
        uint64_t files_done, bytes_done;        /* of the batches imapid has confirmed */
        uint64_t batch_files, batch_bytes;      /* of the batch being copied */
        uint64_t batch_copied;                  /* from AddProgress */
} Burn;

static void burn_fail(Burn *b, int code) {
        ctl_event_exit(b->bus, code);
}

static int start_record(Burn *b);
static int send_batch(Burn *b);

static int on_add_progress(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Burn *b = userdata;
        int32_t done, total;

        if (b->stage != BURN_STAGING || sd_bus_message_read(m, "ii", &done, &total) < 0 || done < 0)
                return 0;
        b->batch_copied = MIN((uint64_t) done * IMAPI_DATA_BLOCK_SIZE, b->batch_bytes);
        progress_staging(b->progress, b->files_done, b->files_total, b->bytes_done + b->batch_copied,
                         b->bytes_total, false);
        return 0;
}

static int on_add_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Burn *b = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        int r;

        b->add_call = sd_bus_slot_unref(b->add_call);
        if (e) {
                burn_fail(b, ctl_report_error(b->image_fd >= 0 ? "SetImage" : "AddData", e, -EIO));
                return 0;
        }
        b->files_done += b->batch_files;
        b->bytes_done += b->batch_bytes;
        b->batch_files = b->batch_bytes = b->batch_copied = 0;
        progress_staging(b->progress, b->files_done, b->files_total, b->bytes_done, b->bytes_total, false);
        r = send_batch(b);
        if (r != 0)
                burn_fail(b, r);
        return 0;
}

/* --image: one SetImage, answered when imapid has copied the image into its stash. */
static int send_image(Burn *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        if (b->files_done > 0)
                return start_record(b);
        r = sd_bus_message_new_method_call(b->bus, &m, IMAPI_BUS_NAME, b->master, IMAPI_IMAGE_INTERFACE,
                                           "SetImage");
        if (r >= 0)
                r = sd_bus_message_append(m, "ha{sv}", b->image_fd, 0);
        if (r >= 0)
                r = sd_bus_call_async(b->bus, &b->add_call, m, on_add_reply, b, UINT64_MAX);
        if (r < 0) {
                fprintf(stderr, "imapictl: SetImage: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        b->batch_files = 1;
        b->batch_bytes = b->bytes_total;
        return 0;
}

/* The next AddData: up to BATCH_MAX entries. The message holds its own copies of the fds; ours
 * are closed at once, and the next batch is opened only after imapid has copied this one. */
static int send_batch(Burn *b) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        size_t n = 0;
        int r;

        if (b->image_fd >= 0)
                return send_image(b);
        r = sd_bus_message_new_method_call(b->bus, &m, IMAPI_BUS_NAME, b->master, IMAPI_JOLIET_INTERFACE,
                                           "AddData");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sh)");
        while (r >= 0 && n < BATCH_MAX) {
                WalkEntry e = { .fd = -1 };
                int k = walker_next(b->walker, &e);

                if (k < 0)
                        return CTL_EXIT_FAILED;      /* walker_next said what and where */
                if (k == 0)
                        break;
                r = sd_bus_message_append(m, "(sh)", e.name, e.fd);
                b->batch_files += !e.is_dir;
                b->batch_bytes += e.size;
                walk_entry_done(&e);
                n++;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "ba{sv}", 0, 0);
        if (r < 0) {
                fprintf(stderr, "imapictl: AddData: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        if (n == 0)
                return start_record(b);
        /* The reply comes when the copy into the stash is done, which takes as long as the files
         * are large; should imapid go away, the bus answers for it. */
        r = sd_bus_call_async(b->bus, &b->add_call, m, on_add_reply, b, UINT64_MAX);
        if (r < 0) {
                fprintf(stderr, "imapictl: AddData: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        return 0;
}

/* The options of a data or image burn, into RecordDisc's a{sv}. */
static int append_record_options(sd_bus_message *m) {
        int r = 0;

        if (arg_burn.no_verify)
                r = sd_bus_message_append(m, "{sv}", "verify", "b", 0);
        if (r >= 0 && arg_burn.close_disc)
                r = sd_bus_message_append(m, "{sv}", "close", "b", 1);
        if (r >= 0 && arg_burn.replace)
                r = sd_bus_message_append(m, "{sv}", "replace", "b", 1);
        if (r >= 0 && arg_burn.iso_level > 0)
                r = sd_bus_message_append(m, "{sv}", "iso_level", "i", (int32_t) arg_burn.iso_level);
        if (r >= 0 && arg_burn.speed > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed", "i", (int32_t) arg_burn.speed);
        if (r >= 0 && arg_burn.speed_kbps > 0)
                r = sd_bus_message_append(m, "{sv}", "write_speed_kbps", "u",
                                          (uint32_t) arg_burn.speed_kbps);
        return r;
}

static int start_record(Burn *b) {
        progress_staging(b->progress, b->files_done, b->files_total, b->bytes_done, b->bytes_total, true);
        b->stage = BURN_RECORDING;
        return burn_record_start(b->record);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Burn *b = userdata;

        if (b->stage == BURN_STAGING) {
                /* Closing the master stops the copy in progress; imapid removes the stash. */
                progress_note(b->progress, "interrupted", "Interrupted; nothing was burned.");
                burn_fail(b, CTL_EXIT_CANCELLED);
                return 0;
        }
        burn_record_interrupt(b->record);
        return 0;
}

/* What the command line names, counted before anything is sent: a path that does not exist, a
 * name that cannot travel over D-Bus or a loop is reported with nothing staged (exit 2). */
static int preflight(char **paths, uint64_t *ret_files, uint64_t *ret_bytes) {
        _cleanup_(walker_freep) Walker *w = NULL;
        _cleanup_(name_list_freep) NameList *names = name_list_new(arg_burn.strict_names);
        uint64_t files = 0, bytes = 0, entries = 0;
        int r;

        r = names ? walker_new(paths, false, true, &w) : -ENOMEM;
        if (r < 0)
                return CTL_EXIT_FAILED;
        for (;;) {
                WalkEntry e = { .fd = -1 };

                r = walker_next(w, &e);
                if (r < 0)
                        return CTL_EXIT_USAGE;
                if (r == 0)
                        break;
                entries++;
                files += !e.is_dir;
                bytes += e.size;
                r = name_list_add(names, e.name);
                walk_entry_done(&e);
                if (r != 0)
                        return r;
        }
        if (entries == 0) {
                fprintf(stderr, "imapictl: nothing to burn: the folders named are empty.\n");
                return CTL_EXIT_USAGE;
        }
        r = name_list_report(names, arg_burn.verbose, arg.json);
        if (r != 0)
                return r;
        *ret_files = files;
        *ret_bytes = bytes;
        return 0;
}

/* --image FILE: a regular file, opened here (imapid reads it through the fd); exit 2 if not. */
static int preflight_image(const char *path, int *ret_fd, uint64_t *ret_bytes) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "imapictl: %s: %s\n", path, strerror(errno));
                return CTL_EXIT_USAGE;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(stderr, "imapictl: %s: --image takes a disc image file, not a %s.\n", path,
                        S_ISDIR(st.st_mode) ? "folder" : "device or special file");
                return CTL_EXIT_USAGE;
        }
        *ret_bytes = (uint64_t) st.st_size;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A single file named like a disc image, or holding an ISO 9660 volume descriptor: the user may
 * well want the image itself as the disc. */
static bool looks_like_image(const char *path) {
        _cleanup_close_ int fd = -1;
        const char *dot = strrchr(path, '.');
        struct stat st;
        char id[5];

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        if (dot && (strcasecmp(dot, ".iso") == 0 || strcasecmp(dot, ".img") == 0))
                return true;
        return pread(fd, id, sizeof id, 16 * 2048 + 1) == (ssize_t) sizeof id && memcmp(id, "CD001", 5) == 0;
}

static int check_image_args(int argc) {
        if (argc > 1) {
                fprintf(stderr, "imapictl: burn --image=FILE burns that one image; it takes no other PATH.\n");
                return CTL_EXIT_USAGE;
        }
        if (arg_burn.audio || arg_burn.volume_name || arg_burn.iso_level > 0) {
                /* The image brings its own file system, or is not a data disc at all. */
                fprintf(stderr, "imapictl: --audio, --volume-name and --iso-level do not go with --image: "
                        "an image is burned as it is.\n");
                return CTL_EXIT_USAGE;
        }
        return 0;
}

/* --boot-image FILE: a regular file, opened here; a floppy emulation's type follows from its
 * size (El Torito's three floppies). imapid checks the rest (size limits, a hard disk's MBR). */
static int preflight_boot(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "imapictl: %s: %s\n", path, strerror(errno));
                return CTL_EXIT_USAGE;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(stderr, "imapictl: %s: --boot-image takes a boot image file, not a %s.\n", path,
                        S_ISDIR(st.st_mode) ? "folder" : "device or special file");
                return CTL_EXIT_USAGE;
        }
        if (arg_burn.boot_emulation == 1) {
                static const int64_t kib[] = { 1200, 1440, 2880 };
                size_t i;

                for (i = 0; i < ELEMENTSOF(kib) && st.st_size != kib[i] * 1024; i++)
                        ;
                if (i == ELEMENTSOF(kib)) {
                        fprintf(stderr, "imapictl: %s: floppy emulation needs an image of exactly 1200, 1440 or "
                                "2880 KiB; it has %lld bytes.\n", path, (long long) st.st_size);
                        return CTL_EXIT_USAGE;
                }
                arg_burn.boot_emulation = 1 + (int) i;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* PlaceBootImageOnDisc and the boot properties, then the image: refused at once on a disc that
 * is not blank (IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC), before any file is staged. */
static int prepare_boot(sd_bus *bus, const char *master, int boot_fd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(bus, master, IMAPI_JOLIET_INTERFACE, "SetJolietProperties", &reply, "a{sv}", 3,
                     "PlaceBootImageOnDisc", "b", 1, "BootImagePlatform", "y", (uint8_t) arg_burn.boot_platform,
                     "BootImageEmulationType", "y", (uint8_t) arg_burn.boot_emulation);
        if (r == 0)
                r = ctl_call(bus, master, IMAPI_JOLIET_INTERFACE, "SetBootImage", NULL, "ha{sv}", boot_fd, 0);
        return r;
}

static int prepare_master(sd_bus *bus, const char *master, BurnRecord *record) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Open", NULL, "a{sv}", 0);
        if (r == 0)
                r = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "SetActiveDiscMasterFormat", NULL,
                             "sa{sv}", arg_burn.image ? "image" : "joliet", 0);
        if (r == 0)
                r = burn_record_prepare(record, master, arg_burn.replace, !arg_burn.image);
        /* imapid refuses IMAPI's way unless told otherwise; a home folder should burn as it is. */
        if (r == 0 && !arg_burn.image)
                r = ctl_call(bus, master, IMAPI_JOLIET_INTERFACE, "SetJolietProperties", NULL, "a{sv}", 1,
                             "StrictJolietNames", "b", arg_burn.strict_names);
        if (r == 0 && arg_burn.volume_name)
                r = ctl_call(bus, master, IMAPI_JOLIET_INTERFACE, "SetJolietProperties", &reply, "a{sv}", 1,
                             "VolumeName", "s", arg_burn.volume_name);
        return r;
}

int verb_burn(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *add_progress = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *sigint = NULL, *sigterm = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(progress_freep) Progress *progress = NULL;
        _cleanup_(job_follow_freep) JobFollow *follow = NULL;
        _cleanup_(walker_freep) Walker *walker = NULL;
        _cleanup_(burn_record_done) BurnRecord record = {};
        _cleanup_free_ char *master = NULL;
        _cleanup_close_ int image_fd = -1, boot_fd = -1;
        const char *path;
        Burn b = {};
        int r, k;

        if (arg_burn.boot_image && (arg_burn.image || arg_burn.audio)) {
                fprintf(stderr, "imapictl: --boot-image makes a data disc bootable; it does not go with --image "
                        "or --audio.\n");
                return CTL_EXIT_USAGE;
        }
        if (arg_burn.audio_only && !arg_burn.audio) {
                fprintf(stderr, "imapictl: --tao, --no-cdtext, --album-title, --album-performer, --title and "
                        "--performer are for audio CDs (--audio).\n");
                return CTL_EXIT_USAGE;
        }
        if (arg_burn.image) {
                r = check_image_args(argc);
                if (r == 0)
                        r = preflight_image(arg_burn.image, &image_fd, &b.bytes_total);
                if (r != 0)
                        return r;
                b.files_total = 1;
        } else if (arg_burn.audio)
                return verb_burn_audio(argc, argv, bus);
        else if (argc < 2) {
                fprintf(stderr,
                        "imapictl: burn needs the files and folders to burn (see 'imapictl --help').\n");
                return CTL_EXIT_USAGE;
        } else {
                if (argc == 2 && looks_like_image(argv[1]))
                        fprintf(stderr, "imapictl: %s looks like a disc image; it is burned as one file on a data "
                                "disc. To write the image itself as the disc, run: imapictl burn --image=%s\n",
                                argv[1], argv[1]);
                r = preflight(argv + 1, &b.files_total, &b.bytes_total);
                if (r != 0)
                        return r;
        }
        if (arg_burn.boot_image) {
                r = preflight_boot(arg_burn.boot_image, &boot_fd);
                if (r != 0)
                        return r;
        } else if (arg_burn.boot_emulation != 0 || arg_burn.boot_platform != 0) {
                fprintf(stderr, "imapictl: --boot-emulation and --boot-platform need --boot-image.\n");
                return CTL_EXIT_USAGE;
        }
        progress = progress_new(arg.json);
        r = progress ? sd_event_default(&event) : -ENOMEM;
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0 && !arg_burn.image)
                r = walker_new(argv + 1, true, false, &walker);
        if (r >= 0)
                r = job_follow_new(bus, progress, &follow);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        r = burn_record_init(&record, bus, progress, follow, append_record_options);
        if (r != 0)
                return r;

        r = ctl_call(bus, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "CreateDiscMaster", &reply, "a{sv}",
                     0);
        if (r != 0)
                return r;
        if (sd_bus_message_read(reply, "o", &path) < 0 || !(master = strdup(path))) {
                fprintf(stderr, "imapictl: bad reply from imapid to CreateDiscMaster.\n");
                return CTL_EXIT_FAILED;
        }

        b = (Burn) { .bus = bus, .event = event, .master = master, .progress = progress, .follow = follow,
                     .walker = walker, .files_total = b.files_total, .bytes_total = b.bytes_total,
                     .image_fd = image_fd, .record = &record };
        r = prepare_master(bus, master, &record);
        if (r == 0 && boot_fd >= 0)
                r = prepare_boot(bus, master, boot_fd);
        if (r != 0)
                goto close;

        /* From here Ctrl-C and SIGTERM stop the work cleanly instead of killing imapictl. */
        r = ctl_catch_signals(event, on_signal, &b, &sigint, &sigterm);
        if (r >= 0)
                r = sd_bus_match_signal_async(bus, &add_progress,
                                              sd_bus_is_bus_client(bus) > 0 ? IMAPI_BUS_NAME : NULL, master,
                                              IMAPI_DISC_MASTER_INTERFACE, "AddProgress", on_add_progress,
                                              NULL, &b);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                r = CTL_EXIT_FAILED;
                goto close;
        }

        progress_staging(progress, 0, b.files_total, 0, b.bytes_total, false);
        r = send_batch(&b);
        if (r == 0) {
                r = sd_event_loop(event);
                if (r < 0) {
                        fprintf(stderr, "imapictl: event loop: %s\n", strerror(-r));
                        r = CTL_EXIT_FAILED;
                }
        }
        if (r == 0 && arg_burn.keep)
                r = burn_record_again(&record);

close:
        /* Always close: imapid removes the stash, or, while a job still runs, after it ends. */
        b.add_call = sd_bus_slot_unref(b.add_call);
        /* imapid is gone, and with it what it held for us. */
        if (r == CTL_EXIT_UNAVAILABLE)
                return r;
        k = ctl_call(bus, master, IMAPI_DISC_MASTER_INTERFACE, "Close", NULL, "a{sv}", 0);
        return r != 0 ? r : k;
}
