/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding recorders that appear and noticing those that disappear, by looking at their device
 * nodes the way libburn's own enumeration does (stat of /dev/srN). It needs no udev, so it
 * works in containers and with the drive emulator; a udev event would only make it faster. */

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
                        changed = true;
                } else if (r->present && exists && r->busy == 0 && drive_is_lost(r->drive))
                        /* Lost to another program that took the device when it was set up again
                         * after a failed write: it has been given back by now, perhaps. */
                        (void) drive_revive(r->drive);
        }

        /* New drives, unless told not to look for hardware. */
        for (unsigned n = 0; n < MAX_SR && m->config->scan; n++) {
                char path[32];
                bool known = false;
                int k;

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
                k = manager_add_address(m, path);
                if (k == -EBUSY) {
                        log_debug("New drive %s is busy; trying again later.", path);
                        continue;
                }
                if (k < 0) {
                        log_info("Device %s is not a usable drive, ignoring it.", path);
                        m->hotplug_rejected |= UINT32_C(1) << n;
                        continue;
                }
                changed = true;
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
