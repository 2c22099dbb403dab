/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libisofs boundary (see iso.h): the library's set-up, its error codes and message queue as
 * negative errno and log lines, and the choices the whole boundary makes. The boundary's other
 * files: iso-stream.c (reading staged files), iso-import.c (the previous session), iso-build.c
 * (the tree) and iso-write.c (the image file); only these include libisofs.h
 * (iso-internal.h).
 *
 * Choices, and why:
 *   - Names are UTF-8 (iso_set_local_charset("UTF-8")) whatever the daemon's locale, because
 *     image paths arrive as D-Bus strings. libisofs then derives every tree from them.
 *   - Joliet is written as UTF-16BE (iso_write_opts_set_joliet_utf16): jolietname.c allows
 *     characters beyond U+FFFF (emoji) as surrogate pairs, which UTF-16 readers (Windows, Linux
 *     mounted with utf8, libisofs) show as the character; plain UCS-2 would turn them into "_".
 *   - iso_write_opts_set_joliet_longer_paths: libisofs measures Joliet paths in bytes against
 *     240 and silently drops files beyond; strict names are at most 240 UTF-16 units, adapted
 *     ones (iso-names.c) may be longer and must not be lost.
 *     iso_write_opts_set_allow_longer_paths likewise, so that an image without Rock Ridge never
 *     loses a file whose mangled ISO 9660 path exceeds 255 bytes.
 *   - Strict ISO 9660 in the primary tree (no relaxed_vol_atts, no lowercase, version numbers
 *     kept): Windows and Linux read Joliet or Rock Ridge names anyway, and the primary tree stays
 *     readable by anything. libisofs converts the primary volume id to d-characters (upper case,
 *     anything else "_"); the Joliet volume id keeps the name as given. A Joliet volume id holds
 *     16 UCS-2 characters, so a longer name (or one beyond U+FFFF) is refused with -EINVAL rather
 *     than truncated behind the caller's back.
 *   - Directory records carry the file's mtime in all trees (dir_rec_mtime), as IMAPI wrote it:
 *     Windows shows Joliet record times, Linux the Rock Ridge ones.
 *   - Rock Ridge owner is root (uid/gid 0) and the mode is the staged one: the stash files'
 *     owner means nothing on another machine.
 *   - File data is laid out in path order (sort weights), so a folder's files are contiguous
 *     and the same entries give the same layout whatever order they were staged in.
 *   - Abort severity MISHAP: libisofs otherwise fills an unreadable or changed source with
 *     zeros and carries on; a burn must fail instead (-EIO).
 *   - Files larger than 4 GiB - 2 KiB need ISO level 3 (multi-extent); at level 1 or 2 they are
 *     refused with -EFBIG before anything is built (libisofs would otherwise only log it).
 *   - Staged files are read through a stream of our own (stash_stream_*) rather than libisofs'
 *     local-file one: it reads 128 KiB at a time instead of 2 KiB and skips holes, and reports
 *     which file failed to read.
 *   - The image is pulled from the burn_source that libisofs' writer thread fills (a FIFO of
 *     128 KiB, resident through the build, once per recorder), half of it at a time, in 512 KiB
 *     chunks that never ask past the end (libisofs drops a partial last read), and written
 *     with pwrite() at its offset, leaving holes for all-zero blocks; ftruncate() sets the
 *     final size.
 *     A cancel calls the source's cancel(), which stops and joins libisofs' thread.
 *   - Multi-session: the previous session is imported through an IsoDataSource over
 *     read_block, and the new one is written appendable at ms_block = next_lba. On CD-R, DVD±R
 *     and BD-R the TOC leads readers to it; on overwriteable media and image files the head at
 *     block 0 does, which libisofs fills in (iso_write_opts_set_overwrite_buf) for the caller to
 *     write last.
 *   - An imported file is kept only if the medium holds every block of it: a session cut short
 *     (a cancelled burn whose track was closed early) lists files whose data was never written,
 *     or lies where the new session goes. Such files are left out of the new tree and named; the
 *     rest of the previous session stays. The new tree's references into earlier sessions are
 *     handed back (IsoImport.extents) so that verification can read every one of them.
 */

#include <fcntl.h>
#include <inttypes.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

void iso_import_done(IsoImport *i) {
        if (!i)
                return;
        free(i->extents);
        for (size_t k = 0; k < i->n_left_out_names; k++)
                free(i->left_out[k]);
        free(i->left_out);
        *i = (IsoImport) {};
}

void iso_options_init(IsoOptions *o) {
        *o = (IsoOptions) {
                .iso_level = 2,
                .rock_ridge = true,
                .joliet = true,
        };
}

/* ISO_* error code (full form, as returned by calls) to negative errno. */
int iso_code_to_errno(int code) {
        static const struct {
                int code;
                int error;
        } table[] = {
                { (int) ISO_OUT_OF_MEM, ENOMEM },
                { (int) ISO_CANCELED, ECANCELED },
                { (int) ISO_IMAGE_WRITE_CANCELED, ECANCELED },
                { (int) ISO_FILE_TOO_BIG, EFBIG },
                { (int) ISO_NULL_POINTER, EINVAL },
                { (int) ISO_WRONG_ARG_VALUE, EINVAL },
                { (int) ISO_NODE_NAME_NOT_UNIQUE, EEXIST },
                { (int) ISO_NODE_ALREADY_ADDED, EEXIST },
                { (int) ISO_FILE_ACCESS_DENIED, EACCES },
                { (int) ISO_FILE_DOESNT_EXIST, ENOENT },
                { (int) ISO_FILE_BAD_PATH, ENOENT },
                { (int) ISO_FILE_IS_DIR, EISDIR },
                { (int) ISO_RR_NAME_TOO_LONG, ENAMETOOLONG },
                { (int) ISO_RR_PATH_TOO_LONG, ENAMETOOLONG },
                { (int) ISO_FILENAME_WRONG_CHARSET, EILSEQ },
                { (int) ISO_CHARSET_CONV_ERROR, EILSEQ },
                { (int) ISO_WRONG_PVD, EBADMSG },
                { (int) ISO_WRONG_ECMA119, EBADMSG },
                { (int) ISO_UNSUPPORTED_ECMA119, EBADMSG },
                { (int) ISO_FILE_OFFSET_TOO_BIG, EFBIG },
                /* Reading a source, the previous session, or writing the stream. */
                { (int) ISO_FILE_READ_ERROR, EIO },
                { (int) ISO_FILE_CANT_WRITE, EIO },
                { (int) ISO_FILE_ERROR, EIO },
                { (int) ISO_BUF_READ_ERROR, EIO },
                { (int) ISO_WRITE_ERROR, EIO },
                { (int) ISO_DATA_SOURCE_SORRY, EIO },
                { (int) ISO_DATA_SOURCE_MISHAP, EIO },
                { (int) ISO_DATA_SOURCE_FAILURE, EIO },
                { (int) ISO_DATA_SOURCE_FATAL, EIO },
        };

        if (code >= 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].code == code)
                        return -table[i].error;
        /* Message queue codes keep only the low 16 bits of the code. */
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (iso_error_get_code(table[i].code) == iso_error_get_code(code))
                        return -table[i].error;
        return -EIO;
}

/* Empties libisofs' message queue into our log. Returns the errno that the most severe
 * message about image imgid (or about no image in particular) stands for, 0 if none is an
 * error. The queue is global; a concurrent build's messages are logged here too. */
int iso_flush_messages(int imgid, bool quiet) {
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        int worst_sev = 0, worst = 0, failure_sev = 0, warning_sev = 0;

        (void) iso_text_to_sev((char *) "SORRY", &failure_sev);
        (void) iso_text_to_sev((char *) "WARNING", &warning_sev);

        pthread_mutex_lock(&lock);
        for (;;) {
                char text[ISO_MSGS_MESSAGE_LEN], severity[80];
                int code = 0, id = 0, sev = 0;

                if (iso_obtain_msgs((char *) "ALL", &code, &id, text, severity) <= 0)
                        break;
                (void) iso_text_to_sev(severity, &sev);
                /* Details of a failure that the caller logs once, as an error. */
                log_full(!quiet && sev >= warning_sev ? LOG_WARNING : LOG_DEBUG,
                         "libisofs %s (image %d, 0x%x): %s", severity, id, (unsigned) code, text);
                /* The first message of the worst severity is the cause; "caused by" notes follow. */
                if ((id == imgid || id == 0) && sev >= failure_sev && sev > worst_sev) {
                        worst_sev = sev;
                        worst = iso_code_to_errno(code | (int) 0x80000000);
                }
        }
        pthread_mutex_unlock(&lock);
        return worst;
}

int iso_library_init(void) {
        int major = 0, minor = 0, micro = 0, r;

        iso_lib_version(&major, &minor, &micro);
        if (!iso_lib_is_compatible(iso_lib_header_version_major, iso_lib_header_version_minor,
                                   iso_lib_header_version_micro))
                return log_error_errno(ENOTSUP, "libisofs %d.%d.%d is older than %d.%d.%d, built against.",
                                       major, minor, micro, iso_lib_header_version_major,
                                       iso_lib_header_version_minor, iso_lib_header_version_micro);

        /* bit0: leave the process' locale alone; names are UTF-8 whatever it is. */
        r = iso_init_with_flag(1);
        if (r < 0)
                return log_error_errno(-iso_code_to_errno(r), "Failed to initialize libisofs: %s",
                                       iso_error_to_msg(r));
        if (iso_set_local_charset((char *) "UTF-8", 0) <= 0) {
                iso_finish();
                return log_error_errno(EILSEQ, "libisofs does not accept UTF-8 as local character set.");
        }
        /* Messages go through our log, never straight to stderr. */
        (void) iso_set_msgs_severities((char *) "NOTE", (char *) "NEVER", (char *) "libisofs: ");
        (void) iso_set_abort_severity((char *) "MISHAP");
        log_debug("libisofs %d.%d.%d initialized.", major, minor, micro);
        return 0;
}

void iso_library_finish(void) {
        (void) iso_flush_messages(-1, false);
        iso_finish();
}
