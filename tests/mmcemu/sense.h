/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sense keys and additional sense codes the emulated drive reports.
 * Values from SPC-4 4.5.6 (sense keys) and Annex D (ASC/ASCQ); the
 * MMC-specific ones are listed in MMC-6 Annex F.
 */
#pragma once

#define SK_NO_SENSE             0x0
#define SK_RECOVERED_ERROR      0x1
#define SK_NOT_READY            0x2
#define SK_MEDIUM_ERROR         0x3
#define SK_HARDWARE_ERROR       0x4
#define SK_ILLEGAL_REQUEST      0x5
#define SK_UNIT_ATTENTION       0x6
#define SK_DATA_PROTECT         0x7

/* Encodes key/asc/ascq in one int so handlers can return it. */
#define SENSE(k, asc, ascq)     (((k) << 16) | ((asc) << 8) | (ascq))
#define SENSE_KEY(s)            (((s) >> 16) & 0xf)
#define SENSE_ASC(s)            (((s) >> 8) & 0xff)
#define SENSE_ASCQ(s)           ((s) & 0xff)

#define S_GOOD                  0
#define S_INVALID_OPCODE        SENSE(SK_ILLEGAL_REQUEST, 0x20, 0x00)
#define S_LBA_OUT_OF_RANGE      SENSE(SK_ILLEGAL_REQUEST, 0x21, 0x00)
#define S_INVALID_WRITE_ADDR    SENSE(SK_ILLEGAL_REQUEST, 0x21, 0x02)
#define S_INVALID_FIELD_CDB     SENSE(SK_ILLEGAL_REQUEST, 0x24, 0x00)
#define S_INVALID_FIELD_PARAM   SENSE(SK_ILLEGAL_REQUEST, 0x26, 0x00)
#define S_CANNOT_WRITE_MEDIUM   SENSE(SK_ILLEGAL_REQUEST, 0x30, 0x05)
#define S_REMOVAL_PREVENTED     SENSE(SK_ILLEGAL_REQUEST, 0x53, 0x02)
#define S_ILLEGAL_MODE_TRACK    SENSE(SK_ILLEGAL_REQUEST, 0x64, 0x00)
#define S_SESSION_FIXATION_ERR  SENSE(SK_ILLEGAL_REQUEST, 0x72, 0x00)
#define S_NO_MEDIUM_TRAY_CLOSED SENSE(SK_NOT_READY, 0x3a, 0x01)
#define S_NO_MEDIUM_TRAY_OPEN   SENSE(SK_NOT_READY, 0x3a, 0x02)
#define S_LONG_WRITE_IN_PROG    SENSE(SK_NOT_READY, 0x04, 0x08)
#define S_OP_IN_PROGRESS        SENSE(SK_NOT_READY, 0x04, 0x07)
#define S_MEDIUM_CHANGED        SENSE(SK_UNIT_ATTENTION, 0x28, 0x00)
#define S_WRITE_PROTECTED       SENSE(SK_DATA_PROTECT, 0x27, 0x00)
#define S_WRITE_ERROR           SENSE(SK_MEDIUM_ERROR, 0x0c, 0x00)
#define S_LOSS_OF_STREAMING     SENSE(SK_MEDIUM_ERROR, 0x0c, 0x09)
#define S_UNRECOVERED_READ      SENSE(SK_MEDIUM_ERROR, 0x11, 0x00)
#define S_INCOMPATIBLE_MEDIUM   SENSE(SK_ILLEGAL_REQUEST, 0x30, 0x00)
#define S_INSUFFICIENT_RESOURCES SENSE(SK_ILLEGAL_REQUEST, 0x55, 0x03)
