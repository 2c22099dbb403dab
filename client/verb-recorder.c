/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl devices | media | eject | properties: the recorder verbs. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "json.h"
#include "macro.h"
#include "verbs.h"

typedef struct RecorderInfo {
        char *path;
        char *id, *device, *address, *vendor, *product, *revision, *owner, *media_status, *profile_name;
        uint32_t state, current_profile;
        int32_t media_type, media_flags, recorder_type, write_speed, max_write_speed;
        int media_present, media_incomplete_session, buf_capable;
        uint32_t profiles[64];
        char *profile_names[64];
        size_t n_profiles;
        uint32_t *speeds;
        size_t n_speeds;
} RecorderInfo;

static void recorder_info_done(RecorderInfo *i) {
        free(i->path);
        free(i->id);
        free(i->device);
        free(i->address);
        free(i->vendor);
        free(i->product);
        free(i->revision);
        free(i->owner);
        free(i->media_status);
        free(i->profile_name);
        for (size_t k = 0; k < i->n_profiles; k++)
                free(i->profile_names[k]);
        free(i->speeds);
        *i = (RecorderInfo) {};
}

static int read_string_into(sd_bus_message *m, char **field) {
        const char *s;
        int r = sd_bus_message_read(m, "v", "s", &s);

        if (r < 0)
                return r;
        free(*field);
        *field = strdup(s);
        return *field ? 0 : -ENOMEM;
}

static int recorder_info_read(sd_bus *bus, const char *path, RecorderInfo *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        RecorderInfo i = {};
        int r;

        r = ctl_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", &reply, "s", IMAPI_RECORDER_INTERFACE);
        if (r != 0)
                return r;
        i.path = strdup(path);
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;
                struct {
                        const char *name;
                        char **field;
                } strings[] = {
                        { "Id", &i.id },           { "Device", &i.device },   { "Address", &i.address },
                        { "Vendor", &i.vendor },   { "Product", &i.product }, { "Revision", &i.revision },
                        { "ExclusiveOwner", &i.owner }, { "MediaStatus", &i.media_status },
                        { "CurrentProfileName", &i.profile_name },
                };
                bool done = false;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        break;
                for (size_t k = 0; k < ELEMENTSOF(strings) && !done; k++)
                        if (streq(name, strings[k].name)) {
                                r = read_string_into(reply, strings[k].field);
                                done = true;
                        }
                if (done) {
                } else if (streq(name, "State"))
                        r = sd_bus_message_read(reply, "v", "u", &i.state);
                else if (streq(name, "CurrentProfile"))
                        r = sd_bus_message_read(reply, "v", "u", &i.current_profile);
                else if (streq(name, "MediaType"))
                        r = sd_bus_message_read(reply, "v", "i", &i.media_type);
                else if (streq(name, "MediaFlags"))
                        r = sd_bus_message_read(reply, "v", "i", &i.media_flags);
                else if (streq(name, "RecorderType"))
                        r = sd_bus_message_read(reply, "v", "i", &i.recorder_type);
                else if (streq(name, "WriteSpeed"))
                        r = sd_bus_message_read(reply, "v", "i", &i.write_speed);
                else if (streq(name, "MaxWriteSpeed"))
                        r = sd_bus_message_read(reply, "v", "i", &i.max_write_speed);
                else if (streq(name, "MediaPresent"))
                        r = sd_bus_message_read(reply, "v", "b", &i.media_present);
                else if (streq(name, "MediaIncompleteSession"))
                        r = sd_bus_message_read(reply, "v", "b", &i.media_incomplete_session);
                else if (streq(name, "BufferUnderrunFreeCapable"))
                        r = sd_bus_message_read(reply, "v", "b", &i.buf_capable);
                else if (streq(name, "SupportedProfiles")) {
                        uint32_t num;
                        const char *pname;

                        r = sd_bus_message_enter_container(reply, 'v', "a(us)");
                        if (r >= 0)
                                r = sd_bus_message_enter_container(reply, 'a', "(us)");
                        while (r >= 0 && (r = sd_bus_message_read(reply, "(us)", &num, &pname)) > 0)
                                if (i.n_profiles < ELEMENTSOF(i.profiles)) {
                                        i.profiles[i.n_profiles] = num;
                                        i.profile_names[i.n_profiles++] = strdup(pname);
                                }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else if (streq(name, "WriteSpeeds")) {
                        const void *p;
                        size_t sz;

                        r = sd_bus_message_enter_container(reply, 'v', "au");
                        if (r >= 0)
                                r = sd_bus_message_read_array(reply, 'u', &p, &sz);
                        if (r >= 0 && sz > 0) {
                                i.speeds = malloc(sz);
                                if (i.speeds) {
                                        memcpy(i.speeds, p, sz);
                                        i.n_speeds = sz / sizeof(uint32_t);
                                }
                        }
                        if (r >= 0)
                                r = sd_bus_message_exit_container(reply);
                } else
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                recorder_info_done(&i);
                fprintf(stderr, "imapictl: bad reply from imapid: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        *ret = i;
        return 0;
}

static const char *state_to_string(uint32_t s) {
        return s == RECORDER_BURNING ? "burning" : s == RECORDER_OPENED ? "opened" : "idle";
}

static const char *media_type_to_string(int t) {
        static const char *const names[] = {
                [0] = "none", [MEDIA_CDDA_CDROM] = "MEDIA_CDDA_CDROM", [MEDIA_CD_ROM_XA] = "MEDIA_CD_ROM_XA",
                [MEDIA_CD_I] = "MEDIA_CD_I", [MEDIA_CD_EXTRA] = "MEDIA_CD_EXTRA",
                [MEDIA_CD_OTHER] = "MEDIA_CD_OTHER", [MEDIA_SPECIAL] = "MEDIA_SPECIAL",
        };
        return t >= 0 && (size_t) t < ELEMENTSOF(names) ? names[t] : "unknown";
}

static void media_flags_to_string(int f, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s%s", f & MEDIA_BLANK ? " BLANK" : "", f & MEDIA_RW ? " RW" : "",
                 f & MEDIA_WRITABLE ? " WRITABLE" : "", f & MEDIA_FORMAT_UNUSABLE_BY_IMAPI ? " UNUSABLE" : "");
        if (!buf[0])
                snprintf(buf, size, " none");
}

static void json_recorder(JsonWriter *w, const RecorderInfo *i, size_t index) {
        json_uint(w, "index", index);
        json_string(w, "path", i->path);
        json_string(w, "id", i->id);
        json_string(w, "device", i->device);
        json_string(w, "address", i->address);
        json_string(w, "vendor", i->vendor);
        json_string(w, "product", i->product);
        json_string(w, "revision", i->revision);
        json_string(w, "state", state_to_string(i->state));
        json_string(w, "exclusive_owner", i->owner);
        json_int(w, "recorder_type", i->recorder_type);
        json_bool(w, "media_present", i->media_present);
        json_string(w, "media_status", i->media_status);
        json_bool(w, "media_incomplete_session", i->media_incomplete_session);
        json_int(w, "media_type", i->media_type);
        json_int(w, "media_flags", i->media_flags);
        json_uint(w, "current_profile", i->current_profile);
        json_string(w, "current_profile_name", i->profile_name);
        json_int(w, "write_speed", i->write_speed);
        json_int(w, "max_write_speed", i->max_write_speed);
        json_bool(w, "buffer_underrun_free_capable", i->buf_capable);
        json_begin_array(w, "supported_profiles");
        for (size_t k = 0; k < i->n_profiles; k++)
                json_string(w, NULL, i->profile_names[k]);
        json_end_array(w);
        json_begin_array(w, "write_speeds_kbps");
        for (size_t k = 0; k < i->n_speeds; k++)
                json_uint(w, NULL, i->speeds[k]);
        json_end_array(w);
}

int verb_devices(int argc, char *argv[], sd_bus *bus) {
        _cleanup_strv_free_ char **paths = NULL;
        JsonWriter w = { .f = stdout };
        size_t n = 0;
        int r;

        r = ctl_list_recorders(bus, &paths);
        if (r != 0)
                return r;
        if (arg.json)
                json_begin_array(&w, NULL);
        else if (paths[0])
                printf("%-5s %-8s %-24s %-9s %-17s %-5s %-8s %s\n", "INDEX", "ID", "DEVICE", "VENDOR", "PRODUCT",
                       "REV", "STATE", "MEDIA");

        for (; paths[n]; n++) {
                RecorderInfo i;
                char media[128];

                r = recorder_info_read(bus, paths[n], &i);
                if (r != 0)
                        return r;
                if (arg.json) {
                        json_begin_object(&w, NULL);
                        json_recorder(&w, &i, n);
                        json_end_object(&w);
                } else {
                        /* A disc left by a burn that was cut short says so at the end of its row
                         * (the last column: the others keep their places); media prints a warning. */
                        if (i.media_present)
                                snprintf(media, sizeof media, "%s %s%s", i.media_status, i.profile_name,
                                         i.media_incomplete_session ? ", incomplete session" : "");
                        else
                                snprintf(media, sizeof media, "%s", streq_ptr(i.media_status, "unknown") ?
                                         "unknown" : "none");
                        printf("%-5zu %-8s %-24s %-9s %-17s %-5s %-8s %s\n", n, i.id,
                               *i.device ? i.device : i.address, i.vendor, i.product, i.revision,
                               state_to_string(i.state), media);
                }
                recorder_info_done(&i);
        }
        if (arg.json)
                json_end_array(&w), json_finish(&w);
        else if (n == 0)
                printf("No recorders.\n");
        return 0;
}

int verb_media(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *type_reply = NULL, *info_reply = NULL;
        _cleanup_free_ char *path = NULL;
        int32_t type = 0, flags = 0;
        uint8_t sessions = 0, last_track = 0;
        uint32_t start = 0, nwa = 0, free_blocks = 0;
        bool have_info = false;
        RecorderInfo i;
        char fl[64];
        int r, k;

        r = ctl_resolve_recorder(bus, argc > 1 ? argv[1] : NULL, &path);
        if (r != 0)
                return r;

        /* IMAPI's order: OpenExclusive, query, Close. Close even when a query fails. */
        r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "OpenExclusive", NULL, "a{sv}", 0);
        if (r != 0)
                return r;
        r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "QueryMediaType", &type_reply, NULL);
        if (r == 0)
                r = sd_bus_message_read(type_reply, "ii", &type, &flags) < 0 ? CTL_EXIT_FAILED : 0;
        if (r == 0 && type != 0) {
                r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "QueryMediaInfo", &info_reply, NULL);
                if (r == 0) {
                        r = sd_bus_message_read(info_reply, "yyuuu", &sessions, &last_track, &start, &nwa,
                                                &free_blocks) < 0 ? CTL_EXIT_FAILED : 0;
                        have_info = r == 0;
                }
        }
        k = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "Close", NULL, "a{sv}", 0);
        if (r != 0)
                return r;
        if (k != 0)
                return k;
        r = recorder_info_read(bus, path, &i);
        if (r != 0)
                return r;

        media_flags_to_string(flags, fl, sizeof fl);
        if (arg.json) {
                JsonWriter w = { .f = stdout };

                json_begin_object(&w, NULL);
                json_string(&w, "recorder", i.id);
                json_string(&w, "path", path);
                json_int(&w, "media_type", type);
                json_string(&w, "media_type_name", media_type_to_string(type));
                json_int(&w, "media_flags", flags);
                json_string(&w, "media_status", i.media_status);
                json_bool(&w, "incomplete_session", i.media_incomplete_session);
                json_uint(&w, "profile", i.current_profile);
                json_string(&w, "profile_name", i.profile_name);
                if (have_info) {
                        json_uint(&w, "sessions", sessions);
                        json_uint(&w, "last_track", last_track);
                        json_uint(&w, "start_address", start);
                        json_uint(&w, "next_writable", nwa);
                        json_uint(&w, "free_blocks", free_blocks);
                        json_uint(&w, "free_bytes", (uint64_t) free_blocks * IMAPI_DATA_BLOCK_SIZE);
                }
                json_end_object(&w);
                json_finish(&w);
        } else {
                printf("Recorder:       %s (%s%s%s)\n", i.id, *i.device ? i.device : i.address,
                       *i.vendor ? ", " : "", i.vendor);
                if (type == 0) {
                        printf("Media:          none\n");
                } else {
                        printf("Media type:     %d (%s)\n", type, media_type_to_string(type));
                        printf("Media flags:    0x%X (%s)\n", flags, fl + 1);
                        printf("Status:         %s\n", i.media_status);
                        if (i.media_incomplete_session)
                                printf("Warning:        the disc holds an incomplete session, from a burn that "
                                       "was cut short:\n"
                                       "                its last files may not be on the disc whole\n");
                        printf("Profile:        0x%04X %s\n", i.current_profile, i.profile_name);
                }
                if (have_info) {
                        printf("Sessions:       %u\n", sessions);
                        printf("Last track:     %u\n", last_track);
                        printf("Start address:  %" PRIu32 "\n", start);
                        printf("Next writable:  %" PRIu32 "\n", nwa);
                        char size[32];

                        format_bytes((uint64_t) free_blocks * IMAPI_DATA_BLOCK_SIZE, size, sizeof size);
                        printf("Free blocks:    %" PRIu32 " (%s)\n", free_blocks, size);
                }
        }
        recorder_info_done(&i);
        return 0;
}

int verb_eject(int argc, char *argv[], sd_bus *bus) {
        _cleanup_free_ char *path = NULL;
        int r, k;

        r = ctl_resolve_recorder(bus, argc > 1 ? argv[1] : NULL, &path);
        if (r != 0)
                return r;
        r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "OpenExclusive", NULL, "a{sv}", 0);
        if (r != 0)
                return r;
        r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "Eject", NULL, "a{sv}", 0);
        k = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "Close", NULL, "a{sv}", 0);
        return r != 0 ? r : k;
}

static int print_recorder_properties(sd_bus *bus, const char *path) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        JsonWriter w = { .f = stdout };
        int r;

        r = ctl_call(bus, path, IMAPI_RECORDER_INTERFACE, "GetRecorderProperties", &reply, NULL);
        if (r != 0)
                return r;
        if (arg.json)
                json_begin_object(&w, NULL);
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name;
                int32_t v;

                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "v", "i", &v);
                if (r < 0)
                        break;
                if (arg.json) {
                        char key[128];

                        json_key_from_name(name, key, sizeof key);
                        json_int(&w, key, v);
                } else
                        printf("%-26s %d\n", name, v);
                r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                fprintf(stderr, "imapictl: bad reply from imapid: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        if (arg.json)
                json_end_object(&w), json_finish(&w);
        return 0;
}

int verb_properties(int argc, char *argv[], sd_bus *bus) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        uint32_t hr;
        int r;

        if (argc < 2) {
                fprintf(stderr, "imapictl: properties needs a RECORDER (see 'imapictl devices').\n");
                return CTL_EXIT_USAGE;
        }
        r = ctl_resolve_recorder(bus, argv[1], &path);
        if (r != 0)
                return r;
        if (argc == 2)
                return print_recorder_properties(bus, path);

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, path, IMAPI_RECORDER_INTERFACE,
                                           "SetRecorderProperties");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (int i = 2; r >= 0 && i < argc; i++) {
                _cleanup_free_ char *name = NULL;
                const char *eq = strchr(argv[i], '=');
                char *end;
                long v;

                if (!eq || eq == argv[i]) {
                        fprintf(stderr, "imapictl: expected NAME=VALUE, got '%s'.\n", argv[i]);
                        return CTL_EXIT_USAGE;
                }
                name = strndup(argv[i], (size_t) (eq - argv[i]));
                errno = 0;
                v = strtol(eq + 1, &end, 0);
                if (errno || end == eq + 1 || *end || v < INT32_MIN || v > INT32_MAX) {
                        fprintf(stderr, "imapictl: %s: '%s' is not a number.\n", name, eq + 1);
                        return CTL_EXIT_USAGE;
                }
                r = sd_bus_message_append(m, "{sv}", name, "i", (int32_t) v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                fprintf(stderr, "imapictl: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                r = ctl_report_error("SetRecorderProperties", &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        if (sd_bus_message_read(reply, "u", &hr) >= 0 && hr == IMAPI_S_PROPERTIESIGNORED)
                fprintf(stderr, "imapictl: IMAPI_S_PROPERTIESIGNORED: 0x%08X: read-only or unknown properties "
                        "were ignored.\n", hr);
        return print_recorder_properties(bus, path);
}
