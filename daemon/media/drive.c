/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drives through libburn: discovery, exclusive access, profiles, speeds. The disc in a drive is
 * drive-media.c's. */

#include <errno.h>
#include <libburn/libburn.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/drive-internal.h"
#include "hresult.h"
#include "log.h"
#include "macro.h"

/* Arrays returned by burn_drive_scan(): their elements are shared by the Drives made from
 * them, so they are kept until the library is shut down. */
static struct burn_drive_info **scan_arrays = NULL;
static size_t n_scan_arrays = 0;

static const char *severity_names[] = {
        "NEVER", "ABORT", "FATAL", "FAILURE", "SORRY", "WARNING", "HINT", "NOTE", "UPDATE", "DEBUG", "ALL",
};

static int severity_rank(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(severity_names); i++)
                if (streq(s, severity_names[i]))
                        return (int) i;
        return (int) ELEMENTSOF(severity_names);
}

/* libburn's message queue is global. What explains a failure (SORRY or worse) is kept in a
 * ring with sequence numbers, so that a burn can look at what came since it started even when
 * another call drained the queue in between. Worker threads drain too (a drive released and
 * read again at the end of a job), hence the lock. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static DriveMessage ring[DRIVE_MESSAGE_RING];
static uint64_t ring_seq = 0;

uint64_t drive_message_seq(void) {
        uint64_t n;

        pthread_mutex_lock(&ring_lock);
        n = ring_seq;
        pthread_mutex_unlock(&ring_lock);
        return n;
}

bool drive_message_get(uint64_t seq, DriveMessage *ret) {
        const DriveMessage *m = &ring[seq % DRIVE_MESSAGE_RING];
        bool found;

        pthread_mutex_lock(&ring_lock);
        found = seq > 0 && m->seq == seq;
        if (found)
                *ret = *m;
        pthread_mutex_unlock(&ring_lock);
        return found;
}

/* libburn keeps its drive objects in one global array, with no lock of its own (drive.c's
 * drive_array and drivetop): adding a drive (burn_drive_scan_and_grab(), which also reads every
 * other slot's address), forgetting one and freeing the array a drive came in (which frees each
 * of its drives' slots again) are serialized here, as hotplug's first look at a new drive, a
 * failed write's renewal of another and the removal of a third run in workers and on the loop
 * at the same time. */
static pthread_mutex_t array_lock = PTHREAD_MUTEX_INITIALIZER;

static int scan_and_grab(struct burn_drive_info **ret, const char *address) {
        int r;

        pthread_mutex_lock(&array_lock);
        /* libburn takes a non-const string it does not modify. */
        r = burn_drive_scan_and_grab(ret, (char *) address, 0);
        pthread_mutex_unlock(&array_lock);
        return r;
}

void drive_forget_info(struct burn_drive_info *info, struct burn_drive_info *array, int force) {
        pthread_mutex_lock(&array_lock);
        if (info)
                (void) burn_drive_info_forget(info, force);
        /* In one step with the forget: once forgotten, the slot may be given to a drive another
         * thread adds, and freeing the array would free that one. */
        if (array)
                burn_drive_info_free(array);
        pthread_mutex_unlock(&array_lock);
}

/* Operations whose cancel was asked for and that have not finished yet. */
static int cancels_pending;

void drive_note_cancel(bool begins) {
        (void) __atomic_add_fetch(&cancels_pending, begins ? 1 : -1, __ATOMIC_RELAXED);
}

/* libburn's "Burn run failed" (FATAL), with which it ends any write it did not finish. */
#define BURN_RUN_FAILED 0x0002010b

int drive_drain_messages(int *ret_worst_severity, int *ret_last_code) {
        char text[BURN_MSGS_MESSAGE_LEN], severity[80];
        int code, os_errno, worst = (int) ELEMENTSOF(severity_names), last = 0, n = 0;

        pthread_mutex_lock(&ring_lock);
        while (burn_msgs_obtain("ALL", &code, text, &os_errno, severity) > 0) {
                int rank = severity_rank(severity);
                int level = rank <= 3 ? LOG_WARNING : rank <= 5 ? LOG_NOTICE : LOG_DEBUG;

                /* The end of a write that was asked to stop is what was asked for. */
                if (code == BURN_RUN_FAILED && __atomic_load_n(&cancels_pending, __ATOMIC_RELAXED) > 0)
                        level = LOG_DEBUG;

                log_full(level, "libburn: %s 0x%08X: %s", severity, (unsigned) code, text);
                if (rank <= 4) {        /* SORRY or worse tells why an operation failed */
                        DriveMessage *m = &ring[++ring_seq % DRIVE_MESSAGE_RING];

                        *m = (DriveMessage) { .seq = ring_seq, .code = code, .os_errno = os_errno, .rank = rank };
                        snprintf(m->text, sizeof m->text, "%.*s", (int) sizeof m->text - 1, text);
                        last = code;
                        worst = MIN(worst, rank);
                }
                n++;
        }
        pthread_mutex_unlock(&ring_lock);
        if (ret_worst_severity)
                *ret_worst_severity = worst;
        if (ret_last_code)
                *ret_last_code = last;
        return n;
}

int drive_library_init(void) {
        char name[80];

        if (burn_initialize() <= 0)
                return log_error_errno(EIO, "Failed to initialize libburn.");
        /* libburn fills its table of profile names (mmc.c, mmc_obtain_profile_name()) at the
         * first request, unlocked, and marks it filled first: a second thread asking meanwhile
         * gets an empty name or NULL, which libburn copies with strcpy(). That first request would
         * be a grab of an MMC drive or our drive_get_profiles(), both in workers; make it here. */
        (void) burn_obtain_profile_name(0x08, name);
        /* Everything is queued and logged by us; libburn prints nothing itself. */
        burn_msgs_set_severities("ALL", "NEVER", "libburn: ");
        /* libburn's own signal handler would exit() from inside a daemon; sd-event owns the
         * signals, so leave them alone (mode 1: no handler, signals keep their defaults). */
        burn_set_signal_handling(NULL, NULL, 1);
        /* Open drives with O_EXCL, and fail at once instead of waiting when one is busy. */
        burn_preset_device_open(1, 0, 1);
        return 0;
}

void drive_library_finish(void) {
        for (size_t i = 0; i < n_scan_arrays; i++)
                burn_drive_info_free(scan_arrays[i]);
        free(scan_arrays);
        scan_arrays = NULL;
        n_scan_arrays = 0;
        burn_finish();
}

/* libburn answers from the drive's page 2Ah BUF bit (MMC-6 7.8.2), read when the drive was
 * grabbed. A file has no buffer to run dry. */
static bool probe_buf_capable(Drive *d) {
        struct burn_write_opts *o;
        bool capable;

        if (drive_is_file(d))
                return false;
        o = burn_write_opts_new(d->info.drive);
        if (!o)
                return false;
        capable = burn_write_opts_set_underrun_proof(o, 1) > 0;
        burn_write_opts_free(o);
        return capable;
}

static void trim_trailing_spaces(char *s) {
        size_t n = strlen(s);

        while (n > 0 && s[n - 1] == ' ')
                s[--n] = 0;
}

/* Takes libburn's description of the drive (array: our own allocation of it, if any). */
static void drive_set_info(Drive *d, const struct burn_drive_info *info, struct burn_drive_info *array) {
        d->info = *info;
        /* INQUIRY strings are space-padded (SPC-4 6.6.2). */
        trim_trailing_spaces(d->info.vendor);
        trim_trailing_spaces(d->info.product);
        trim_trailing_spaces(d->info.revision);
        d->array = array;
        /* Kept: the role is asked for everywhere, also once libburn's object is gone. */
        d->role = burn_drive_get_drive_role(info->drive);
}

static int drive_new_from_info(const struct burn_drive_info *info, struct burn_drive_info *array,
                               Drive **ret) {
        char adr[BURN_DRIVE_ADR_LEN] = "";
        _cleanup_free_ Drive *d = NULL;

        d = calloc(1, sizeof(Drive));
        if (!d)
                return -ENOMEM;
        d->reached_lba = -1;
        pthread_mutex_init(&d->io_lock, NULL);
        if (burn_drive_d_get_adr(info->drive, adr) <= 0)
                return -EIO;
        d->address = strdup(adr);
        if (!d->address)
                return -ENOMEM;
        drive_set_info(d, info, array);
        *ret = TAKE_PTR(d);
        return 0;
}

int drive_scan(Drive ***ret, size_t *ret_n) {
        struct burn_drive_info *infos = NULL;
        _cleanup_free_ Drive **drives = NULL;
        struct burn_drive_info **arrays;
        unsigned n = 0;
        size_t k = 0;
        int r;

        /* The scan runs in a libburn thread: 0 means "not finished yet", ask again. Drives
         * answer within seconds; this happens once, before the bus is served. */
        while ((r = burn_drive_scan(&infos, &n)) == 0)
                usleep(50 * 1000);
        (void) drive_drain_messages(NULL, NULL);
        if (r < 0)
                return log_warning_errno(EIO, "libburn could not scan for drives.");
        if (n == 0 || !infos) {
                if (infos)
                        burn_drive_info_free(infos);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }

        arrays = realloc(scan_arrays, (n_scan_arrays + 1) * sizeof(*arrays));
        if (!arrays) {
                burn_drive_info_free(infos);
                return -ENOMEM;
        }
        scan_arrays = arrays;
        scan_arrays[n_scan_arrays++] = infos;

        drives = calloc(n, sizeof(Drive *));
        if (!drives)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                r = drive_new_from_info(&infos[i], NULL, &drives[k]);
                if (r < 0) {
                        log_warning_errno(r, "Skipping drive %u of the scan: %m", i);
                        continue;
                }
                k++;
        }
        *ret = TAKE_PTR(drives);
        *ret_n = k;
        return 0;
}

int drive_new_from_address(const char *address, Drive **ret) {
        struct burn_drive_info *infos = NULL;
        _cleanup_(drive_freep) Drive *d = NULL;
        int r, code;

        if (strlen(address) >= BURN_DRIVE_ADR_LEN)
                return -ENAMETOOLONG;

        r = scan_and_grab(&infos, address);
        (void) drive_drain_messages(NULL, &code);
        if (r <= 0 || !infos)
                return log_warning_errno(code == 0x00020001 || code == 0x00020003 ? EBUSY : ENODEV,
                                         "Cannot use drive '%s' (libburn code 0x%08X).", address,
                                         (unsigned) code);
        r = drive_new_from_info(&infos[0], infos, &d);
        if (r < 0) {
                burn_drive_release(infos[0].drive, 0);
                drive_forget_info(&infos[0], infos, 0);
                return r;
        }
        /* Grabbed by the scan: keep it only while a client needs it. */
        d->grabbed = true;
        d->buf_capable = probe_buf_capable(d);
        drive_release(d, false);
        *ret = TAKE_PTR(d);
        return 0;
}

int drive_attach(Drive *d, unsigned tries) {
        struct burn_drive_info *infos = NULL;
        char *address = d->address;
        int r = 0;

        for (unsigned i = 0; i < tries && r <= 0; i++) {
                if (i > 0)
                        usleep(200 * 1000);
                r = scan_and_grab(&infos, address);
        }
        (void) drive_drain_messages(NULL, NULL);
        if (r <= 0 || !infos)
                return -ENODEV;
        drive_set_info(d, &infos[0], infos);
        d->grabbed = true;
        d->buf_capable = probe_buf_capable(d);
        return 0;
}

int drive_revive(Drive *d) {
        int r;

        if (!d->lost)
                return 0;
        r = drive_attach(d, 1);
        if (r < 0)
                return r;
        d->lost = false;
        drive_release(d, false);
        log_info("Recorder %s can be used again.", d->address);
        return 0;
}

Drive *drive_free(Drive *d) {
        if (!d)
                return NULL;
        if (d->grabbed)
                drive_release(d, false);
        drive_forget_info(d->lost ? NULL : &d->info, d->array, 0);
        (void) drive_drain_messages(NULL, NULL);
        pthread_mutex_destroy(&d->io_lock);
        free(d->address);
        free(d);
        return NULL;
}

const char *drive_get_address(const Drive *d) {
        return d->address;
}

const char *drive_get_vendor(const Drive *d) {
        return d->info.vendor;
}

const char *drive_get_product(const Drive *d) {
        return d->info.product;
}

const char *drive_get_revision(const Drive *d) {
        return d->info.revision;
}

bool drive_is_file(const Drive *d) {
        /* Roles 2..5 are stdio: pseudo-drives; 1 is an MMC drive. */
        return d->role != 1;
}

bool drive_can_write_cdrw(const Drive *d) {
        return d->info.write_cdrw || drive_is_file(d);
}

bool drive_can_simulate(const Drive *d) {
        return d->info.write_simulate || drive_is_file(d);
}

int drive_grab(Drive *d, bool load) {
        int r, code;

        if (d->grabbed)
                return 0;
        if (d->lost)
                return -ENODEV;
        r = burn_drive_grab(d->info.drive, load);
        (void) drive_drain_messages(NULL, &code);
        if (r <= 0) {
                struct stat st;

                /* libburn says "Could not grab drive" for a vanished device too: a device node
                 * that is gone is a removed drive, not a busy one. */
                if (!drive_is_file(d) && stat(d->address, &st) < 0 && errno == ENOENT)
                        return -ENODEV;
                /* 0x00020001 "Cannot open busy device", 0x00020003 "already in use",
                 * 0x00020008 "Failed to fcntl-lock": another process holds it. */
                if (IN_SET(code, 0x00020001, 0x00020003, 0x00020008, 0x00020189))
                        return -EBUSY;
                return -ENODEV;
        }
        d->grabbed = true;
        d->buf_capable = probe_buf_capable(d);
        return 0;
}

void drive_release(Drive *d, bool eject) {
        if (!d->grabbed)
                return;
        burn_drive_release(d->info.drive, eject);
        d->grabbed = false;
        (void) drive_drain_messages(NULL, NULL);
}

bool drive_is_lost(const Drive *d) {
        return d->lost;
}

bool drive_is_grabbed(const Drive *d) {
        return d->grabbed;
}

int drive_get_profiles(Drive *d, DriveProfile **ret, size_t *ret_n) {
        int profiles[64], n = 0;
        char current[64];
        _cleanup_free_ DriveProfile *list = NULL;

        if (d->lost)
                return -ENODEV;
        if (burn_drive_get_all_profiles(d->info.drive, &n, profiles, current) <= 0 || n <= 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        list = calloc((size_t) n, sizeof(DriveProfile));
        if (!list)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                list[i].number = (unsigned) profiles[i];
                list[i].current = current[i];
                if (burn_obtain_profile_name(profiles[i], list[i].name) <= 0)
                        snprintf(list[i].name, sizeof list[i].name, "0x%04X", (unsigned) profiles[i]);
        }
        *ret = TAKE_PTR(list);
        *ret_n = (size_t) n;
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

int drive_get_write_speeds(Drive *d, uint32_t **ret, size_t *ret_n) {
        struct burn_speed_descriptor *list = NULL;
        _cleanup_free_ uint32_t *speeds = NULL;
        size_t n = 0, k = 0;

        if (d->lost)
                return -ENODEV;
        if (burn_drive_get_speedlist(d->info.drive, &list) > 0 && list) {
                for (struct burn_speed_descriptor *s = list; s; s = s->next)
                        n++;
                speeds = calloc(n, sizeof(uint32_t));
                if (!speeds) {
                        burn_drive_free_speedlist(&list);
                        return -ENOMEM;
                }
                for (struct burn_speed_descriptor *s = list; s; s = s->next) {
                        bool dup = false;

                        if (s->write_speed <= 0)
                                continue;
                        for (size_t i = 0; i < k; i++)
                                dup = dup || speeds[i] == (uint32_t) s->write_speed;
                        if (!dup)
                                speeds[k++] = (uint32_t) s->write_speed;
                }
                burn_drive_free_speedlist(&list);
                qsort(speeds, k, sizeof(uint32_t), cmp_u32);
        }
        *ret = TAKE_PTR(speeds);
        *ret_n = k;
        return 0;
}

int drive_get_max_write_speed(Drive *d) {
        if (d->lost)
                return 0;
        return MAX(burn_drive_get_write_speed(d->info.drive), 0);
}

bool drive_underrun_free_capable(Drive *d) {
        return d->buf_capable;
}

int drive_eject(Drive *d) {
        if (!d->grabbed)
                return -EBADFD;
        /* Ejecting needs a release; grab again without loading the tray so that the caller
         * keeps exclusive access, as IDiscRecorder::Eject between OpenExclusive and Close. */
        drive_release(d, !drive_is_file(d));
        return drive_grab(d, false);
}

bool drive_profile_is_rom(unsigned profile) {
        return IN_SET(profile, 0x08u, 0x10u, 0x40u);
}

bool drive_profile_is_overwriteable(unsigned profile) {
        return IN_SET(profile, 0x12u, 0x13u, 0x1Au, 0x2Au, 0x43u);
}

unsigned drive_profile_kbps_1x(unsigned profile) {
        if (profile >= 0x08 && profile <= 0x0A)
                return 176;
        if (profile >= 0x10 && profile <= 0x2B)
                return 1385;
        if (profile >= 0x40 && profile <= 0x43)
                return 4496;
        return 0;
}

const char *drive_media_status_to_string(MediaStatus s) {
        static const char *const table[] = {
                [MEDIA_STATUS_UNKNOWN] = "unknown",   [MEDIA_STATUS_NONE] = "none",
                [MEDIA_STATUS_BLANK] = "blank",       [MEDIA_STATUS_APPENDABLE] = "appendable",
                [MEDIA_STATUS_CLOSED] = "closed",     [MEDIA_STATUS_UNSUITABLE] = "unsuitable",
        };
        return (unsigned) s < ELEMENTSOF(table) ? table[s] : "unknown";
}
