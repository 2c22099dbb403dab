/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one table that ties each IMAPI HRESULT to its constant, D-Bus error name, message and
 * errno; hresult-bus.h carries it onto D-Bus. Without sd-bus, so that the daemon's core and
 * media layers use it too.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <imapi/imapierror.h>

typedef struct HResultInfo {
        uint32_t hresult;
        const char *constant;   /* "IMAPI_E_DISCFULL" */
        const char *dbus_name;  /* "org.imapid.Imapi1.Error.IMAPI_E_DISCFULL", NULL for success codes */
        const char *message;    /* a sentence a user understands */
        int errnum;             /* the errno this code travels as inside the programs */
} HResultInfo;

/* Every HRESULT imapid knows, success codes included, in ascending order of value. */
extern const HResultInfo hresult_table[];
extern const size_t hresult_table_size;

/* Private errno values for IMAPI conditions, above every real errno, one per error code, so
 * that the sd-bus error map is a bijection. Generic COM errors travel as real errno values. */
#define HRESULT_ERRNO_BASE 10000

const HResultInfo *hresult_lookup(uint32_t hr);
const HResultInfo *hresult_lookup_dbus_name(const char *name);
const HResultInfo *hresult_lookup_constant(const char *constant);
const HResultInfo *hresult_lookup_errno(int errnum);

/* The HRESULT for a negative (or positive) errno: IMAPI codes for their private values,
 * COM generics for the common ones, E_FAIL otherwise. */
uint32_t hresult_from_errno(int errnum);
/* The negative errno an HRESULT travels as. */
int hresult_to_errno(uint32_t hr);

/* "0x8004021C: <text>", the form of every error text imapid gives; with text NULL, the
 * table's message (empty for an HRESULT not in the table). NULL when out of memory. */
char *hresult_format(uint32_t hr, const char *text);
