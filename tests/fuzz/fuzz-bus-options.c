/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes the option dictionaries of the bus layer: bus_read_options() with the readers of
 * RecordDisc, Erase and SetActiveDiscRecorder, the methods that take no options, and the
 * variant readers (bus-util.c) on their own. The first byte picks which; the rest is the a{sv}
 * (fuzz-bus.h). Invariants: a refusal is always a named E_INVALIDARG, never a bare errno
 * (that would reach the client as a generic error); an accepted dictionary holds only allowed
 * keys, is read to its end, and leaves values in their documented ranges; a variant reader
 * accepts exactly the types it documents.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/bus-util.h"
#include "bus/polkit.h"
#include "fuzz-adapters.h"
#include "fuzz-bus.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* As the methods in bus-master.c and bus-recorder.c allow them. */
static const char *const record_allowed[] = { "verify", "close", "replace", "iso_level", "write_speed",
                                              "write_speed_kbps", "write_mode",
                                              POLKIT_OPTION_NO_USER_INTERACTION, NULL };
static const char *const erase_allowed[] = { "format", POLKIT_OPTION_NO_USER_INTERACTION, NULL };
static const char *const recorder_allowed[] = { "replace", NULL };
/* Keys the fuzzer offers besides its own strings: the allowed ones, and near misses. */
static const char *const keys[] = { "verify", "close", "replace", "iso_level", "write_speed",
                                    "write_speed_kbps", "write_mode", POLKIT_OPTION_NO_USER_INTERACTION,
                                    "format", "Verify", "" };

static bool allowed_key(const char *const *allowed, const char *key) {
        for (const char *const *a = allowed; a && *a; a++)
                if (streq(*a, key))
                        return true;
        return false;
}

/* After an accepted dictionary: every key was allowed, and nothing is left unread. */
static void check_accepted(sd_bus_message *m, const char *const *allowed) {
        const char *key, *contents;

        if (sd_bus_message_at_end(m, true) <= 0)
                abort();
        fuzz_bus_rewind(m);
        while ((key = fuzz_bus_next_key(m, &contents))) {
                if (!allowed_key(allowed, key))
                        abort();
                fuzz_bus_end_entry(m);
        }
}

static void check_refused(int r, const sd_bus_error *error) {
        if (r >= 0 || !sd_bus_error_is_set(error))
                abort();
        if (hresult_from_bus_error(error) != IMAPI_E_INVALIDARG)
                abort();
}

static void fuzz_options(sd_bus_message *m, uint8_t mode, size_t n_entries) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        RecordOptions o = { .verify = true };
        EraseFormat format = ERASE_FORMAT_KEEP;
        const char *const *allowed;
        bool replace = false;
        int r;

        switch (mode) {
        case 0:
                allowed = record_allowed;
                r = bus_read_options(m, allowed, fuzz_record_option, &o, &error);
                break;
        case 1:
                allowed = erase_allowed;
                r = bus_read_options(m, allowed, fuzz_erase_option, &format, &error);
                break;
        case 2:
                allowed = recorder_allowed;
                r = bus_read_options(m, allowed, fuzz_bool_option, &replace, &error);
                break;
        default:
                /* AddData, Close, ClearFormatContent, SetActiveFormat, ...: no options at all. */
                allowed = NULL;
                r = bus_read_options(m, NULL, NULL, NULL, &error);
                if ((r >= 0) != (n_entries == 0))
                        abort();
                break;
        }
        if (r == -ENOMEM)
                return;
        if (r < 0) {
                check_refused(r, &error);
                return;
        }
        if (sd_bus_error_is_set(&error))
                abort();
        check_accepted(m, allowed);
        if (o.iso_level < 0 || o.iso_level > 3 || o.write_speed < 0 || o.write_speed > 1000 ||
            o.write_speed_kbps < 0 || o.write_speed_kbps > 1000000)
                abort();
        if (format != ERASE_FORMAT_KEEP && format != ERASE_FORMAT_OVERWRITE && format != ERASE_FORMAT_SEQUENTIAL)
                abort();
}

static bool is_integer_type(const char *contents) {
        return contents && strlen(contents) == 1 && strchr("ynqiuxt", contents[0]);
}

/* The variant readers, entry by entry, against the type each entry's variant has. */
static void fuzz_variants(sd_bus_message *m) {
        const char *key, *contents, *s;
        char type;
        int64_t v;
        bool b;
        int r;

        if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
                abort();
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        abort();
                if (sd_bus_message_peek_type(m, &type, &contents) <= 0 || type != 'v')
                        abort();
                /* The key says which reader: a client's key picks the reader for that option. */
                switch (strlen(key) % 3) {
                case 0:
                        r = bus_read_integer_variant(m, &v);
                        /* A uint64 past INT64_MAX is the one integer it refuses. */
                        if (r == -ERANGE ? !streq(contents, "t") : (r >= 0) != is_integer_type(contents))
                                abort();
                        break;
                case 1:
                        r = bus_read_bool_variant(m, &b);
                        if (r >= 0 && !streq(contents, "b") && !is_integer_type(contents))
                                abort();
                        if (r < 0 && streq(contents, "b"))
                                abort();
                        break;
                default:
                        r = bus_read_string_variant(m, &s);
                        if ((r >= 0) != streq(contents, "s"))
                                abort();
                        if (r >= 0 && !s)
                                abort();
                        break;
                }
                /* A reader that refused may or may not have read the variant: the handlers
                 * give up on the message then, the fuzzer only moves on to the next entry. */
                if (r < 0 && sd_bus_message_peek_type(m, &type, NULL) > 0 && sd_bus_message_skip(m, "v") < 0)
                        abort();
                if (sd_bus_message_exit_container(m) < 0)
                        abort();
        }
        if (sd_bus_message_exit_container(m) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        FuzzInput in = { data, size };
        size_t n_entries;
        uint8_t mode;

        log_set_max_level(LOG_EMERG - 1);
        (void) hresult_register_error_map();
        mode = fuzz_byte(&in) % 5;
        if (fuzz_bus_options(&in, keys, ELEMENTSOF(keys), &m, &n_entries) < 0 || !m)
                return 0;
        if (mode == 4)
                fuzz_variants(m);
        else
                fuzz_options(m, mode, n_entries);
        return 0;
}
