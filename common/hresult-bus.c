/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HRESULT table on D-Bus: the sd-bus error map, and HRESULTs into and out of sd_bus_error. */

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "hresult-bus.h"
#include "log.h"
#include "macro.h"

/* Room for every entry: the table's size is known only at link time. */
static sd_bus_error_map *error_map;

static int build_error_map(void) {
        size_t n = 0;

        /* Kept for the life of the program: sd-bus refers to it from now on. */
        error_map = calloc(hresult_table_size + 1, sizeof(sd_bus_error_map));
        if (!error_map)
                return -ENOMEM;

        for (size_t i = 0; i < hresult_table_size; i++) {
                if (!hresult_table[i].dbus_name)
                        continue;
                error_map[n++] = (sd_bus_error_map) {
                        .name = hresult_table[i].dbus_name,
                        .code = hresult_table[i].errnum,
                };
        }
        error_map[n] = (sd_bus_error_map) SD_BUS_ERROR_MAP_END;
        return 0;
}

int hresult_register_error_map(void) {
        static bool registered = false;
        int r;

        if (registered)
                return 0;
        r = build_error_map();
        if (r < 0)
                return r;
        registered = true;
        return sd_bus_error_add_map(error_map);
}

int bus_error_hresult_text(sd_bus_error *error, uint32_t hr, const char *text) {
        const HResultInfo *info = hresult_lookup(hr);
        _cleanup_free_ char *msg = NULL;

        if (!info || !info->dbus_name)
                info = hresult_lookup(IMAPI_E_FAIL);
        msg = hresult_format(info->hresult, text);
        if (!msg)
                return -ENOMEM;
        if (error)
                (void) sd_bus_error_set(error, info->dbus_name, msg);
        return -info->errnum;
}

int bus_error_hresultv(sd_bus_error *error, uint32_t hr, const char *fmt, va_list ap) {
        _cleanup_free_ char *text = NULL;

        if (fmt && vasprintf(&text, fmt, ap) < 0)
                return -ENOMEM;
        return bus_error_hresult_text(error, hr, text);
}

int bus_error_hresult_internal(const char *file, int line, const char *func, sd_bus_error *error, uint32_t hr,
                               const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = bus_error_hresultv(error, hr, fmt, ap);
        va_end(ap);
        if (error && sd_bus_error_is_set(error))
                (void) log_internal(LOG_DEBUG, 0, file, line, func, "%s", error->message);
        return r;
}

uint32_t hresult_from_bus_error(const sd_bus_error *error) {
        const HResultInfo *info;

        if (!sd_bus_error_is_set(error))
                return IMAPI_S_OK;
        info = hresult_lookup_dbus_name(error->name);
        if (info)
                return info->hresult;
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_AUTH_FAILED,
                                   SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return IMAPI_E_ACCESSDENIED;
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_INVALID_ARGS))
                return IMAPI_E_INVALIDARG;
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_NO_MEMORY, SD_BUS_ERROR_LIMITS_EXCEEDED))
                return IMAPI_E_OUTOFMEMORY;
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_NOT_SUPPORTED))
                return IMAPI_E_NOTIMPL;
        return IMAPI_E_FAIL;
}
