/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IJolietDiscMaster's boot image (El Torito): the four boot properties of SetJolietProperties,
 * and SetBootImage, which takes the image from a file descriptor the client passed (IMAPI's
 * BootImage is an IStream) and copies it into the stash in a worker, counted as staged data.
 * The boot settings belong to the staged content (Staging.boot): ClearFormatContent, a format
 * change and a successful burn clear them. libisofs writes the image and its catalog, both
 * hidden from the trees (media/iso-build.c).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <imapi/imapierror.h>

#include "core/file-copy.h"
#include "core/master.h"
#include "macro.h"
#include "media/stash.h"

/* El Torito's floppy emulations take exactly the size of their floppy. */
static uint64_t floppy_size(unsigned emulation) {
        static const uint64_t kib[] = { 0, 1200, 1440, 2880, 0 };

        return emulation < ELEMENTSOF(kib) ? kib[emulation] * 1024 : 0;
}

static const char *emulation_to_string(unsigned emulation) {
        static const char *const names[] = { "no emulation", "1.2 MB floppy", "1.44 MB floppy", "2.88 MB floppy",
                                             "hard disk" };

        return emulation < ELEMENTSOF(names) ? names[emulation] : "?";
}

int master_check_boot_platform(int64_t v, ImapiError *error) {
        if (!IN_SET(v, 0, 1, 2, 0xEF))
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "BootImagePlatform must be 0 (x86), 1 (PowerPC), 2 (Mac) or 239 (0xEF, EFI), "
                                       "not %lld.", (long long) v);
        return 0;
}

int master_check_boot_emulation(int64_t v, ImapiError *error) {
        if (v < 0 || v > 4)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "BootImageEmulationType must be 0 (none), 1 (1.2 MB floppy), 2 (1.44 MB "
                                       "floppy), 3 (2.88 MB floppy) or 4 (hard disk), not %lld.", (long long) v);
        return 0;
}

/* The El Torito validation entry's ID string: printable ASCII, as BIOSes show it. */
int master_check_boot_manufacturer(const char *s, ImapiError *error) {
        if (strlen(s) > MASTER_BOOT_MANUFACTURER_MAX)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "BootImageManufacturerIDString has %zu bytes; El Torito's ID string holds "
                                       "at most %d.", strlen(s), MASTER_BOOT_MANUFACTURER_MAX);
        for (const char *p = s; *p; p++)
                if (*p < 0x20 || *p > 0x7E)
                        return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                               "BootImageManufacturerIDString may hold printable ASCII "
                                               "characters only.");
        return 0;
}

/* An image of this size suits this emulation. */
static int check_boot_size(unsigned emulation, uint64_t size, ImapiError *error) {
        uint64_t want = floppy_size(emulation);

        if (want == 0 || size == want)
                return 0;
        return imapi_error_set(error, IMAPI_E_INVALIDARG,
                               "%s emulation needs a boot image of exactly %llu KiB; the boot image has %llu bytes.",
                               emulation_to_string(emulation), (unsigned long long) (want / 1024),
                               (unsigned long long) size);
}

static int check_boot_ready(Master *m, ImapiError *error) {
        int r = master_check_format(m, MASTER_FORMAT_JOLIET, error);

        if (r < 0)
                return r;
        if (m->burn)
                return imapi_error_set(error, IMAPI_E_DEVICE_NOTACCESSIBLE,
                                       "Disc master %u is burning; wait for the job to finish.", m->id);
        if (m->boot_adding || m->discarding > 0)
                return imapi_error_set(error, IMAPI_E_GENERIC, "Disc master %u is still staging its boot image.",
                                       m->id);
        return 0;
}

/* A disc that SetActiveDiscRecorder found not blank takes no boot image. */
static int check_boot_plan(const Master *m, ImapiError *error) {
        if (!m->recorder || !m->plan_known)
                return 0;
        return session_plan_check_boot(m->recorder, &m->plan, error);
}

int master_set_boot_properties(Master *m, const MasterBootChange *c, ImapiError *error) {
        StagedBoot *b = &m->staging.boot;
        bool place = c->place >= 0 ? c->place : b->place;
        unsigned emulation = c->emulation >= 0 ? (unsigned) c->emulation : b->emulation;
        int r;

        if (c->place < 0 && c->platform < 0 && c->emulation < 0 && !c->manufacturer)
                return 0;
        r = check_boot_ready(m, error);
        if (r < 0)
                return r;
        if (b->copy != 0) {
                r = check_boot_size(emulation, b->size, error);
                if (r < 0)
                        return r;
        }
        if (place && c->place > 0) {
                r = check_boot_plan(m, error);
                if (r < 0)
                        return r;
        }
        b->place = place;
        b->emulation = (uint8_t) emulation;
        if (c->platform >= 0)
                b->platform = (uint8_t) c->platform;
        if (c->manufacturer)
                snprintf(b->manufacturer, sizeof b->manufacturer, "%s", c->manufacturer);
        return 0;
}

int master_check_boot_burn(const Master *m, const Recorder *rec, const SessionPlan *p, ImapiError *error) {
        const StagedBoot *b = &m->staging.boot;
        int r;

        if (m->format != MASTER_FORMAT_JOLIET || !b->place)
                return 0;
        if (b->copy == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "PlaceBootImageOnDisc is set, but disc master %u has no boot image; pass "
                                       "one with SetBootImage.", m->id);
        r = session_plan_check_boot(rec, p, error);
        if (r < 0)
                return r;
        return check_boot_size(b->emulation, b->size, error);
}

void master_cancel_boot_adding(Master *m) {
        file_copy_cancel(m->boot_adding);
}

/* The new image replaces the one staged before. */
static int commit_boot(Master *m, uint32_t copy, uint64_t size, uint64_t cost) {
        uint32_t old = staging_set_boot_copy(&m->staging, copy, size, cost);

        if (old != 0)
                (void) stash_remove_copy(m->stash, old);
        return 0;
}

static const FileCopyOps boot_copy = {
        .what = "boot image",
        .call = "SetBootImage",
        .changed_hresult = IMAPI_E_FILEACCESS,
        .commit = commit_boot,
};

static int check_boot_fd(int fd, uint64_t *ret_size, uint64_t *ret_cost, ImapiError *error) {
        struct stat st;
        int r;

        r = master_examine_fd(fd, "boot image", &st, ret_cost, error);
        if (r < 0)
                return r;
        if (st.st_size == 0)
                return imapi_error_set(error, IMAPI_E_INVALIDARG, "The boot image is empty.");
        if ((uint64_t) st.st_size > MASTER_BOOT_IMAGE_MAX)
                return imapi_error_set(error, IMAPI_E_INVALIDARG,
                                       "The boot image has %llu bytes; El Torito loads at most %llu (65535 "
                                       "sectors of 512 bytes).", (unsigned long long) st.st_size,
                                       (unsigned long long) MASTER_BOOT_IMAGE_MAX);
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

int master_set_boot_image(Master *m, int fd, core_done_fn done, void *userdata, ImapiError *error) {
        uint64_t size = 0, cost = 0;
        int r;

        r = check_boot_fd(fd, &size, &cost, error);
        if (r < 0)
                return r;
        r = check_boot_ready(m, error);
        if (r < 0)
                return r;
        r = check_boot_size(m->staging.boot.emulation, size, error);
        if (r < 0)
                return r;
        if (m->staging.boot.place) {
                r = check_boot_plan(m, error);
                if (r < 0)
                        return r;
        }
        if (m->recorder && staging_estimate_blocks(&m->staging, NULL, 0) + DIV_ROUND_UP(size, 2048) >
                           m->total_blocks)
                return imapi_error_set(error, IMAPI_E_DISCFULL,
                                       "The disc in recorder %s cannot hold the staged data and the boot image.",
                                       m->recorder->id);
        return file_copy_start(m, fd, size, cost, &boot_copy, &m->boot_adding, done, userdata, error);
}
