/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The HRESULT table: constants, D-Bus names, messages and errno values, from one list. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hresult.h"
#include "macro.h"

#define IMAPI_ERRNO(hr) (HRESULT_ERRNO_BASE + (int) ((hr) & 0xFFFF))

/* S(constant, message) for success codes, which are never D-Bus errors;
 * X(constant, D-Bus leaf, errno, message) for failures. */
#define HRESULT_LIST(S, X)                                                                                  \
        S(IMAPI_S_OK, "The operation succeeded.")                                               \
        S(IMAPI_S_PROPERTIESIGNORED,                                                            \
          "An unknown or read-only property was passed in a property set and it was ignored.")          \
        S(IMAPI_S_BUFFER_TO_SMALL, "The output buffer is too small.")                           \
        X(IMAPI_E_NOTIMPL, "E_NOTIMPL", EOPNOTSUPP, "This operation is not implemented.")               \
        X(IMAPI_E_FAIL, "E_FAIL", EIO, "The operation failed.")                                          \
        X(IMAPI_E_ACCESSDENIED, "E_ACCESSDENIED", EACCES, "Access denied.")                              \
        X(IMAPI_E_OUTOFMEMORY, "E_OUTOFMEMORY", ENOMEM, "Out of memory, or a limit was reached.")        \
        X(IMAPI_E_INVALIDARG, "E_INVALIDARG", EINVAL, "An argument is not valid.")                       \
        X(IMAPI_E_NOTOPENED, "IMAPI_E_NOTOPENED", IMAPI_ERRNO(IMAPI_E_NOTOPENED),                       \
          "The object has not been opened; call Open (or OpenExclusive) first.")                         \
        X(IMAPI_E_NOTINITIALIZED, "IMAPI_E_NOTINITIALIZED", IMAPI_ERRNO(IMAPI_E_NOTINITIALIZED),        \
          "The recorder object has not been initialized.")                                              \
        X(IMAPI_E_USERABORT, "IMAPI_E_USERABORT", IMAPI_ERRNO(IMAPI_E_USERABORT),                       \
          "The operation was cancelled.")                                                               \
        X(IMAPI_E_GENERIC, "IMAPI_E_GENERIC", IMAPI_ERRNO(IMAPI_E_GENERIC), "A generic error occurred.") \
        X(IMAPI_E_MEDIUM_NOTPRESENT, "IMAPI_E_MEDIUM_NOTPRESENT", IMAPI_ERRNO(IMAPI_E_MEDIUM_NOTPRESENT), \
          "There is no disc in the recorder.")                                                          \
        X(IMAPI_E_MEDIUM_INVALIDTYPE, "IMAPI_E_MEDIUM_INVALIDTYPE",                                      \
          IMAPI_ERRNO(IMAPI_E_MEDIUM_INVALIDTYPE), "The disc in the recorder cannot be used for this.") \
        X(IMAPI_E_DEVICE_NOPROPERTIES, "IMAPI_E_DEVICE_NOPROPERTIES",                                    \
          IMAPI_ERRNO(IMAPI_E_DEVICE_NOPROPERTIES), "The recorder does not support any properties.")     \
        X(IMAPI_E_DEVICE_NOTACCESSIBLE, "IMAPI_E_DEVICE_NOTACCESSIBLE",                                  \
          IMAPI_ERRNO(IMAPI_E_DEVICE_NOTACCESSIBLE), "The recorder cannot be used or is already in use.") \
        X(IMAPI_E_DEVICE_NOTPRESENT, "IMAPI_E_DEVICE_NOTPRESENT", IMAPI_ERRNO(IMAPI_E_DEVICE_NOTPRESENT), \
          "The recorder is not present or has been removed.")                                           \
        X(IMAPI_E_DEVICE_INVALIDTYPE, "IMAPI_E_DEVICE_INVALIDTYPE",                                      \
          IMAPI_ERRNO(IMAPI_E_DEVICE_INVALIDTYPE), "The recorder does not support this operation.")      \
        X(IMAPI_E_INITIALIZE_WRITE, "IMAPI_E_INITIALIZE_WRITE", IMAPI_ERRNO(IMAPI_E_INITIALIZE_WRITE),  \
          "The recorder could not be prepared for writing.")                                            \
        X(IMAPI_E_INITIALIZE_ENDWRITE, "IMAPI_E_INITIALIZE_ENDWRITE",                                    \
          IMAPI_ERRNO(IMAPI_E_INITIALIZE_ENDWRITE), "The recorder could not be prepared to close the disc.") \
        X(IMAPI_E_FILESYSTEM, "IMAPI_E_FILESYSTEM", IMAPI_ERRNO(IMAPI_E_FILESYSTEM),                    \
          "The operating system prevented exclusive access to the recorder.")                           \
        X(IMAPI_E_FILEACCESS, "IMAPI_E_FILEACCESS", IMAPI_ERRNO(IMAPI_E_FILEACCESS),                    \
          "An error occurred while reading or writing the stash.")                                      \
        X(IMAPI_E_DISCINFO, "IMAPI_E_DISCINFO", IMAPI_ERRNO(IMAPI_E_DISCINFO),                          \
          "An error occurred while reading disc information from the recorder.")                        \
        X(IMAPI_E_TRACKNOTOPEN, "IMAPI_E_TRACKNOTOPEN", IMAPI_ERRNO(IMAPI_E_TRACKNOTOPEN),              \
          "No audio track is open for writing.")                                                        \
        X(IMAPI_E_TRACKOPEN, "IMAPI_E_TRACKOPEN", IMAPI_ERRNO(IMAPI_E_TRACKOPEN),                       \
          "An audio track is still open.")                                                              \
        X(IMAPI_E_DISCFULL, "IMAPI_E_DISCFULL", IMAPI_ERRNO(IMAPI_E_DISCFULL),                          \
          "The disc cannot hold any more data.")                                                        \
        X(IMAPI_E_BADJOLIETNAME, "IMAPI_E_BADJOLIETNAME", IMAPI_ERRNO(IMAPI_E_BADJOLIETNAME),           \
          "The name is not valid on a Joliet disc.")                                                    \
        X(IMAPI_E_INVALIDIMAGE, "IMAPI_E_INVALIDIMAGE", IMAPI_ERRNO(IMAPI_E_INVALIDIMAGE),              \
          "The staged image has no usable content.")                                                    \
        X(IMAPI_E_NOACTIVEFORMAT, "IMAPI_E_NOACTIVEFORMAT", IMAPI_ERRNO(IMAPI_E_NOACTIVEFORMAT),        \
          "No disc format has been selected; call SetActiveDiscMasterFormat first.")                    \
        X(IMAPI_E_NOACTIVERECORDER, "IMAPI_E_NOACTIVERECORDER", IMAPI_ERRNO(IMAPI_E_NOACTIVERECORDER),  \
          "No recorder has been selected; call SetActiveDiscRecorder first.")                           \
        X(IMAPI_E_WRONGFORMAT, "IMAPI_E_WRONGFORMAT", IMAPI_ERRNO(IMAPI_E_WRONGFORMAT),                 \
          "This call belongs to another disc format; change the format first.")                         \
        X(IMAPI_E_ALREADYOPEN, "IMAPI_E_ALREADYOPEN", IMAPI_ERRNO(IMAPI_E_ALREADYOPEN),                 \
          "The object is already open.")                                                                \
        X(IMAPI_E_WRONGDISC, "IMAPI_E_WRONGDISC", IMAPI_ERRNO(IMAPI_E_WRONGDISC),                       \
          "The multi-session disc has been removed from the recorder.")                                 \
        X(IMAPI_E_FILEEXISTS, "IMAPI_E_FILEEXISTS", IMAPI_ERRNO(IMAPI_E_FILEEXISTS),                    \
          "A file of that name is already staged and overwriting was not asked for.")                   \
        X(IMAPI_E_STASHINUSE, "IMAPI_E_STASHINUSE", IMAPI_ERRNO(IMAPI_E_STASHINUSE),                    \
          "Another application is using the stash. Try again later.")                                   \
        X(IMAPI_E_DEVICE_STILL_IN_USE, "IMAPI_E_DEVICE_STILL_IN_USE",                                    \
          IMAPI_ERRNO(IMAPI_E_DEVICE_STILL_IN_USE), "Another application is using the recorder.")        \
        X(IMAPI_E_LOSS_OF_STREAMING, "IMAPI_E_LOSS_OF_STREAMING", IMAPI_ERRNO(IMAPI_E_LOSS_OF_STREAMING), \
          "Data did not reach the recorder fast enough (buffer underrun); the disc may be unusable.")   \
        X(IMAPI_E_COMPRESSEDSTASH, "IMAPI_E_COMPRESSEDSTASH", IMAPI_ERRNO(IMAPI_E_COMPRESSEDSTASH),     \
          "The stash is on a compressed file system.")                                                  \
        X(IMAPI_E_ENCRYPTEDSTASH, "IMAPI_E_ENCRYPTEDSTASH", IMAPI_ERRNO(IMAPI_E_ENCRYPTEDSTASH),        \
          "The stash is on an encrypted file system.")                                                  \
        X(IMAPI_E_NOTENOUGHDISKFORSTASH, "IMAPI_E_NOTENOUGHDISKFORSTASH",                                \
          IMAPI_ERRNO(IMAPI_E_NOTENOUGHDISKFORSTASH), "There is not enough free disk space for the stash.") \
        X(IMAPI_E_REMOVABLESTASH, "IMAPI_E_REMOVABLESTASH", IMAPI_ERRNO(IMAPI_E_REMOVABLESTASH),        \
          "The stash is on removable media.")                                                           \
        X(IMAPI_E_CANNOT_WRITE_TO_MEDIA, "IMAPI_E_CANNOT_WRITE_TO_MEDIA",                                \
          IMAPI_ERRNO(IMAPI_E_CANNOT_WRITE_TO_MEDIA), "The disc cannot be written to.")                  \
        X(IMAPI_E_TRACK_NOT_BIG_ENOUGH, "IMAPI_E_TRACK_NOT_BIG_ENOUGH",                                  \
          IMAPI_ERRNO(IMAPI_E_TRACK_NOT_BIG_ENOUGH), "The audio track is too short.")                    \
        X(IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC, "IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC",                    \
          IMAPI_ERRNO(IMAPI_E_BOOTIMAGE_AND_NONBLANK_DISC),                                              \
          "A bootable image can only be written to a blank disc.")

#define SUCCESS_ENTRY(c, msg) { .hresult = c, .constant = #c, .message = msg },
#define FAILURE_ENTRY(c, leaf, e, msg) \
        { .hresult = c, .constant = #c, .dbus_name = IMAPI_DBUS_ERROR_PREFIX leaf, .message = msg, .errnum = e },

/* Success codes first, then the COM generics, then the IMAPI errors in ascending order. */
const HResultInfo hresult_table[] = { HRESULT_LIST(SUCCESS_ENTRY, FAILURE_ENTRY) };
const size_t hresult_table_size = ELEMENTSOF(hresult_table);

const HResultInfo *hresult_lookup(uint32_t hr) {
        for (size_t i = 0; i < hresult_table_size; i++)
                if (hresult_table[i].hresult == hr)
                        return &hresult_table[i];
        return NULL;
}

const HResultInfo *hresult_lookup_dbus_name(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < hresult_table_size; i++)
                if (streq_ptr(hresult_table[i].dbus_name, name))
                        return &hresult_table[i];
        return NULL;
}

const HResultInfo *hresult_lookup_constant(const char *constant) {
        if (!constant)
                return NULL;
        for (size_t i = 0; i < hresult_table_size; i++)
                if (streq(hresult_table[i].constant, constant))
                        return &hresult_table[i];
        return NULL;
}

const HResultInfo *hresult_lookup_errno(int errnum) {
        errnum = abs(errnum);
        if (errnum == 0)
                return NULL;
        for (size_t i = 0; i < hresult_table_size; i++)
                if (hresult_table[i].errnum == errnum)
                        return &hresult_table[i];
        return NULL;
}

uint32_t hresult_from_errno(int errnum) {
        const HResultInfo *info;

        errnum = abs(errnum);
        if (errnum == 0)
                return IMAPI_S_OK;
        info = hresult_lookup_errno(errnum);
        if (info)
                return info->hresult;
        switch (errnum) {
        case EPERM:
                return IMAPI_E_ACCESSDENIED;
        case ERANGE:
        case EBADMSG:
        case ENXIO:
        case E2BIG:
                return IMAPI_E_INVALIDARG;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case EDQUOT:
                return IMAPI_E_OUTOFMEMORY;
        case ENOSYS:
                return IMAPI_E_NOTIMPL;
        default:
                return IMAPI_E_FAIL;
        }
}

int hresult_to_errno(uint32_t hr) {
        const HResultInfo *info = hresult_lookup(hr);

        if (!info)
                return IMAPI_HRESULT_FAILED(hr) ? -EIO : 0;
        return -info->errnum;
}

char *hresult_format(uint32_t hr, const char *text) {
        const HResultInfo *info = hresult_lookup(hr);
        char *s;

        if (asprintf(&s, "0x%08X: %s", hr, text ?: info ? info->message : "") < 0)
                return NULL;
        return s;
}
