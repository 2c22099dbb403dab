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
int bus_error_hresult(sd_bus_error *error, uint32_t hr, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int bus_error_hresultv(sd_bus_error *error, uint32_t hr, const char *fmt, va_list ap);

/* The HRESULT carried by a D-Bus error (by name), E_FAIL for unknown names, S_OK if unset. */
uint32_t hresult_from_bus_error(const sd_bus_error *error);
