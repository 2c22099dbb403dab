/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorders of a burn to several at once (targets.h). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "hresult.h"
#include "json.h"
#include "macro.h"
#include "targets.h"

int targets_new(sd_bus *bus, char *const *paths, size_t n, bool all, Targets *ret) {
        _cleanup_strv_free_ char **every = NULL;
        Targets t = { .all = all };
        int r;

        if (all) {
                r = ctl_list_recorders(bus, &every);
                if (r != 0)
                        return r;
                for (n = 0; every[n]; n++)
                        ;
                paths = every;
                if (n == 0) {
                        fprintf(stderr, "imapictl: imapid has no recorders.\n");
                        return CTL_EXIT_NOTFOUND;
                }
        }
        t.v = calloc(n, sizeof(Target));
        if (!t.v)
                return CTL_EXIT_FAILED;
        t.n = n;
        for (size_t i = 0; i < n; i++) {
                t.v[i].blocks = -1;
                t.v[i].path = strdup(paths[i]);
                if (!t.v[i].path) {
                        targets_done(&t);
                        return CTL_EXIT_FAILED;
                }
                r = ctl_get_string(bus, paths[i], IMAPI_RECORDER_INTERFACE, "Id", &t.v[i].id);
                if (r != 0) {
                        targets_done(&t);
                        return r;
                }
        }
        *ret = t;
        return 0;
}

void targets_done(Targets *t) {
        for (size_t i = 0; t->v && i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].id);
                free(t->v[i].medium);
                free(t->v[i].skipped);
        }
        free(t->v);
        *t = (Targets) {};
}

size_t targets_usable(const Targets *t) {
        size_t n = 0;

        for (size_t i = 0; i < t->n; i++)
                n += !t->v[i].skipped;
        return n;
}

int targets_append(const Targets *t, sd_bus_message *m) {
        int r = sd_bus_message_open_container(m, 'a', "o");

        for (size_t i = 0; r >= 0 && i < t->n; i++)
                if (!t->v[i].skipped)
                        r = sd_bus_message_append(m, "o", t->v[i].path);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* SetActiveDiscRecorder without reporting: the caller decides whether a refusal ends the burn. */
static int set_active(sd_bus *bus, const char *master, const char *recorder, bool replace, sd_bus_error *error) {
        if (replace)
                return sd_bus_call_method(bus, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                          "SetActiveDiscRecorder", error, NULL, "oa{sv}", recorder, 1, "replace",
                                          "b", 1);
        return sd_bus_call_method(bus, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                                  "SetActiveDiscRecorder", error, NULL, "oa{sv}", recorder, 0);
}

/* A recorder left out, and why: said at once, and kept for the table. */
static int skip(Target *t, const sd_bus_error *error) {
        const HResultInfo *info = hresult_lookup_dbus_name(error->name);
        const char *name = info ? info->constant : error->name;

        if (asprintf(&t->skipped, "%s: %s", name, strempty(ctl_error_message(error->message))) < 0) {
                t->skipped = NULL;
                return CTL_EXIT_FAILED;
        }
        if (arg.json) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "event", "skipped");
                json_string(&w, "recorder", t->id);
                json_string(&w, "error_name", error->name);
                json_string(&w, "message", strempty(ctl_error_message(error->message)));
                json_end_object(&w);
                json_finish(&w);
        } else
                fprintf(stderr, "imapictl: skipping recorder %s: %s\n", t->id, t->skipped);
        return 0;
}

/* One recorder: its disc read (refused: the exit code, or skipped), its medium and room noted. */
static int check_one(Targets *t, Target *x, sd_bus *bus, const char *master, bool replace, bool joliet) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = set_active(bus, master, x->path, replace, &error);
        if (r < 0 && !t->all) {
                fprintf(stderr, "imapictl: recorder %s:\n", x->id);
                return ctl_report_error("SetActiveDiscRecorder", &error, r);
        }
        if (r < 0)
                return skip(x, &error);
        free(x->medium);
        x->medium = NULL;
        (void) sd_bus_get_property_string(bus, IMAPI_BUS_NAME, x->path, IMAPI_RECORDER_INTERFACE,
                                          "CurrentProfileName", NULL, &x->medium);
        if (joliet) {
                int32_t blocks;

                if (sd_bus_get_property_trivial(bus, IMAPI_BUS_NAME, master, IMAPI_JOLIET_INTERFACE,
                                                "TotalDataBlocks", NULL, 'i', &blocks) >= 0)
                        x->blocks = blocks;
        }
        return 0;
}

int targets_check(Targets *t, sd_bus *bus, const char *master, bool replace, bool joliet) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Target *chosen = NULL, *last = NULL;
        int r;

        for (size_t i = 0; i < t->n; i++) {
                Target *x = &t->v[i];

                r = check_one(t, x, bus, master, replace, joliet);
                if (r != 0)
                        return r;
                if (x->skipped)
                        continue;
                last = x;
                if (!chosen || (t->all ? x->blocks > chosen->blocks : x->blocks < chosen->blocks))
                        chosen = x;
        }
        if (!chosen) {
                fprintf(stderr, "imapictl: no recorder has a disc that can take this burn.\n");
                return CTL_EXIT_FAILED;
        }
        if (chosen == last)
                return 0;
        r = set_active(bus, master, chosen->path, replace, &error);
        return r < 0 ? ctl_report_error("SetActiveDiscRecorder", &error, r) : 0;
}

int targets_recheck(Targets *t, sd_bus *bus, const char *master, bool replace) {
        if (!t->all)
                return 0;
        /* "If something is already staged, it must fit the new disc" (SetActiveDiscRecorder). */
        for (size_t i = 0; i < t->n; i++) {
                if (t->v[i].skipped)
                        continue;
                int r = check_one(t, &t->v[i], bus, master, replace, false);
                if (r != 0)
                        return r;
        }
        if (targets_usable(t) == 0) {
                fprintf(stderr, "imapictl: no recorder has a disc that can take what is staged.\n");
                return CTL_EXIT_FAILED;
        }
        return 0;
}
