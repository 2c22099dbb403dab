/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes SetRecorderProperties' dictionary and value rules: bus-recorder.c's reader of one entry
 * (read_setting), looped as the method loops it, then recorder_check_settings() on a recorder
 * that nobody, the caller, or another client holds, or that a job uses. The first byte picks
 * the recorder's state; the rest is the a{sv} (fuzz-bus.h). Invariants: a refusal is named
 * (E_INVALIDARG for a value, DEVICE_STILL_IN_USE or DEVICE_NOTACCESSIBLE for a recorder that is
 * not the caller's to change), and refused values are exactly those out of the documented
 * ranges; "ignored" is reported exactly when an entry is not a writable property; the last value
 * of a property is the one that counts.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "bus/polkit.h"
#include "core/client.h"
#include "fuzz-adapters.h"
#include "fuzz-bus.h"
#include "hresult-bus.h"
#include "imapi-error.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "WriteSpeed", "AudioGapSize", "EnableBufferUnderrunFree", "MaxWriteSpeed",
                                    "BufferUnderrunFreeCapable", POLKIT_OPTION_NO_USER_INTERACTION,
                                    "writespeed", "" };

static bool writable(const char *key) {
        return streq(key, "WriteSpeed") || streq(key, "AudioGapSize") || streq(key, "EnableBufferUnderrunFree");
}

/* What the dictionary holds, read again after the reader: the last value of each property and
 * whether any entry is neither a property nor the polkit option. Only called on accepted input,
 * where every writable entry held an integer. */
static void expected(sd_bus_message *m, RecorderSettings *s, bool *ignored) {
        const char *key, *contents;
        int64_t v = 0;

        *ignored = false;
        fuzz_bus_rewind(m);
        while ((key = fuzz_bus_next_key(m, &contents))) {
                if (!writable(key))
                        *ignored = *ignored || !streq(key, POLKIT_OPTION_NO_USER_INTERACTION);
                else {
                        if (sd_bus_message_enter_container(m, 'v', contents) <= 0)
                                abort();
                        switch (contents[0]) {
#define INT(sig, ctype) case sig: { ctype x; if (sd_bus_message_read_basic(m, sig, &x) < 0) abort(); v = x; break; }
                        INT('y', uint8_t)
                        INT('n', int16_t)
                        INT('q', uint16_t)
                        INT('i', int32_t)
                        INT('u', uint32_t)
                        INT('x', int64_t)
                        INT('t', uint64_t)
#undef INT
                        default:
                                abort();        /* accepted, so it was an integer */
                        }
                        if (sd_bus_message_exit_container(m) < 0)
                                abort();
                        if (streq(key, "WriteSpeed"))
                                s->write_speed = v;
                        else if (streq(key, "AudioGapSize"))
                                s->audio_gap = v;
                        else
                                s->enable_buf = v;
                }
                fuzz_bus_end_entry(m);
        }
}

static bool in_range(const RecorderSettings *s) {
        return s->write_speed >= -1 && s->write_speed <= 1000 && s->audio_gap >= 0 &&
               s->audio_gap <= RECORDER_AUDIO_GAP_MAX && s->enable_buf >= -1 && s->enable_buf <= 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Client caller = { .n_ref = 1, .description = (char *) "caller" };
        Client other = { .n_ref = 1, .description = (char *) "other" };
        Recorder r = { .id = (char *) "fuzz", .present = true, .write_speed = -1, .audio_gap = 0 };
        FuzzInput in = { data, size };
        RecorderSettings s, want;
        bool ignored = false, want_ignored;
        size_t n_entries;
        uint8_t state;
        int k;

        log_set_max_level(LOG_EMERG - 1);
        (void) hresult_register_error_map();
        state = fuzz_byte(&in);
        r.owner = (state & 3) == 1 ? &caller : (state & 3) == 2 ? &other : NULL;
        r.busy = (state & 4) ? 1 : 0;
        if (fuzz_bus_options(&in, keys, ELEMENTSOF(keys), &m, &n_entries) < 0 || !m)
                return 0;

        /* As method_set_recorder_properties() reads it: all of it, then all of it checked. */
        recorder_get_settings(&r, &s);
        want = s;
        if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
                abort();
        while ((k = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                k = fuzz_read_setting(m, &r, &s, &ignored, &error);
                if (k < 0)
                        break;
                if (sd_bus_message_exit_container(m) < 0)
                        abort();
        }
        if (k == -ENOMEM)
                return 0;
        if (k < 0) {
                /* A value that is no integer, and a polkit option that is no boolean, are
                 * E_INVALIDARG by name. */
                if (!sd_bus_error_is_set(&error))
                        abort();
                if (hresult_from_bus_error(&error) != IMAPI_E_INVALIDARG)
                        abort();
                return 0;
        }
        if (sd_bus_message_exit_container(m) < 0 || sd_bus_error_is_set(&error))
                abort();

        expected(m, &want, &want_ignored);
        if (want.write_speed != s.write_speed || want.audio_gap != s.audio_gap || want.enable_buf != s.enable_buf)
                abort();
        if (want_ignored != ignored)
                abort();

        k = recorder_check_settings(&r, &caller, &s, &e);
        if (!in_range(&s)) {
                if (k >= 0 || e.hresult != IMAPI_E_INVALIDARG || !e.message)
                        abort();
        } else if (r.owner == &other) {
                if (k >= 0 || e.hresult != IMAPI_E_DEVICE_STILL_IN_USE)
                        abort();
        } else if (r.busy) {
                if (k >= 0 || e.hresult != IMAPI_E_DEVICE_NOTACCESSIBLE)
                        abort();
        } else if (k < 0)
                abort();
        return 0;
}
