/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes SetJolietProperties' dictionary: bus-joliet.c's reader of one entry (read_property),
 * looped as the method loops it, with the volume-name rule of the core behind it. The input is
 * the a{sv} (fuzz-bus.h). Invariants: a refusal is named E_INVALIDARG; accepted boot values are
 * in IMAPI's ranges (a platform of El Torito's, an emulation type 0..4, an ID string of at most
 * 24 printable ASCII bytes) and pass the core's checks again; an accepted volume name is the
 * dictionary's last
 * VolumeName, 1 to 16 characters of the Basic Multilingual Plane with no "/", no control
 * character and no bidi override, and passes the core's check again; "ignored" is reported
 * exactly when a key is none of IJolietDiscMaster's properties.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <imapi/imapi.h>

#include "core/master.h"
#include "fuzz-adapters.h"
#include "fuzz-bus.h"
#include "hresult-bus.h"
#include "imapi-error.h"
#include "log.h"
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "VolumeName", "PlaceBootImageOnDisc", "BootImageManufacturerIDString",
                                    "BootImagePlatform", "BootImageEmulationType", "BootImage",
                                    "volumename", "" };

static bool known(const char *key) {
        for (size_t i = 0; i < 6; i++)
                if (streq(key, keys[i]))
                        return true;
        return false;
}

/* Code points of a D-Bus string (valid UTF-8), each checked; -1 for one the rule excludes. */
static int volume_characters(const char *s) {
        int n = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; n++) {
                uint32_t c;

                if (*p < 0x80)
                        c = *p++;
                else if (*p < 0xE0) {
                        c = (p[0] & 0x1F) << 6 | (p[1] & 0x3F);
                        p += 2;
                } else if (*p < 0xF0) {
                        c = (p[0] & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
                        p += 3;
                } else
                        return -1;      /* beyond U+FFFF: no room in a volume id's UCS-2 */
                /* No control character (C0, DEL, C1), no bidi override or isolate: names on the
                 * disc show what they are (issue 14). */
                if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == '/' || (c >= 0x202A && c <= 0x202E) ||
                    (c >= 0x2066 && c <= 0x2069))
                        return -1;
        }
        return n;
}

/* The dictionary read again: its last string VolumeName, whether a key is unknown. */
static void expected(sd_bus_message *m, const char **volume, bool *ignored) {
        const char *key, *contents, *s;

        *volume = NULL;
        *ignored = false;
        fuzz_bus_rewind(m);
        while ((key = fuzz_bus_next_key(m, &contents))) {
                *ignored = *ignored || !known(key);
                if (streq(key, "VolumeName") && streq(contents, "s")) {
                        if (sd_bus_message_read(m, "v", "s", &s) < 0)
                                abort();
                        *volume = s;
                }
                fuzz_bus_end_entry(m);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        MasterBootChange boot = MASTER_BOOT_CHANGE_NONE;
        const char *volume = NULL, *want_volume;
        bool ignored = false, want_ignored;
        FuzzInput in = { data, size };
        size_t n_entries;
        int r, n;

        log_set_max_level(LOG_EMERG - 1);
        (void) hresult_register_error_map();
        if (fuzz_bus_options(&in, keys, ELEMENTSOF(keys), &m, &n_entries) < 0 || !m)
                return 0;

        /* As method_set_joliet_properties() reads it. */
        if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0)
                abort();
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                r = fuzz_read_property(m, &volume, &boot, &ignored, &error);
                if (r < 0)
                        break;
                if (sd_bus_message_exit_container(m) < 0)
                        abort();
        }
        if (r == -ENOMEM)
                return 0;
        expected(m, &want_volume, &want_ignored);
        if (r < 0) {
                if (!sd_bus_error_is_set(&error) || hresult_from_bus_error(&error) != IMAPI_E_INVALIDARG)
                        abort();
                return 0;
        }
        if (boot.place < -1 || boot.place > 1 || !IN_SET(boot.platform, -1, 0, 1, 2, 0xEF) ||
            boot.emulation < -1 || boot.emulation > 4)
                abort();
        if (boot.manufacturer) {
                if (strlen(boot.manufacturer) > 24 || master_check_boot_manufacturer(boot.manufacturer, &e) < 0)
                        abort();
                for (const char *p = boot.manufacturer; *p; p++)
                        if (*p < 0x20 || *p > 0x7E)
                                abort();
        }
        if (sd_bus_message_exit_container(m) < 0 || sd_bus_error_is_set(&error))
                abort();
        if (ignored != want_ignored)
                abort();
        if (!volume)
                return 0;
        if (!want_volume || !streq(volume, want_volume))
                abort();
        n = volume_characters(volume);
        if (n < 1 || n > 16)
                abort();
        if (master_check_volume_name(volume, &e) < 0)
                abort();
        return 0;
}
