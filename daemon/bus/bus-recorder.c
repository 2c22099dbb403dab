/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.Recorder: the D-Bus adapter of a Recorder. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "bus/polkit.h"
#include "core/erase.h"
#include "core/recorder.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"

static BusDaemon *daemon_of(const Recorder *r) {
        return bus_daemon_of(r->manager);
}

static int caller_client(sd_bus_message *m, Recorder *r, bool create, Client **ret, sd_bus_error *error) {
        return bus_client_get(daemon_of(r), m, create, ret, error);
}

static int read_no_options(sd_bus_message *m, sd_bus_error *error) {
        return bus_read_options(m, NULL, NULL, NULL, error);
}

/* Holding a recorder keeps every other user from it: its own polkit action, asked before the
 * caller becomes a client. */
static int method_open_exclusive(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Recorder *r = userdata;
        BusPending *p;
        Client *c;
        int k;

        k = bus_read_options(m, allowed, polkit_option_cb, NULL, error);
        if (k < 0)
                return k;
        k = polkit_authorize(daemon_of(r), m, IMAPI_ACTION_OPEN_EXCLUSIVE, error);
        if (k < 0)
                return k;
        if (k == 0)
                return 1;       /* polkit is asked; the call comes back with the answer */
        k = caller_client(m, r, true, &c, error);
        if (k < 0)
                return k;
        p = bus_pending_new(m, NULL);
        if (!p)
                return -ENOMEM;
        /* The drive is read in a worker; the reply follows. */
        k = recorder_open_exclusive(r, c, bus_pending_done, p, &e);
        return bus_pending_return(p, k, &e, error);
}

static int method_close(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Recorder *r = userdata;
        Client *c = NULL;
        int k;

        k = read_no_options(m, error);
        if (k < 0)
                return k;
        (void) caller_client(m, r, false, &c, NULL);
        k = recorder_close(r, c, &e);
        if (k < 0)
                return bus_error_set_imapi(error, k, &e);
        return sd_bus_reply_method_return(m, NULL);
}

static int append_media_type(sd_bus_message *reply, void *result) {
        int type, flags;

        recorder_media_type(result, &type, &flags);
        return sd_bus_message_append(reply, "ii", type, flags);
}

static int append_media_info(sd_bus_message *reply, void *result) {
        const MediaInfo *mi = &((Recorder *) result)->media;

        return sd_bus_message_append(reply, "yyuuu", (uint8_t) MIN(mi->sessions, 255u),
                                     (uint8_t) MIN(mi->last_track, 255u), mi->start_address,
                                     mi->next_writable, mi->free_blocks);
}

/* Reads the disc again in a worker, for the client that holds the recorder; the reply follows. */
static int query_media(sd_bus_message *m, Recorder *r, bool need_medium, bus_reply_fn append,
                       sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Client *c = NULL;
        BusPending *p;
        int k;

        (void) caller_client(m, r, false, &c, NULL);
        p = bus_pending_new(m, append);
        if (!p)
                return -ENOMEM;
        k = recorder_query_media(r, c, need_medium, bus_pending_done, p, &e);
        if (k == 0) {
                /* A job has the drive: the media it last read, at once. */
                bus_pending_done(p, 0, NULL, r);
                return 1;
        }
        return bus_pending_return(p, k, &e, error);
}

static int method_query_media_type(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return query_media(m, userdata, false, append_media_type, error);
}

static int method_query_media_info(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return query_media(m, userdata, true, append_media_info, error);
}

/* The holder, and polkit's yes for the action: 1, 0 while polkit is asked, or < 0. */
static int check_holder_authorized(sd_bus_message *m, Recorder *r, const char *action, Client **ret,
                                   sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Client *c = NULL;
        int k;

        (void) caller_client(m, r, false, &c, NULL);
        k = recorder_check_owner(r, c, &e);
        if (k < 0)
                return bus_error_set_imapi(error, k, &e);
        *ret = c;
        return polkit_authorize(daemon_of(r), m, action, error);
}

static int method_eject(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Recorder *r = userdata;
        Client *c = NULL;
        BusPending *p;
        int k;

        k = bus_read_options(m, allowed, polkit_option_cb, NULL, error);
        if (k < 0)
                return k;
        k = check_holder_authorized(m, r, IMAPI_ACTION_EJECT, &c, error);
        if (k <= 0)
                return k < 0 ? k : 1;   /* 0: polkit is asked; the call comes back with the answer */
        p = bus_pending_new(m, NULL);
        if (!p)
                return -ENOMEM;
        /* The tray opens in a worker; the reply follows. */
        k = recorder_eject(r, c, bus_pending_done, p, &e);
        return bus_pending_return(p, k, &e, error);
}

static int erase_option(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        EraseFormat *f = userdata;
        const char *s;

        if (!streq(key, "format"))
                return polkit_option_cb(m, key, NULL, error);
        if (bus_read_string_variant(m, &s) < 0 || !(streq(s, "restricted-overwrite") || streq(s, "sequential")))
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                         "format must be \"restricted-overwrite\" or \"sequential\".");
        *f = streq(s, "sequential") ? ERASE_FORMAT_SEQUENTIAL : ERASE_FORMAT_OVERWRITE;
        return 0;
}

static int method_erase(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { "format", POLKIT_OPTION_NO_USER_INTERACTION, NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        EraseFormat format = ERASE_FORMAT_KEEP;
        Recorder *r = userdata;
        Client *c = NULL;
        BusPending *p;
        int full, k;

        k = sd_bus_message_read(m, "b", &full);
        if (k < 0)
                return k;
        k = bus_read_options(m, allowed, erase_option, &format, error);
        if (k < 0)
                return k;
        k = check_holder_authorized(m, r, IMAPI_ACTION_ERASE, &c, error);
        if (k <= 0)
                return k < 0 ? k : 1;   /* 0: polkit is asked; the call comes back with the answer */
        p = bus_pending_new(m, bus_master_reply_job);
        if (!p)
                return -ENOMEM;
        /* The disc is read in a worker; the job's path follows. */
        k = erase_start(r, c, full, format, bus_pending_done, p, &e);
        return bus_pending_return(p, k, &e, error);
}

static int append_recorder_properties(sd_bus_message *reply, Recorder *r) {
        int k;

        k = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (k < 0)
                return k;
        k = sd_bus_message_append(reply, "{sv}{sv}{sv}{sv}{sv}", "WriteSpeed", "i", recorder_write_speed_x(r),
                                  "MaxWriteSpeed", "i", recorder_max_write_speed_x(r), "AudioGapSize", "i",
                                  r->audio_gap, "BufferUnderrunFreeCapable", "i", recorder_buf_capable(r) ? -1 : 0,
                                  "EnableBufferUnderrunFree", "i", r->enable_buf);
        if (k < 0)
                return k;
        return sd_bus_message_close_container(reply);
}

/* IMAPI_E_DEVICE_NOTPRESENT for a recorder whose device has gone. */
static int check_present(Recorder *r, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        int k = recorder_check_present(r, &e);

        return k < 0 ? bus_error_set_imapi(error, k, &e) : 0;
}

static int method_get_recorder_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Recorder *r = userdata;
        int k;

        k = check_present(r, error);
        if (k < 0)
                return k;
        k = sd_bus_message_new_method_return(m, &reply);
        if (k < 0)
                return k;
        k = append_recorder_properties(reply, r);
        if (k < 0)
                return k;
        return sd_bus_send(NULL, reply, NULL);
}

/* One entry of SetRecorderProperties' dictionary; *ignored when it is not a writable property. */
static int read_setting(sd_bus_message *m, Recorder *r, RecorderSettings *s, bool *ignored,
                        sd_bus_error *error) {
        const char *name;
        int64_t v;
        int k;

        k = sd_bus_message_read(m, "s", &name);
        if (k < 0)
                return k;
        if (streq(name, "WriteSpeed") || streq(name, "AudioGapSize") || streq(name, "EnableBufferUnderrunFree")) {
                if (bus_read_integer_variant(m, &v) < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Property %s takes an integer.",
                                                 name);
                if (streq(name, "WriteSpeed"))
                        s->write_speed = v;
                else if (streq(name, "AudioGapSize"))
                        s->audio_gap = v;
                else
                        s->enable_buf = v;
                return 0;
        }
        if (streq(name, POLKIT_OPTION_NO_USER_INTERACTION)) {
                /* Not a property: how to ask polkit (polkit_authorize() reads it). A value that is
                 * no boolean is named, as bus_read_options() names it for the methods. */
                k = polkit_option_cb(m, name, NULL, error);
                if (k < 0 && !sd_bus_error_is_set(error))
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes a boolean.", name);
                return k;
        }
        /* Read-only (MaxWriteSpeed, BufferUnderrunFreeCapable) or unknown names are ignored, and
         * the caller is told so: IMAPI_S_PROPERTIESIGNORED. */
        log_debug("Recorder %s: ignoring property %s.", r->id, name);
        *ignored = true;
        return sd_bus_message_skip(m, "v");
}

static int method_set_recorder_properties(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Recorder *r = userdata;
        RecorderSettings s;
        bool ignored = false;
        Client *c = NULL;
        int k;

        /* Parse all of it, then check all of it: a bad value changes nothing. */
        recorder_get_settings(r, &s);
        k = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (k < 0)
                return k;
        while ((k = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                k = read_setting(m, r, &s, &ignored, error);
                if (k < 0)
                        return k;
                k = sd_bus_message_exit_container(m);
                if (k < 0)
                        return k;
        }
        if (k < 0)
                return k;
        k = sd_bus_message_exit_container(m);
        if (k < 0)
                return k;

        (void) caller_client(m, r, false, &c, NULL);
        k = recorder_check_settings(r, c, &s, &e);
        if (k < 0)
                return bus_error_set_imapi(error, k, &e);
        k = polkit_authorize(daemon_of(r), m, IMAPI_ACTION_SET_PROPERTIES, error);
        if (k < 0)
                return k;
        if (k == 0)
                return 1;       /* polkit is asked; the call comes back with the answer */
        recorder_apply_settings(r, &s);
        return sd_bus_reply_method_return(m, "u", ignored ? IMAPI_S_PROPERTIESIGNORED : IMAPI_S_OK);
}

static int method_get_guid(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        uint8_t guid[16];
        int k;

        k = check_present(userdata, error);
        if (k < 0)
                return k;
        recorder_guid(userdata, guid);
        k = sd_bus_message_new_method_return(m, &reply);
        if (k < 0)
                return k;
        k = sd_bus_message_append_array(reply, 'y', guid, sizeof guid);
        if (k < 0)
                return k;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_recorder_type(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int k = check_present(userdata, error);

        if (k < 0)
                return k;
        return sd_bus_reply_method_return(m, "i", recorder_type(userdata));
}

static int method_get_display_names(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        int k;

        k = check_present(r, error);
        if (k < 0)
                return k;
        return sd_bus_reply_method_return(m, "sss", drive_get_vendor(r->drive), drive_get_product(r->drive),
                                          drive_get_revision(r->drive));
}

static int method_get_base_pnp_id(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *id = NULL;
        int k;

        k = check_present(userdata, error);
        if (k < 0)
                return k;
        id = recorder_pnp_id(userdata);
        if (!id)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", id);
}

static int method_get_path(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int k = check_present(userdata, error);

        if (k < 0)
                return k;
        return sd_bus_reply_method_return(m, "s", drive_get_address(((Recorder *) userdata)->drive));
}

static int method_get_recorder_state(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        int k = check_present(userdata, error);

        if (k < 0)
                return k;
        return sd_bus_reply_method_return(m, "u", recorder_state(userdata));
}

/* Properties */

static int property_get_guid(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        uint8_t guid[16];

        recorder_guid(userdata, guid);
        return sd_bus_message_append_array(reply, 'y', guid, sizeof guid);
}

static int property_get_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        _cleanup_free_ char *pnp = NULL;
        const char *v = "";

        if (streq(property, "Id"))
                v = r->id;
        else if (streq(property, "Address") || streq(property, "Path"))
                v = drive_get_address(r->drive);
        else if (streq(property, "Device"))
                v = recorder_device(r);
        else if (streq(property, "Vendor"))
                v = drive_get_vendor(r->drive);
        else if (streq(property, "Product"))
                v = drive_get_product(r->drive);
        else if (streq(property, "Revision"))
                v = drive_get_revision(r->drive);
        else if (streq(property, "BasePnPID")) {
                pnp = recorder_pnp_id(r);
                if (!pnp)
                        return -ENOMEM;
                v = pnp;
        } else if (streq(property, "ExclusiveOwner"))
                v = r->owner ? r->owner->description : "";
        else if (streq(property, "CurrentProfileName"))
                v = r->media.profile_name;
        else if (streq(property, "MediaStatus"))
                v = drive_media_status_to_string(r->media.status);
        return sd_bus_message_append(reply, "s", v);
}

static int property_get_int(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        int type, flags, v = 0;

        recorder_media_type(r, &type, &flags);
        if (streq(property, "RecorderType"))
                v = recorder_type(r);
        else if (streq(property, "MediaType"))
                v = type;
        else if (streq(property, "MediaFlags"))
                v = flags;
        else if (streq(property, "WriteSpeed"))
                v = recorder_write_speed_x(r);
        else if (streq(property, "MaxWriteSpeed"))
                v = recorder_max_write_speed_x(r);
        return sd_bus_message_append(reply, "i", v);
}

static int property_get_uint(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        uint32_t v = 0;

        if (streq(property, "State"))
                v = recorder_state(r);
        else if (streq(property, "CurrentProfile"))
                v = r->media.profile;
        return sd_bus_message_append(reply, "u", v);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        int v = 0;

        if (streq(property, "MediaPresent"))
                v = !IN_SET(r->media.status, MEDIA_STATUS_NONE, MEDIA_STATUS_UNKNOWN);
        else if (streq(property, "MediaIncompleteSession"))
                v = r->media.incomplete_session;
        else if (streq(property, "BufferUnderrunFreeCapable"))
                v = recorder_buf_capable(r);
        else if (streq(property, "Present"))
                v = r->present;
        return sd_bus_message_append(reply, "b", v);
}

static int property_get_profiles(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;
        int k;

        k = sd_bus_message_open_container(reply, 'a', "(us)");
        if (k < 0)
                return k;
        for (size_t i = 0; i < r->n_profiles; i++) {
                k = sd_bus_message_append(reply, "(us)", r->profiles[i].number, r->profiles[i].name);
                if (k < 0)
                        return k;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_speeds(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Recorder *r = userdata;

        return sd_bus_message_append_array(reply, 'u', r->speeds, r->n_speeds * sizeof(uint32_t));
}

#define PROP(name, sig, getter) \
        SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)
#define CONST_PROP(name, sig, getter) SD_BUS_PROPERTY(name, sig, getter, 0, SD_BUS_VTABLE_PROPERTY_CONST)

const sd_bus_vtable bus_recorder_vtable[] = {
        SD_BUS_VTABLE_START(0),
        CONST_PROP("Id", "s", property_get_string),
        CONST_PROP("GUID", "ay", property_get_guid),
        CONST_PROP("Address", "s", property_get_string),
        CONST_PROP("Device", "s", property_get_string),
        CONST_PROP("Path", "s", property_get_string),
        CONST_PROP("Vendor", "s", property_get_string),
        CONST_PROP("Product", "s", property_get_string),
        CONST_PROP("Revision", "s", property_get_string),
        CONST_PROP("BasePnPID", "s", property_get_string),
        PROP("RecorderType", "i", property_get_int),
        PROP("State", "u", property_get_uint),
        PROP("ExclusiveOwner", "s", property_get_string),
        PROP("SupportedProfiles", "a(us)", property_get_profiles),
        PROP("CurrentProfile", "u", property_get_uint),
        PROP("CurrentProfileName", "s", property_get_string),
        PROP("MediaPresent", "b", property_get_bool),
        PROP("MediaType", "i", property_get_int),
        PROP("MediaFlags", "i", property_get_int),
        PROP("MediaStatus", "s", property_get_string),
        PROP("MediaIncompleteSession", "b", property_get_bool),
        PROP("WriteSpeeds", "au", property_get_speeds),
        PROP("WriteSpeed", "i", property_get_int),
        PROP("MaxWriteSpeed", "i", property_get_int),
        PROP("BufferUnderrunFreeCapable", "b", property_get_bool),
        PROP("Present", "b", property_get_bool),

        SD_BUS_METHOD_WITH_ARGS("OpenExclusive", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT,
                                method_open_exclusive, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Close", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_close,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryMediaType", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", media_type, "i", media_flags),
                                method_query_media_type, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryMediaInfo", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("y", sessions, "y", last_track, "u", start_address, "u",
                                              next_writable, "u", free_blocks),
                                method_query_media_info, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Eject", SD_BUS_ARGS("a{sv}", options), SD_BUS_NO_RESULT, method_eject,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Erase", SD_BUS_ARGS("b", full, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_erase, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRecorderProperties", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", properties),
                                method_get_recorder_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetRecorderProperties", SD_BUS_ARGS("a{sv}", properties),
                                SD_BUS_RESULT("u", hresult), method_set_recorder_properties,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRecorderGUID", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", guid), method_get_guid,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRecorderType", SD_BUS_NO_ARGS, SD_BUS_RESULT("i", type),
                                method_get_recorder_type, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetDisplayNames", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", vendor, "s", product, "s", revision),
                                method_get_display_names, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetBasePnPID", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", pnp_id),
                                method_get_base_pnp_id, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPath", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", path), method_get_path,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetRecorderState", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", state),
                                method_get_recorder_state, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("EraseComplete", SD_BUS_ARGS("u", hresult), 0),
        SD_BUS_VTABLE_END,
};

int bus_recorder_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error) {
        Recorder *r = bus_daemon_find_recorder(userdata, path);

        if (!r)
                return 0;
        *found = r;
        return 1;
}

int bus_recorder_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Manager *m = ((BusDaemon *) userdata)->manager;
        char **l;
        size_t k = 0;

        l = calloc(m->n_recorders + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        /* A removed recorder keeps answering on its path, but is no longer in the tree. */
        for (size_t i = 0; i < m->n_recorders; i++) {
                if (!m->recorders[i]->present)
                        continue;
                l[k] = bus_recorder_path(m->recorders[i]);
                if (!l[k++]) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}
