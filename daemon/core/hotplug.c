/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding recorders that appear and noticing those that disappear, by looking at their device
 * nodes the way libburn's own enumeration does (stat of /dev/srN). It needs no udev, so it
 * works in containers and with the drive emulator; a udev event would only make it faster.
 * The stat is all the loop does: opening a drive and reading it (INQUIRY, GET CONFIGURATION, the
 * disc) takes as long as a real drive spinning up, and runs in a worker. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config.h"
#include "core/hotplug.h"
#include "log.h"
#include "macro.h"
#include "core/master.h"
#include "core/recorder.h"
#include "core/worker.h"

#define MAX_SR 32

static void notify_masters(Manager *m) {
        for (size_t i = 0; i < m->n_masters; i++)
                if (!m->masters[i]->closing)
                        manager_notify_event(m, m->masters[i], MASTER_EVENT_PNP_ACTIVITY, 0, 0, 0);
        manager_notify_manager(m, MANAGER_CHANGED_RECORDERS);
}

static bool node_exists(const char *path) {
        struct stat st;

        return stat(path, &st) >= 0;
}

/* A new node, looked at in a worker. */
typedef struct HotplugLook {
        Manager *manager;
        unsigned node;          /* N of /dev/srN */
        char path[32];
        Drive *drive;           /* once it answered */
        int result;
        RecorderReadout readout;
} HotplugLook;

static void look_run(void *userdata) {
        HotplugLook *l = userdata;

        l->result = drive_new_from_address(l->path, &l->drive);
        if (l->result >= 0)
                recorder_look(l->drive, &l->readout);
}

/* Whether the node became a recorder. */
static bool look_add(HotplugLook *l) {
        Manager *m = l->manager;
        uint32_t bit = UINT32_C(1) << l->node;

        m->hotplug_looking &= ~bit;
        if (m->exiting)
                return false;
        if (l->result == -EBUSY) {
                log_debug("New drive %s is busy; trying again later.", l->path);
                return false;
        }
        if (l->result < 0) {
                log_info("Device %s is not a usable drive, ignoring it.", l->path);
                m->hotplug_rejected |= bit;
                return false;
        }
        if (manager_add_drive(m, l->path, l->drive, &l->readout) < 0) {
                log_oom();
                return false;
        }
        l->drive = NULL;
        return true;
}

static void look_done(void *userdata) {
        _cleanup_free_ HotplugLook *l = userdata;
        bool added = look_add(l);

        recorder_readout_done(&l->readout);
        drive_free(l->drive);
        if (added)
                notify_masters(l->manager);
}

static void look_start(Manager *m, unsigned node) {
        HotplugLook *l = calloc(1, sizeof(HotplugLook));

        if (!l) {
                log_oom();
                return;
        }
        *l = (HotplugLook) { .manager = m, .node = node, .readout.error = -ENODATA };
        snprintf(l->path, sizeof l->path, "/dev/sr%u", node);
        if (worker_submit(m->worker, look_run, look_done, l) < 0) {
                free(l);
                return;         /* tried again at the next check */
        }
        m->hotplug_looking |= UINT32_C(1) << node;
}

void hotplug_check(Manager *m) {
        bool changed = false;

        /* Known drives: gone, or back. */
        for (size_t i = 0; i < m->n_recorders; i++) {
                Recorder *r = m->recorders[i];
                const char *dev = recorder_device(r);
                bool exists;

                if (!*dev)
                        continue;       /* image files do not come and go */
                exists = node_exists(dev);
                if (r->present && !exists) {
                        recorder_log_event(r, LOG_NOTICE, IMAPI_MESSAGE_RECORDER_REMOVED,
                                           "Recorder %s (%s) was removed.", r->id, dev);
                        recorder_set_present(r, false);
                        changed = true;
                } else if (!r->present && exists && r->busy == 0) {
                        recorder_log_event(r, LOG_INFO, IMAPI_MESSAGE_RECORDER_ADDED, "Recorder %s (%s) is back.",
                                           r->id, dev);
                        recorder_set_present(r, true);
                        /* A drive lost in the middle of a job gets a new libburn object. A job's
                         * worker may still hold the drive (it came back before the job noticed). */
                        if (!recorder_reserved(r))
                                recorder_revive(r, true);
                        changed = true;
                } else if (r->present && exists && r->busy == 0 && !recorder_reserved(r) &&
                           drive_is_lost(r->drive))
                        /* Lost to another program that took the device when it was set up again
                         * after a failed write: it has been given back by now, perhaps. */
                        recorder_revive(r, false);
        }

        /* New drives, unless told not to look for hardware. */
        for (unsigned n = 0; n < MAX_SR && m->config->scan; n++) {
                char path[32];
                bool known = false;

                snprintf(path, sizeof path, "/dev/sr%u", n);
                for (size_t i = 0; i < m->n_recorders && !known; i++)
                        known = streq(recorder_device(m->recorders[i]), path);
                if (known)
                        continue;
                if (!node_exists(path)) {
                        m->hotplug_rejected &= ~(UINT32_C(1) << n);
                        continue;
                }
                if (m->hotplug_rejected & (UINT32_C(1) << n))
                        continue;       /* looked at already; again once the node is replaced */
                if (m->hotplug_looking & (UINT32_C(1) << n))
                        continue;       /* being looked at */
                look_start(m, n);
        }

        if (changed)
                notify_masters(m);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        hotplug_check(m);
        (void) sd_event_source_set_time_relative(s, m->config->hotplug_interval_usec);
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

int hotplug_start(Manager *m, uint64_t interval_usec) {
        if (interval_usec == 0)
                return 0;
        return sd_event_add_time_relative(m->event, &m->hotplug, CLOCK_MONOTONIC, interval_usec,
                                          interval_usec / 4, on_timer, m);
}

void hotplug_stop(Manager *m) {
        m->hotplug = sd_event_source_disable_unref(m->hotplug);
}
