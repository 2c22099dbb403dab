/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error table: every IMAPIv1 code with its Windows value, unique names, the sd-bus round trip. */

#include <errno.h>
#include <string.h>

#include "hresult-bus.h"
#include "macro.h"
#include "tap.h"

/* Written out from the Windows SDK's imapierror.h (see shared/reference/imapi-v1.md §8),
 * independently of the table under test. */
static const struct {
        const char *constant;
        uint32_t value;
} expected[] = {
        { "IMAPI_S_PROPERTIESIGNORED", 0x00040200 },  { "IMAPI_S_BUFFER_TO_SMALL", 0x00040201 },
        { "IMAPI_E_NOTOPENED", 0x8004020B },          { "IMAPI_E_NOTINITIALIZED", 0x8004020C },
        { "IMAPI_E_USERABORT", 0x8004020D },          { "IMAPI_E_GENERIC", 0x8004020E },
        { "IMAPI_E_MEDIUM_NOTPRESENT", 0x8004020F },  { "IMAPI_E_MEDIUM_INVALIDTYPE", 0x80040210 },
        { "IMAPI_E_DEVICE_NOPROPERTIES", 0x80040211 }, { "IMAPI_E_DEVICE_NOTACCESSIBLE", 0x80040212 },
        { "IMAPI_E_DEVICE_NOTPRESENT", 0x80040213 },  { "IMAPI_E_DEVICE_INVALIDTYPE", 0x80040214 },
        { "IMAPI_E_INITIALIZE_WRITE", 0x80040215 },   { "IMAPI_E_INITIALIZE_ENDWRITE", 0x80040216 },
        { "IMAPI_E_FILESYSTEM", 0x80040217 },         { "IMAPI_E_FILEACCESS", 0x80040218 },
        { "IMAPI_E_DISCINFO", 0x80040219 },           { "IMAPI_E_TRACKNOTOPEN", 0x8004021A },
        { "IMAPI_E_TRACKOPEN", 0x8004021B },          { "IMAPI_E_DISCFULL", 0x8004021C },
        { "IMAPI_E_BADJOLIETNAME", 0x8004021D },      { "IMAPI_E_INVALIDIMAGE", 0x8004021E },
        { "IMAPI_E_NOACTIVEFORMAT", 0x8004021F },     { "IMAPI_E_NOACTIVERECORDER", 0x80040220 },
        { "IMAPI_E_WRONGFORMAT", 0x80040221 },        { "IMAPI_E_ALREADYOPEN", 0x80040222 },
        { "IMAPI_E_WRONGDISC", 0x80040223 },          { "IMAPI_E_FILEEXISTS", 0x80040224 },
        { "IMAPI_E_STASHINUSE", 0x80040225 },         { "IMAPI_E_DEVICE_STILL_IN_USE", 0x80040226 },
        { "IMAPI_E_LOSS_OF_STREAMING", 0x80040227 },  { "IMAPI_E_COMPRESSEDSTASH", 0x80040228 },
        { "IMAPI_E_ENCRYPTEDSTASH", 0x80040229 },     { "IMAPI_E_NOTENOUGHDISKFORSTASH", 0x8004022A },
        { "IMAPI_E_REMOVABLESTASH", 0x8004022B },     { "IMAPI_E_CANNOT_WRITE_TO_MEDIA", 0x8004022C },
        { "IMAPI_E_TRACK_NOT_BIG_ENOUGH", 0x8004022D }, { "IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC", 0x8004022E },
        /* COM generics from winerror.h */
        { "IMAPI_E_NOTIMPL", 0x80004001 },            { "IMAPI_E_FAIL", 0x80004005 },
        { "IMAPI_E_ACCESSDENIED", 0x80070005 },       { "IMAPI_E_OUTOFMEMORY", 0x8007000E },
        { "IMAPI_E_INVALIDARG", 0x80070057 },
};

static void test_values(void) {
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                const HResultInfo *info = hresult_lookup_constant(expected[i].constant);

                CHECK(info && info->hresult == expected[i].value, "%s is 0x%08X", expected[i].constant,
                      expected[i].value);
        }
        /* The header agrees with the table. */
        CHECK(IMAPI_E_DISCFULL == 0x8004021C && IMAPI_S_PROPERTIESIGNORED == 0x00040200 &&
              IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC == 0x8004022E, "header constants");
        CHECK(IMAPI_HRESULT_SUCCEEDED(IMAPI_S_PROPERTIESIGNORED) && IMAPI_HRESULT_FAILED(IMAPI_E_NOTOPENED),
              "success codes succeed, error codes fail");
        CHECK(MAKE_HRESULT(1, FACILITY_ITF, 0x20B) == IMAPI_E_NOTOPENED, "MAKE_HRESULT construction");
}

static void test_unique_and_well_formed(void) {
        for (size_t i = 0; i < hresult_table_size; i++) {
                const HResultInfo *a = &hresult_table[i];
                bool unique = true;

                for (size_t j = 0; j < hresult_table_size; j++) {
                        const HResultInfo *b = &hresult_table[j];
                        if (i == j)
                                continue;
                        if (a->hresult == b->hresult || streq(a->constant, b->constant) ||
                            (a->dbus_name && streq_ptr(a->dbus_name, b->dbus_name)) ||
                            (a->errnum != 0 && a->errnum == b->errnum))
                                unique = false;
                }
                CHECK(unique, "%s: value, constant, D-Bus name and errno are unique", a->constant);
                if (IMAPI_HRESULT_FAILED(a->hresult)) {
                        const char *leaf = a->dbus_name + strlen(IMAPI_DBUS_ERROR_PREFIX);
                        const char *expect_leaf = strncmp(a->constant, "IMAPI_E_", 8) == 0 &&
                                                  strlen(a->constant) > 8 &&
                                                  !IN_SET(a->hresult, IMAPI_E_NOTIMPL, IMAPI_E_FAIL,
                                                          IMAPI_E_ACCESSDENIED, IMAPI_E_OUTOFMEMORY,
                                                          IMAPI_E_INVALIDARG) ?
                                                          a->constant : a->constant + 6;

                        CHECK(a->dbus_name && strncmp(a->dbus_name, IMAPI_DBUS_ERROR_PREFIX,
                                                      strlen(IMAPI_DBUS_ERROR_PREFIX)) == 0 &&
                                      streq(leaf, expect_leaf),
                              "%s is named %s", a->constant, strna(a->dbus_name));
                } else
                        CHECK(!a->dbus_name, "success code %s is not an error", a->constant);
                CHECK(a->message && strlen(a->message) > 10 && a->message[strlen(a->message) - 1] == '.',
                      "%s has a sentence", a->constant);
        }
        CHECK(streq(IMAPI_DBUS_ERROR_DISCFULL, "org.imapid.Imapi1.Error.IMAPI_E_DISCFULL") &&
              streq(IMAPI_DBUS_ERROR_INVALIDARG, "org.imapid.Imapi1.Error.E_INVALIDARG"),
              "header D-Bus names");
}

static void test_round_trip(void) {
        CHECK(hresult_register_error_map() >= 0, "error map registers");
        CHECK(hresult_register_error_map() >= 0, "registering twice is harmless");

        for (size_t i = 0; i < hresult_table_size; i++) {
                const HResultInfo *a = &hresult_table[i];
                sd_bus_error e = SD_BUS_ERROR_NULL;
                int r;

                if (!a->dbus_name)
                        continue;
                /* name -> errno (sd-bus' map), errno -> HRESULT (ours), and back to the name */
                r = sd_bus_error_set(&e, a->dbus_name, "x");
                CHECK(r == -a->errnum, "%s -> errno %d via sd-bus", a->dbus_name, a->errnum);
                CHECK(sd_bus_error_get_errno(&e) == a->errnum, "sd_bus_error_get_errno(%s)", a->constant);
                CHECK(hresult_from_errno(-a->errnum) == a->hresult, "errno -> %s", a->constant);
                CHECK(hresult_from_bus_error(&e) == a->hresult, "D-Bus name -> %s", a->constant);
                sd_bus_error_free(&e);

                r = bus_error_hresult(&e, a->hresult, "Specific text %d.", 42);
                CHECK(r == -a->errnum && streq_ptr(e.name, a->dbus_name), "bus_error_hresult(%s) name",
                      a->constant);
                {
                        char want[64];
                        snprintf(want, sizeof want, "0x%08X: Specific text 42.", a->hresult);
                        CHECK(streq_ptr(e.message, want), "message of %s starts with its HRESULT", a->constant);
                }
                sd_bus_error_free(&e);
        }

        {
                sd_bus_error e = SD_BUS_ERROR_NULL;

                bus_error_hresult(&e, IMAPI_E_DISCFULL, NULL);
                CHECK(streq_ptr(e.message, "0x8004021C: The disc cannot hold any more data."), "default message");
                sd_bus_error_free(&e);
                sd_bus_error_set(&e, SD_BUS_ERROR_ACCESS_DENIED, "no");
                CHECK(hresult_from_bus_error(&e) == IMAPI_E_ACCESSDENIED, "AccessDenied -> E_ACCESSDENIED");
                sd_bus_error_free(&e);
                CHECK(hresult_from_bus_error(&e) == IMAPI_S_OK, "no error -> S_OK");
                CHECK(hresult_from_errno(ENOSPC) == IMAPI_E_FAIL, "an unmapped errno is E_FAIL");
                CHECK(hresult_to_errno(IMAPI_E_NOTOPENED) == -(HRESULT_ERRNO_BASE + 0x20B),
                      "IMAPI codes have private errno values");
        }
}

int main(void) {
        test_values();
        test_unique_and_well_formed();
        test_round_trip();
        return tap_done();
}
