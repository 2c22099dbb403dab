/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HRESULT table (hresult.h) on D-Bus, for the programs' bus code: daemon and client register
 * it with sd_bus_error_add_map(), so that a D-Bus error name and a negative errno translate into
 * each other on both sides.
 */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "hresult.h"

/* Registers the table with sd_bus_error_add_map(). Idempotent. */
int hresult_register_error_map(void);

/* Sets "name: 0x8004021C: <sentence>" on an sd_bus_error. With fmt NULL, the table's message
 * is used. Returns the negative errno of hr, so handlers can `return bus_error_hresult(...)`. */
int bus_error_hresultv(sd_bus_error *error, uint32_t hr, const char *fmt, va_list ap);
/* With the sentence as it is (NULL: the table's). */
int bus_error_hresult_text(sd_bus_error *error, uint32_t hr, const char *text);
/* The same, logged at debug level with the caller's location: a refusal of a client's call. */
#define bus_error_hresult(error, hr, ...) bus_error_hresult_internal(__FILE__, __LINE__, __func__, error, hr, __VA_ARGS__)
int bus_error_hresult_internal(const char *file, int line, const char *func, sd_bus_error *error, uint32_t hr,
                               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The HRESULT carried by a D-Bus error (by name), E_FAIL for unknown names, S_OK if unset. */
uint32_t hresult_from_bus_error(const sd_bus_error *error);
