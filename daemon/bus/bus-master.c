/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.DiscMaster and .JolietDiscMaster: the D-Bus adapter of a Master. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "hresult.h"
#include "core/job.h"
#include "jolietname.h"
#include "log.h"
#include "macro.h"
#include "core/master.h"
#include "bus/polkit.h"
#include "core/recorder.h"
#include "core/burn-data.h"

/* Only the client that created a disc master may use it (root may look). */
static int check_caller(sd_bus_message *msg, Master *m, Client **ret, sd_bus_error *error) {
        Client *c = NULL;

        (void) daemon_get_client(m->daemon, msg, false, &c, NULL);
        if (!c || c != m->owner)
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED, "Disc master %u belongs to another client.",
                                         m->id);
        if (ret)
                *ret = c;
        return 0;
}

static int method_open(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_open(m, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_close(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        /* The reply waits until the stash is removed and unlocked (in a worker: 100,000 staged
         * files take a second); it needs only the message, not the object that goes away. */
        r = master_close(m, msg, error);
        if (r < 0)
                return r;
        if (r > 0)
                return 1;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_enum_formats(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r >= 0)
                r = master_check_opened(m, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "as", 2, IMAPI_IID_IJOLIETDISCMASTER, IMAPI_IID_IREDBOOKDISCMASTER);
}

static int method_get_format(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r >= 0)
                r = master_check_opened(m, error);
        if (r < 0)
                return r;
        if (m->format == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_NOACTIVEFORMAT, "Disc master %u has no active format.", m->id);
        return sd_bus_reply_method_return(msg, "s", master_format_to_iid(m->format));
}

static int method_set_format(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        const char *format;
        int r;

        r = sd_bus_message_read(msg, "s", &format);
        if (r < 0)
                return r;
        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_set_format(m, format, msg, error);
        if (r < 0)
                return r;
        if (r > 0)
                return 1;       /* answered once the staged files are deleted */
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_enum_recorders(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Master *m = userdata;
        MasterFormat f;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r >= 0)
                r = master_check_opened(m, error);
        if (r < 0)
                return r;
        /* IMAPI: "if there is no format set, the default is Joliet". */
        f = m->format == MASTER_FORMAT_NONE ? MASTER_FORMAT_JOLIET : m->format;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "o");
        for (size_t i = 0; r >= 0 && i < m->daemon->n_recorders; i++)
                if (master_recorder_supports(m, m->daemon->recorders[i], f))
                        r = sd_bus_message_append(reply, "o", m->daemon->recorders[i]->path);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_recorder(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r >= 0)
                r = master_check_opened(m, error);
        if (r < 0)
                return r;
        if (m->format == MASTER_FORMAT_NONE)
                return bus_error_hresult(error, IMAPI_E_NOACTIVEFORMAT, "Disc master %u has no active format.", m->id);
        if (!m->recorder)
                return bus_error_hresult(error, IMAPI_E_NOACTIVERECORDER, "Disc master %u has no active recorder.",
                                         m->id);
        if (!m->recorder->present)
                return bus_error_hresult(error, IMAPI_E_DEVICE_NOTPRESENT, "Recorder %s has been removed.",
                                         m->recorder->id);
        return sd_bus_reply_method_return(msg, "o", m->recorder->path);
}

static int bool_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        if (bus_read_bool_variant(msg, userdata) < 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Option '%s' takes a boolean.", key);
        return 0;
}

static int method_set_recorder(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { "replace", NULL };
        Master *m = userdata;
        const char *path;
        bool replace = false;
        Recorder *rec;
        int r;

        r = sd_bus_message_read(msg, "o", &path);
        if (r < 0)
                return r;
        r = bus_read_options(msg, allowed, bool_option, &replace, error);
        if (r < 0)
                return r;
        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        rec = daemon_find_recorder_by_path(m->daemon, path);
        if (!rec) {
                r = master_check_opened(m, error);
                if (r < 0)
                        return r;
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s is not a recorder.", path);
        }
        r = master_set_recorder(m, rec, replace, msg, error);
        if (r < 0)
                return r;
        if (r > 0)
                return 1;       /* the drive is read in a worker; the call comes back */
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_clear(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_clear(m, msg, error);
        if (r < 0)
                return r;
        if (r > 0)
                return 1;       /* answered once the staged files are deleted */
        return sd_bus_reply_method_return(msg, NULL);
}

static int record_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        RecordOptions *o = userdata;
        int64_t v;
        bool b;
        int r;

        if (streq(key, POLKIT_OPTION_NO_USER_INTERACTION))
                return polkit_option_cb(msg, key, NULL, error);
        if (streq(key, "verify") || streq(key, "close") || streq(key, "replace")) {
                r = bool_option(msg, key, &b, error);
                if (r < 0)
                        return r;
                if (streq(key, "verify"))
                        o->verify = b;
                else if (streq(key, "close"))
                        o->close_disc = b;
                else
                        o->replace = b;
                return 0;
        }
        if (streq(key, "write_mode")) {
                const char *s;

                /* Audio only: disc-at-once (the default) or track-at-once. */
                if (bus_read_string_variant(msg, &s) < 0 || !(streq(s, "sao") || streq(s, "tao")))
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "write_mode must be \"sao\" or \"tao\".");
                o->tao = streq(s, "tao");
                return 0;
        }
        r = bus_read_integer_variant(msg, &v);
        if (r < 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Option '%s' takes an integer.", key);
        if (streq(key, "iso_level")) {
                if (v < 1 || v > 3)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "iso_level must be 1, 2 or 3.");
                o->iso_level = (int) v;
        } else if (streq(key, "write_speed_kbps")) {
                if (v < 0 || v > 1000000)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "write_speed_kbps must be 0 to 1000000.");
                o->write_speed_kbps = (int) v;
        } else {
                if (v < 0 || v > 1000)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "write_speed must be 0 to 1000 (times).");
                o->write_speed = (int) v;
        }
        return 0;
}

static int method_record_disc(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { "verify", "close", "replace", "iso_level", "write_speed",
                                               "write_speed_kbps", "write_mode", POLKIT_OPTION_NO_USER_INTERACTION,
                                               NULL };
        RecordOptions o = { .verify = true };
        Master *m = userdata;
        const char *job;
        int simulate, eject, r;
        Client *c = NULL;

        r = sd_bus_message_read(msg, "bb", &simulate, &eject);
        if (r < 0)
                return r;
        r = bus_read_options(msg, allowed, record_option, &o, error);
        if (r < 0)
                return r;
        o.simulate = simulate;
        o.eject = eject;
        r = check_caller(msg, m, &c, error);
        if (r < 0)
                return r;
        r = daemon_authorize(m->daemon, msg, IMAPI_ACTION_BURN, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;       /* polkit is asked; the call comes back with the answer */
        r = master_record_disc(m, c, msg, &o, &job, error);
        if (r < 0)
                return r;
        if (r > 0)
                return 1;       /* the drive is read in a worker; the call comes back */
        return sd_bus_reply_method_return(msg, "o", job);
}

static int property_get_master(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Master *m = userdata;

        if (streq(property, "Owner"))
                return sd_bus_message_append(reply, "s", m->owner ? m->owner->description : "");
        if (streq(property, "Opened"))
                return sd_bus_message_append(reply, "b", m->opened && !m->closing);
        if (streq(property, "ActiveFormat"))
                return sd_bus_message_append(reply, "s", master_format_to_iid(m->format));
        if (streq(property, "ActiveRecorder"))
                return sd_bus_message_append(reply, "o", m->recorder ? m->recorder->path : "/");
        if (streq(property, "Job"))
                return sd_bus_message_append(reply, "o", m->recording || m->audio_recording ?
                                             master_recording_job_path(m) : "/");
        return -EINVAL;
}

const sd_bus_vtable master_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Owner", "s", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Opened", "b", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveFormat", "s", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ActiveRecorder", "o", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Job", "o", property_get_master, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Open", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_open,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_close,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnumDiscMasterFormats", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", formats),
                                method_enum_formats, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetActiveDiscMasterFormat", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", format),
                                method_get_format, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetActiveDiscMasterFormat", SD_BUS_ARGS("s", format, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_set_format, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("EnumDiscRecorders", SD_BUS_NO_ARGS, SD_BUS_RESULT("ao", recorders),
                                method_enum_recorders, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetActiveDiscRecorder", SD_BUS_NO_ARGS, SD_BUS_RESULT("o", recorder),
                                method_get_recorder, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetActiveDiscRecorder", SD_BUS_ARGS("o", recorder, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_set_recorder, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ClearFormatContent", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_clear,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RecordDisc", SD_BUS_ARGS("b", simulate, "b", eject_after, "a{sv}", options),
                                SD_BUS_RESULT("o", job), method_record_disc, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("PnPActivity", NULL, 0),
        SD_BUS_SIGNAL_WITH_ARGS("AddProgress", SD_BUS_ARGS("i", completed, "i", total), 0),
        SD_BUS_SIGNAL_WITH_ARGS("BlockProgress", SD_BUS_ARGS("i", completed, "i", total), 0),
        SD_BUS_SIGNAL_WITH_ARGS("TrackProgress", SD_BUS_ARGS("i", current_track, "i", total_tracks), 0),
        SD_BUS_SIGNAL_WITH_ARGS("PreparingBurn", SD_BUS_ARGS("i", estimated_seconds), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ClosingDisc", SD_BUS_ARGS("i", estimated_seconds), 0),
        SD_BUS_SIGNAL_WITH_ARGS("BurnComplete", SD_BUS_ARGS("u", hresult), 0),
        SD_BUS_VTABLE_END,
};

/* JolietDiscMaster */

static int method_add_data(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_add_data(m, msg, error);
        /* 1: the reply follows when the copy is done. */
        return r < 0 ? r : 1;
}

static int check_joliet(sd_bus_message *msg, Master *m, sd_bus_error *error) {
        int r = check_caller(msg, m, NULL, error);

        return r < 0 ? r : master_check_format(m, MASTER_FORMAT_JOLIET, error);
}

static int method_get_joliet_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Master *m = userdata;
        int r;

        r = check_joliet(msg, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "a{sv}", 5, "VolumeName", "s", m->volume_name,
                                          "PlaceBootImageOnDisc", "b", 0, "BootImageManufacturerIDString", "s", "",
                                          "BootImagePlatform", "y", 0, "BootImageEmulationType", "y", 0);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static bool volume_name_valid(const char *s) {
        size_t units = 0;

        if (!*s || strchr(s, '/') || joliet_name_check(s, NULL, NULL) != JOLIET_NAME_OK)
                return false;
        /* UTF-16 code units; characters beyond U+FFFF do not fit a volume id. */
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p >= 0xF0)
                        return false;
                if ((*p & 0xC0) != 0x80)
                        units++;
        }
        return units <= JOLIET_VOLUME_NAME_MAX;
}

static int method_set_joliet_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *volume = NULL;
        Master *m = userdata;
        bool ignored = false;
        int r;

        r = check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *name, *s;
                int64_t v;
                bool b;

                r = sd_bus_message_read(msg, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "VolumeName")) {
                        if (bus_read_string_variant(msg, &s) < 0 || !volume_name_valid(s))
                                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                         "VolumeName must be 1 to %d characters, valid in a "
                                                         "Joliet name.", JOLIET_VOLUME_NAME_MAX);
                        free(volume);
                        volume = strdup(s);
                        if (!volume)
                                return -ENOMEM;
                } else if (streq(name, "PlaceBootImageOnDisc")) {
                        if (bus_read_bool_variant(msg, &b) < 0)
                                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes a boolean.", name);
                        if (b)
                                return bus_error_hresult(error, IMAPI_E_NOTIMPL, "Bootable discs are not supported yet.");
                } else if (streq(name, "BootImagePlatform") || streq(name, "BootImageEmulationType")) {
                        if (bus_read_integer_variant(msg, &v) < 0)
                                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes an integer.", name);
                        if (v != 0)
                                return bus_error_hresult(error, IMAPI_E_NOTIMPL, "Bootable discs are not supported yet.");
                } else if (streq(name, "BootImageManufacturerIDString") || streq(name, "BootImage")) {
                        return bus_error_hresult(error, IMAPI_E_NOTIMPL, "Bootable discs are not supported yet.");
                } else {
                        r = sd_bus_message_skip(msg, "v");
                        if (r < 0)
                                return r;
                        ignored = true;
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;

        r = check_joliet(msg, m, error);
        if (r < 0)
                return r;
        if (volume) {
                free(m->volume_name);
                m->volume_name = TAKE_PTR(volume);
        }
        return sd_bus_reply_method_return(msg, "u", ignored ? IMAPI_S_PROPERTIESIGNORED : IMAPI_S_OK);
}

static int property_get_joliet(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int32_t v = 0;

        /* IMAPI: valid only after SetActiveDiscRecorder; 0 before. */
        if (streq(property, "TotalDataBlocks"))
                v = m->recorder ? (int32_t) MIN(m->total_blocks, (uint32_t) INT32_MAX) : 0;
        else if (streq(property, "UsedDataBlocks"))
                v = (int32_t) master_used_blocks(m);
        else if (streq(property, "DataBlockSize"))
                v = IMAPI_DATA_BLOCK_SIZE;
        return sd_bus_message_append(reply, "i", v);
}

const sd_bus_vtable joliet_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TotalDataBlocks", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsedDataBlocks", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DataBlockSize", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("AddData", SD_BUS_ARGS("a(sh)", entries, "b", overwrite, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_add_data, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetJolietProperties", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", properties),
                                method_get_joliet_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetJolietProperties", SD_BUS_ARGS("a{sv}", properties), SD_BUS_RESULT("u", hresult),
                                method_set_joliet_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int master_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error) {
        Master *m = daemon_find_master_by_path(userdata, path);

        if (!m || m->closing)
                return 0;
        *found = m;
        return 1;
}

int master_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        char **l = calloc(d->n_masters + 1, sizeof(char *));
        size_t k = 0;

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_masters; i++) {
                if (d->masters[i]->closing)
                        continue;
                if (!(l[k++] = strdup(d->masters[i]->path))) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}
