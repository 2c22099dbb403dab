/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The MESSAGE_IDs of the journal entries an administrator looks for. Each is explained in
 * catalog/imapid.catalog, which `journalctl -x` shows next to the entry. An id is made once with
 * `systemd-id128 new` and keeps its meaning for good: scripts and alerts match on it.
 *
 * Burns (data, audio, simulated: see IMAPI_OPERATION) and erases carry IMAPI_JOB,
 * IMAPI_OPERATION, IMAPI_RECORDER, IMAPI_HRESULT and IMAPI_HRESULT_NAME (log-job.h). There is no
 * "erase cancelled": an erase cannot be cancelled once the drive has started it.
 * Recorders added and removed carry IMAPI_RECORDER and IMAPI_DEVICE.
 */
#pragma once

#include <systemd/sd-id128.h>

#define IMAPI_MESSAGE_BURN_STARTED SD_ID128_MAKE(7f,17,76,8a,89,b9,4c,6d,ab,eb,c7,04,ea,ec,4d,03)
#define IMAPI_MESSAGE_BURN_STARTED_STR SD_ID128_MAKE_STR(7f,17,76,8a,89,b9,4c,6d,ab,eb,c7,04,ea,ec,4d,03)
#define IMAPI_MESSAGE_BURN_FINISHED SD_ID128_MAKE(08,39,30,1d,77,2e,4f,d4,93,cf,e1,90,26,09,59,1e)
#define IMAPI_MESSAGE_BURN_FINISHED_STR SD_ID128_MAKE_STR(08,39,30,1d,77,2e,4f,d4,93,cf,e1,90,26,09,59,1e)
#define IMAPI_MESSAGE_BURN_FAILED SD_ID128_MAKE(46,b0,eb,d6,28,f3,48,62,ab,f8,b3,93,a0,89,c2,d0)
#define IMAPI_MESSAGE_BURN_FAILED_STR SD_ID128_MAKE_STR(46,b0,eb,d6,28,f3,48,62,ab,f8,b3,93,a0,89,c2,d0)
#define IMAPI_MESSAGE_BURN_CANCELLED SD_ID128_MAKE(a5,43,32,f8,fc,52,47,40,8a,65,a3,28,5a,b6,37,33)
#define IMAPI_MESSAGE_BURN_CANCELLED_STR SD_ID128_MAKE_STR(a5,43,32,f8,fc,52,47,40,8a,65,a3,28,5a,b6,37,33)

#define IMAPI_MESSAGE_ERASE_STARTED SD_ID128_MAKE(38,87,19,ba,ae,b0,4f,a7,b3,04,ae,d7,d7,b9,9f,56)
#define IMAPI_MESSAGE_ERASE_STARTED_STR SD_ID128_MAKE_STR(38,87,19,ba,ae,b0,4f,a7,b3,04,ae,d7,d7,b9,9f,56)
#define IMAPI_MESSAGE_ERASE_FINISHED SD_ID128_MAKE(29,3a,8b,80,c5,89,45,ec,bc,b8,6d,9d,cb,b3,79,77)
#define IMAPI_MESSAGE_ERASE_FINISHED_STR SD_ID128_MAKE_STR(29,3a,8b,80,c5,89,45,ec,bc,b8,6d,9d,cb,b3,79,77)
#define IMAPI_MESSAGE_ERASE_FAILED SD_ID128_MAKE(38,e6,47,77,ef,5f,4b,e0,b8,6e,57,71,41,7f,b6,94)
#define IMAPI_MESSAGE_ERASE_FAILED_STR SD_ID128_MAKE_STR(38,e6,47,77,ef,5f,4b,e0,b8,6e,57,71,41,7f,b6,94)

#define IMAPI_MESSAGE_RECORDER_ADDED SD_ID128_MAKE(99,db,58,c4,1c,8e,47,b2,99,43,ed,9b,00,7a,ce,cf)
#define IMAPI_MESSAGE_RECORDER_ADDED_STR SD_ID128_MAKE_STR(99,db,58,c4,1c,8e,47,b2,99,43,ed,9b,00,7a,ce,cf)
#define IMAPI_MESSAGE_RECORDER_REMOVED SD_ID128_MAKE(65,a0,90,2a,6a,9c,48,76,af,78,ae,52,fa,34,a4,17)
#define IMAPI_MESSAGE_RECORDER_REMOVED_STR SD_ID128_MAKE_STR(65,a0,90,2a,6a,9c,48,76,af,78,ae,52,fa,34,a4,17)
