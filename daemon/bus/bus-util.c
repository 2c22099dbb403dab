/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading variants and option dictionaries the same way in every method handler. */

#include <errno.h>
#include <string.h>

#include "bus/bus-util.h"
#include "hresult-bus.h"
#include "macro.h"

int bus_read_integer_variant(sd_bus_message *m, int64_t *ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type != SD_BUS_TYPE_VARIANT || !contents || strlen(contents) != 1)
                return -EINVAL;

        switch (contents[0]) {
#define READ(sig, ctype)                                                        \
        case sig: {                                                             \
                ctype v;                                                        \
                r = sd_bus_message_read(m, "v", (char[]) { sig, 0 }, &v);      \
                if (r < 0)                                                      \
                        return r;                                               \
                *ret = (int64_t) v;                                             \
                return 0;                                                       \
        }
                READ('y', uint8_t)
                READ('n', int16_t)
                READ('q', uint16_t)
                READ('i', int32_t)
                READ('u', uint32_t)
                READ('x', int64_t)
#undef READ
        case 't': {
                uint64_t v;

                r = sd_bus_message_read(m, "v", "t", &v);
                if (r < 0)
                        return r;
                if (v > INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) v;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

int bus_read_bool_variant(sd_bus_message *m, bool *ret) {
        const char *contents;
        char type;
        int64_t v;
        int b, r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type != SD_BUS_TYPE_VARIANT || !contents)
                return -EINVAL;
        if (streq(contents, "b")) {
                r = sd_bus_message_read(m, "v", "b", &b);
                if (r < 0)
                        return r;
                *ret = b;
                return 0;
        }
        r = bus_read_integer_variant(m, &v);
        if (r < 0)
                return r;
        /* IMAPI's VT_BOOL: -1 is true. */
        if (v != 0 && v != 1 && v != -1)
                return -EINVAL;
        *ret = v != 0;
        return 0;
}

int bus_read_string_variant(sd_bus_message *m, const char **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (type != SD_BUS_TYPE_VARIANT || !streq_ptr(contents, "s"))
                return -EINVAL;
        return sd_bus_message_read(m, "v", "s", ret);
}

int bus_read_options(sd_bus_message *m, const char *const *allowed, bus_option_cb cb, void *userdata,
                     sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key;
                bool known = false;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                for (const char *const *a = allowed; a && *a; a++)
                        known = known || streq(*a, key);
                if (!known)
                        return bus_error_hresult(error, IMAPI_E_INVALIDARG, "Unknown option '%s'.", key);
                r = cb(m, key, userdata, error);
                if (r < 0) {
                        if (!sd_bus_error_is_set(error))
                                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                                         "Invalid value for option '%s'.", key);
                        return r;
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static bus_uid_lookup_fn uid_lookup;
static bus_sender_uid_lookup_fn sender_uid_lookup;

void bus_set_uid_lookup(bus_uid_lookup_fn fn) {
        uid_lookup = fn;
}

void bus_set_sender_uid_lookup(bus_sender_uid_lookup_fn fn) {
        sender_uid_lookup = fn;
}

int bus_message_get_uid(sd_bus_message *m, uid_t *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *sender = sd_bus_message_get_sender(m);
        int r;

        if (uid_lookup) {
                r = uid_lookup(bus, ret);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        /* Never the bus' GetConnectionCredentials, which sd-bus would wait for on the loop. */
        if (sender)
                return sender_uid_lookup ? sender_uid_lookup(bus, sender, ret) : -ENXIO;
        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        return sd_bus_creds_get_euid(creds, ret);
}

int bus_message_requeue(sd_bus_message *m) {
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        return sd_bus_enqueue_for_read(sd_bus_message_get_bus(m), m);
}
