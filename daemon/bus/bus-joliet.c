/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.JolietDiscMaster: the D-Bus adapter of a Master's data staging. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-error.h"
#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "core/master.h"
#include "hresult-bus.h"
#include "macro.h"

/* AddData's a(sh): names point into the message, and the message owns the fds, so both stay
 * valid while the call is pending. */
static int read_entries(sd_bus_message *msg, MasterAddEntry **ret, size_t *ret_n, sd_bus_error *error) {
        _cleanup_free_ MasterAddEntry *l = NULL;
        size_t n = 0, allocated = 0;
        const char *name;
        int fd, r;

        r = sd_bus_message_enter_container(msg, 'a', "(sh)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'r', "sh")) > 0) {
                /* sd-bus refuses what the bus lets through: noncharacters (U+FFFE, U+FFFF,
                 * U+10FFFF, ...) in a string, an fd index past the message's fds. Both are
                 * the client's mistakes, and get names. */
                r = sd_bus_message_read_basic(msg, 's', &name);
                if (r < 0)
                        return bus_error_hresult(error, IMAPI_E_BADJOLIETNAME,
                                                 "Entry %zu cannot be a name on the disc: it holds a "
                                                 "noncharacter or is not valid UTF-8.", n + 1);
                r = sd_bus_message_read_basic(msg, 'h', &fd);
                if (r < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "Entry %zu ('%s') has no file descriptor: its index is "
                                                 "past the %s the message carries.", n + 1, name, "fds");
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
                if (n >= MASTER_ADD_BATCH_MAX)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                 "At most %d entries may be added in "
                                                 "one call.", MASTER_ADD_BATCH_MAX);
                if (n == allocated) {
                        MasterAddEntry *m;

                        allocated = allocated ? allocated * 2 : 16;
                        m = realloc(l, allocated * sizeof(MasterAddEntry));
                        if (!m)
                                return -ENOMEM;
                        l = m;
                }
                l[n++] = (MasterAddEntry) { .name = name, .fd = fd };
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        *ret_n = n;
        return 0;
}

static int method_add_data(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        _cleanup_free_ MasterAddEntry *entries = NULL;
        Master *m = userdata;
        int overwrite, r;
        BusPending *p;
        size_t n = 0;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = read_entries(msg, &entries, &n, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "b", &overwrite);
        if (r < 0)
                return r;
        r = bus_read_options(msg, NULL, NULL, NULL, error);
        if (r < 0)
                return r;
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        /* The reply follows when the copy is done. */
        r = master_add_data(m, entries, n, overwrite, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int check_joliet(sd_bus_message *msg, Master *m, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        int r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_check_format(m, MASTER_FORMAT_JOLIET, &e);
        return r < 0 ? bus_error_set_imapi(error, r, &e) : 0;
}

static int method_get_joliet_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Master *m = userdata;
        int r;

        r = check_joliet(msg, m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        /* BootImage is an IStream in IMAPI: here the staged image's size in bytes, 0 without one. */
        if (r >= 0)
                r = sd_bus_message_append(reply, "a{sv}", 7, "VolumeName", "s", m->volume_name,
                                          "StrictJolietNames", "b", !m->adapt_names,
                                          "PlaceBootImageOnDisc", "b", (int) m->staging.boot.place,
                                          "BootImageManufacturerIDString", "s", m->staging.boot.manufacturer,
                                          "BootImagePlatform", "y", m->staging.boot.platform,
                                          "BootImageEmulationType", "y", m->staging.boot.emulation,
                                          "BootImageSize", "t", m->staging.boot.size);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* One entry of SetJolietProperties' dictionary: the volume name into *volume (pointing into the
 * message), StrictJolietNames into *strict (0 or 1; left -1 if absent), the boot properties
 * into *boot, each value checked; *ignored for names it does not know. */
static int read_property(sd_bus_message *msg, const char **volume, int *strict, MasterBootChange *boot,
                         bool *ignored, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        const char *name, *s;
        int64_t v;
        bool b;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (streq(name, "VolumeName")) {
                if (bus_read_string_variant(msg, &s) < 0)
                        s = "";
                r = master_check_volume_name(s, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
                *volume = s;
        } else if (streq(name, "StrictJolietNames")) {
                if (bus_read_bool_variant(msg, &b) < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes a boolean.", name);
                *strict = b;
        } else if (streq(name, "PlaceBootImageOnDisc")) {
                if (bus_read_bool_variant(msg, &b) < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes a boolean.", name);
                boot->place = b;
        } else if (streq(name, "BootImagePlatform") || streq(name, "BootImageEmulationType")) {
                bool platform = streq(name, "BootImagePlatform");

                if (bus_read_integer_variant(msg, &v) < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes an integer.", name);
                r = platform ? master_check_boot_platform(v, &e) : master_check_boot_emulation(v, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
                *(platform ? &boot->platform : &boot->emulation) = (int) v;
        } else if (streq(name, "BootImageManufacturerIDString")) {
                if (bus_read_string_variant(msg, &s) < 0)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s takes a string.", name);
                r = master_check_boot_manufacturer(s, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
                boot->manufacturer = s;
        } else if (streq(name, "BootImage"))
                /* An IStream in IMAPI; a file descriptor here, which the copy into the stash needs
                 * a call of its own for. */
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                         "The boot image is passed as a file descriptor with SetBootImage.");
        else {
                *ignored = true;
                return sd_bus_message_skip(msg, "v");
        }
        return 0;
}

static int method_set_joliet_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        MasterBootChange boot = MASTER_BOOT_CHANGE_NONE;
        const char *volume = NULL;
        Master *m = userdata;
        bool ignored = false, was_strict;
        int strict = -1, r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                r = read_property(msg, &volume, &strict, &boot, &ignored, error);
                if (r < 0)
                        return r;
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
        /* All or nothing: StrictJolietNames and the boot properties can still be refused, the
         * volume name no more. A refused boot property puts StrictJolietNames back as it was,
         * which cannot fail: nothing was staged in between. */
        was_strict = !m->adapt_names;
        if (strict >= 0) {
                r = master_set_strict_joliet_names(m, strict, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
        }
        r = master_set_boot_properties(m, &boot, &e);
        if (r < 0) {
                if (strict >= 0)
                        (void) master_set_strict_joliet_names(m, was_strict, NULL);
                return bus_error_set_imapi(error, r, &e);
        }
        if (volume) {
                r = master_set_volume_name(m, volume, &e);
                if (r < 0)
                        return bus_error_set_imapi(error, r, &e);
        }
        return sd_bus_reply_method_return(msg, "u", ignored ? IMAPI_S_PROPERTIESIGNORED : IMAPI_S_OK);
}

static int method_get_adapted_names(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        JolietAdaptation *a = NULL;
        Master *m = userdata;
        size_t n = 0;
        int r;

        r = check_joliet(msg, m, error);
        if (r < 0)
                return r;
        r = master_adapted_names(m, &a, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(reply, "(ss)", a[i].path, a[i].joliet_path);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        joliet_adaptations_free(a, n);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_set_boot_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* The reply follows when the image is in the stash. */
        return bus_master_fd_method(msg, userdata, master_set_boot_image, error);
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

const sd_bus_vtable bus_joliet_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TotalDataBlocks", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsedDataBlocks", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DataBlockSize", "i", property_get_joliet, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("AddData", SD_BUS_ARGS("a(sh)", entries, "b", overwrite, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_add_data, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetJolietProperties", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", properties),
                                method_get_joliet_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAdaptedNames", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ss)", names),
                                method_get_adapted_names, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetBootImage", SD_BUS_ARGS("h", fd, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_set_boot_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetJolietProperties", SD_BUS_ARGS("a{sv}", properties), SD_BUS_RESULT("u", hresult),
                                method_set_joliet_properties, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
