/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error value of the daemon's core and media layers: an IMAPI HRESULT and a sentence about
 * this case ("Recorder sr0 has been removed."), without the "0x...: " prefix that the text gets
 * when it leaves imapid. The bus layer turns it into a D-Bus error in one place
 * (bus/bus-error.c); functions that fail with one return the negative errno the HRESULT travels
 * as (hresult_to_errno()), so that `if (r < 0) return r;` keeps working.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef struct ImapiError {
        uint32_t hresult;       /* 0: no error */
        char *message;          /* NULL: the table's sentence for hresult */
} ImapiError;

#define IMAPI_ERROR_NULL ((ImapiError) {})

/* Sets *e (which may be NULL: the caller only wants the errno) to hr and a sentence, replacing
 * what was there. Returns hresult_to_errno(hr). An error that is set is logged once, here, at
 * debug level with the caller's location: every refusal of a client's call shows in the log. */
#define imapi_error_set(e, hr, ...) imapi_error_set_internal(__FILE__, __LINE__, __func__, e, hr, __VA_ARGS__)
int imapi_error_set_internal(const char *file, int line, const char *func, ImapiError *e, uint32_t hr,
                             const char *fmt, ...) _printf_(6, 7);
/* For a negative errno without an IMAPI meaning of its own: its HRESULT (hresult_from_errno())
 * with fmt, or with strerror() when fmt is NULL. Returns r. */
#define imapi_error_set_errno(e, r, ...) \
        imapi_error_set_errno_internal(__FILE__, __LINE__, __func__, e, r, __VA_ARGS__)
int imapi_error_set_errno_internal(const char *file, int line, const char *func, ImapiError *e, int r,
                                   const char *fmt, ...) _printf_(6, 7);
void imapi_error_done(ImapiError *e);
/* Moves src into *dst (freeing what dst held); src is left empty. */
void imapi_error_move(ImapiError *dst, ImapiError *src);

static inline bool imapi_error_is_set(const ImapiError *e) {
        return e && e->hresult != 0;
}

static inline void imapi_error_donep(ImapiError *e) {
        imapi_error_done(e);
}
#define _cleanup_imapi_error_ _cleanup_(imapi_error_donep)
