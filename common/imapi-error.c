/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's error value (imapi-error.h). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hresult.h"
#include "imapi-error.h"
#include "log.h"

static int imapi_error_setv(const char *file, int line, const char *func, ImapiError *e, uint32_t hr,
                            const char *fmt, va_list ap) {
        const HResultInfo *info = hresult_lookup(hr);
        char *message = NULL;

        if (!e)
                return hresult_to_errno(hr);
        /* Out of memory for the sentence, the table's stands in. */
        if (fmt && vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        free(e->message);
        *e = (ImapiError) { .hresult = hr, .message = message };
        (void) log_internal(LOG_DEBUG, 0, file, line, func, "%s: %s", info ? info->constant : "HRESULT",
                            message ?: info ? info->message : "");
        return hresult_to_errno(hr);
}

int imapi_error_set_internal(const char *file, int line, const char *func, ImapiError *e, uint32_t hr,
                             const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = imapi_error_setv(file, line, func, e, hr, fmt, ap);
        va_end(ap);
        return r;
}

int imapi_error_set_errno_internal(const char *file, int line, const char *func, ImapiError *e, int r,
                                   const char *fmt, ...) {
        va_list ap;

        if (!fmt) {
                (void) imapi_error_set_internal(file, line, func, e, hresult_from_errno(r), "%s.", strerror(abs(r)));
                return r;
        }
        va_start(ap, fmt);
        (void) imapi_error_setv(file, line, func, e, hresult_from_errno(r), fmt, ap);
        va_end(ap);
        return r;
}

void imapi_error_done(ImapiError *e) {
        if (!e)
                return;
        free(e->message);
        *e = IMAPI_ERROR_NULL;
}

void imapi_error_move(ImapiError *dst, ImapiError *src) {
        imapi_error_done(dst);
        *dst = *src;
        *src = IMAPI_ERROR_NULL;
}
