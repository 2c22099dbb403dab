/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * imapid's public constants: the IMAPIv1 enumerations with their Windows values, the MMC
 * profile numbers a recorder reports, and every D-Bus name of the service.
 */
#pragma once

#include <imapi/imapierror.h>

/* IDiscRecorder::QueryMediaType, fMediaType (sequential values, not flags). 0 = no medium. */
typedef enum MEDIA_TYPES {
        MEDIA_CDDA_CDROM = 1,
        MEDIA_CD_ROM_XA = 2,
        MEDIA_CD_I = 3,
        MEDIA_CD_EXTRA = 4,
        MEDIA_CD_OTHER = 5,
        MEDIA_SPECIAL = 6,
} MEDIA_TYPES;

/* IDiscRecorder::QueryMediaType, fMediaFlags (bit flags). */
typedef enum MEDIA_FLAGS {
        MEDIA_BLANK = 0x1,
        MEDIA_RW = 0x2,
        MEDIA_WRITABLE = 0x4,
        MEDIA_FORMAT_UNUSABLE_BY_IMAPI = 0x8,
} MEDIA_FLAGS;

/* IDiscRecorder::GetRecorderType. */
typedef enum RECORDER_TYPES {
        RECORDER_CDR = 0x1,
        RECORDER_CDRW = 0x2,
} RECORDER_TYPES;

/* IDiscRecorder::GetRecorderState. */
#define RECORDER_DOING_NOTHING  0x0
#define RECORDER_OPENED         0x1
#define RECORDER_BURNING        0x2

/* The disc master formats, by the IIDs IDiscMaster::EnumDiscMasterFormats returns: IMAPI's two,
 * and imapid's own for a disc image burned as it is (IMAPIv1 has none; the IID is imapid's). */
#define IMAPI_IID_IJOLIETDISCMASTER     "e3bc42ce-4e5c-11d3-9144-00104ba11c5e"
#define IMAPI_IID_IREDBOOKDISCMASTER    "e3bc42cd-4e5c-11d3-9144-00104ba11c5e"
#define IMAPI_IID_IIMAGEDISCMASTER      "6d1a3a5e-2f0b-4c47-9c8e-1b2f8e5a0d13"

/* Sizes of one block in each format. */
#define IMAPI_DATA_BLOCK_SIZE           2048
#define IMAPI_AUDIO_BLOCK_SIZE          2352

/* D-Bus names. */
#define IMAPI_BUS_NAME                  "org.imapid.Imapi1"
#define IMAPI_ROOT_PATH                 "/org/imapid/Imapi1"
#define IMAPI_MANAGER_PATH              IMAPI_ROOT_PATH "/Manager"
#define IMAPI_RECORDERS_PATH            IMAPI_ROOT_PATH "/recorders"
#define IMAPI_MASTERS_PATH              IMAPI_ROOT_PATH "/masters"
#define IMAPI_JOBS_PATH                 IMAPI_ROOT_PATH "/jobs"

#define IMAPI_MANAGER_INTERFACE         "org.imapid.Imapi1.Manager"
#define IMAPI_RECORDER_INTERFACE        "org.imapid.Imapi1.Recorder"
#define IMAPI_DISC_MASTER_INTERFACE     "org.imapid.Imapi1.DiscMaster"
#define IMAPI_JOLIET_INTERFACE          "org.imapid.Imapi1.JolietDiscMaster"
#define IMAPI_REDBOOK_INTERFACE         "org.imapid.Imapi1.RedbookDiscMaster"
#define IMAPI_IMAGE_INTERFACE           "org.imapid.Imapi1.ImageDiscMaster"
#define IMAPI_JOB_INTERFACE             "org.imapid.Imapi1.Job"

/* Peer-to-peer socket of the socket-activated service. */
#define IMAPI_SOCKET_PATH               "/run/imapid/imapid.sock"
