/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libisofs boundary (see iso.h): the only file that includes libisofs.h. ISO_* codes and
 * libisofs' message queue become negative errno and log lines here.
 *
 * Choices, and why:
 *   - Names are UTF-8 (iso_set_local_charset("UTF-8")) whatever the daemon's locale, because
 *     image paths arrive as D-Bus strings. libisofs then derives every tree from them.
 *   - Joliet is written as UTF-16BE (iso_write_opts_set_joliet_utf16): jolietname.c allows
 *     characters beyond U+FFFF (emoji) as surrogate pairs, which UTF-16 readers (Windows, Linux
 *     mounted with utf8, libisofs) show as the character; plain UCS-2 would turn them into "_".
 *   - iso_write_opts_set_joliet_longer_paths: libisofs measures Joliet paths in bytes against
 *     240 and silently drops files beyond; jolietname.c already enforces 240 UTF-16 units.
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
 *     local-file one: it reads 1 MiB at a time instead of 2 KiB and skips holes, and reports
 *     which file failed to read.
 *   - The image is pulled from the burn_source that libisofs' writer thread fills (a FIFO of
 *     1 MiB: all of it stays resident through the build), in 512 KiB reads that never ask past
 *     the end (libisofs drops a partial last read), and written with pwrite() at its offset,
 *     leaving holes for all-zero blocks; ftruncate() sets the final size.
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
/* libisofs.h then declares struct burn_source itself: libburn is drive.c's business. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/iso.h"
#include "jolietname.h"
#include "log.h"
#include "macro.h"

#define ISO_BLOCK 2048U
/* The largest file ISO levels 1 and 2 can hold: one extent (libisofs' limit). */
#define ISO_MAX_SINGLE_EXTENT UINT64_C(0xFFFFF800)
/* Bytes pulled from libisofs' FIFO at a time, and its size (in blocks). */
#define ISO_CHUNK_BLOCKS 256U
#define ISO_FIFO_BLOCKS 512U
/* Progress is reported every this many blocks (16 MiB). */
#define ISO_PROGRESS_BLOCKS 8192U
/* The Joliet volume descriptor's volume identifier: 32 bytes of UCS-2. */
#define JOLIET_VOLUME_ID_MAX 16

static void iso_image_unrefp(IsoImage **p) {
        if (*p)
                iso_image_unref(*p);
}
static void iso_write_opts_freep(IsoWriteOpts **p) {
        if (*p)
                iso_write_opts_free(*p);
}
static void iso_read_opts_freep(IsoReadOpts **p) {
        if (*p)
                iso_read_opts_free(*p);
}
static void iso_dir_iter_freep(IsoDirIter **p) {
        if (*p)
                iso_dir_iter_free(*p);
}

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
static int iso_code_to_errno(int code) {
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
static int iso_flush_messages(int imgid, bool quiet) {
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

/* ---- the content of a staged file ---- */

/* libisofs reads file content 2 KiB at a time; through its own local-file stream that is one
 * read() per block, which made a 5 GiB file cost seconds of system time. This stream reads
 * 1 MiB ahead, and fills holes (SEEK_DATA) with zeros without reading them, so sparse stash
 * files cost nothing. */
#define STASH_STREAM_BUFFER (1024U * 1024U)
/* Our streams' file system id; a stream's inode number is its entry's index + 1, so libisofs
 * tells them apart (every entry has a copy of its own). */
#define STASH_STREAM_FS_ID 0x494d4150U

/* What the streams of one image share: the caller's entries, and the read-ahead buffer of the
 * last file read, which the next one reuses (libisofs reads the files one after another; a
 * buffer per file would be a 1 MiB mmap() and munmap() each). It lives until the image is
 * freed (see IsoBuild). */
typedef struct StreamContext {
        const IsoSource *src;
        struct StashReader *spare; /* atomic */
} StreamContext;

/* One allocation of 40 bytes per staged file (48 with malloc's header): libisofs frees a stream
 * with free() on its IsoStream, which is therefore the first member, and IsoStream.data points
 * at the StreamContext. The entry is read from the source by its index. The descriptor and the
 * read-ahead exist only while libisofs reads the file. */
typedef struct StashStream {
        IsoStream stream;
        size_t index;
        struct StashReader *reader;
} StashStream;

typedef struct StashReader {
        int fd;
        uint64_t size;          /* the entry's */
        uint64_t offset;        /* of buf[0] in the file */
        size_t fill, pos;       /* bytes in buf, bytes of them consumed */
        uint8_t buf[];
} StashReader;

static StashStream *stash_stream(IsoStream *stream) {
        return (StashStream *) stream;
}

static void stash_stream_entry(StashStream *s, IsoEntry *ret) {
        const StreamContext *ctx = s->stream.data;

        ctx->src->get(s->index, ret, ctx->src->userdata);
}

static StashReader *reader_get(StreamContext *ctx) {
        StashReader *rd = __atomic_exchange_n(&ctx->spare, NULL, __ATOMIC_ACQ_REL);

        return rd ?: malloc(sizeof(StashReader) + STASH_STREAM_BUFFER);
}

static void reader_put(StreamContext *ctx, StashReader *rd) {
        StashReader *none = NULL;

        safe_close(rd->fd);
        if (!__atomic_compare_exchange_n(&ctx->spare, &none, rd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                free(rd);
}

static StreamContext *stream_context_free(StreamContext *ctx) {
        if (ctx) {
                free(ctx->spare);
                free(ctx);
        }
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(StreamContext *, stream_context_free);

static int stash_stream_open(IsoStream *stream) {
        StashStream *s = stash_stream(stream);
        StreamContext *ctx = s->stream.data;
        StashReader *rd;
        IsoEntry e;
        struct stat st;
        int fd;

        if (s->reader)
                return (int) ISO_FILE_ALREADY_OPENED;
        stash_stream_entry(s, &e);
        fd = ctx->src->open(s->index, ctx->src->userdata);
        if (fd < 0) {
                log_error_errno(fd, "Cannot open the staged copy of \"%s\": %m", e.image_path);
                return (int) ISO_FILE_ERROR;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                log_error("The staged copy of \"%s\" is not a regular file.", e.image_path);
                safe_close(fd);
                return (int) ISO_FILE_ERROR;
        }
        rd = reader_get(ctx);
        if (!rd) {
                safe_close(fd);
                return (int) ISO_OUT_OF_MEM;
        }
        *rd = (StashReader) { .fd = fd, .size = e.size };
        s->reader = rd;
        /* libisofs reports a changed size; with our abort severity that fails the image. */
        if ((uint64_t) st.st_size != e.size) {
                log_error("The staged copy of \"%s\" has %" PRIu64 " bytes instead of %" PRIu64 ".",
                          e.image_path, (uint64_t) st.st_size, e.size);
                return (uint64_t) st.st_size > e.size ? 2 : 3;
        }
        return ISO_SUCCESS;
}

static int stash_stream_close(IsoStream *stream) {
        StashStream *s = stash_stream(stream);

        if (!s->reader)
                return (int) ISO_FILE_NOT_OPENED;
        reader_put(s->stream.data, TAKE_PTR(s->reader));
        return ISO_SUCCESS;
}

static off_t stash_stream_get_size(IsoStream *stream) {
        StashStream *s = stash_stream(stream);
        IsoEntry e;

        if (s->reader)
                return (off_t) s->reader->size;
        stash_stream_entry(s, &e);
        return (off_t) e.size;
}

static int stash_stream_refill(StashStream *s) {
        StashReader *rd = s->reader;
        uint64_t off = rd->offset + rd->fill, want;
        off_t data;
        ssize_t k;

        rd->offset = off;
        rd->fill = rd->pos = 0;
        if (off >= rd->size)
                return 0;
        want = MIN((uint64_t) STASH_STREAM_BUFFER, rd->size - off);

        data = lseek(rd->fd, (off_t) off, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
                data = (off_t) rd->size; /* a hole up to the end */
        if (data > (off_t) off) {
                rd->fill = (size_t) MIN(want, (uint64_t) data - off);
                memset(rd->buf, 0, rd->fill);
                return 0;
        }
        /* data < 0 for another reason (SEEK_DATA unsupported): just read. */
        k = pread(rd->fd, rd->buf, (size_t) want, (off_t) off);
        if (k < 0) {
                int error = errno;
                IsoEntry e;

                stash_stream_entry(s, &e);
                log_error_errno(error, "Cannot read the staged copy of \"%s\" at %" PRIu64 ": %m",
                                e.image_path, off);
                return (int) ISO_FILE_READ_ERROR;
        }
        rd->fill = (size_t) k;
        return 0;
}

static int stash_stream_read(IsoStream *stream, void *buf, size_t count) {
        StashStream *s = stash_stream(stream);
        size_t done = 0;

        if (!s->reader)
                return (int) ISO_FILE_NOT_OPENED;
        while (done < count) {
                StashReader *rd = s->reader;
                size_t n;

                if (rd->pos == rd->fill) {
                        int r = stash_stream_refill(s);

                        if (r < 0)
                                return r;
                        if (rd->fill == 0)
                                break; /* end of file (or it shrank: libisofs pads and reports) */
                }
                n = MIN(count - done, rd->fill - rd->pos);
                memcpy((uint8_t *) buf + done, rd->buf + rd->pos, n);
                rd->pos += n;
                done += n;
        }
        return (int) done;
}

static int stash_stream_is_repeatable(IsoStream *stream) {
        return 1;
}

static void stash_stream_get_id(IsoStream *stream, unsigned int *fs_id, dev_t *dev_id, ino_t *ino_id) {
        StashStream *s = stash_stream(stream);

        *fs_id = STASH_STREAM_FS_ID;
        *dev_id = 0;
        *ino_id = (ino_t) s->index + 1;
}

/* libisofs frees the StashStream itself (it is the IsoStream); only what it owns goes here. */
static void stash_stream_free(IsoStream *stream) {
        StashStream *s = stash_stream(stream);

        if (s->reader)
                reader_put(s->stream.data, TAKE_PTR(s->reader));
}

static IsoStreamIface stash_stream_class = {
        .version = 0,
        .type = "user",
        .open = stash_stream_open,
        .close = stash_stream_close,
        .get_size = stash_stream_get_size,
        .read = stash_stream_read,
        .is_repeatable = stash_stream_is_repeatable,
        .get_id = stash_stream_get_id,
        .free = stash_stream_free,
};

static int stash_stream_new(StreamContext *ctx, size_t index, IsoStream **ret) {
        StashStream *s;

        s = malloc(sizeof(StashStream));
        if (!s)
                return log_oom();
        *s = (StashStream) {
                .stream = {
                        .class = &stash_stream_class,
                        .refcount = 1,
                        .data = ctx,
                },
                .index = index,
        };
        *ret = &s->stream;
        return 0;
}

/* ---- building the tree ---- */

typedef struct IsoReadContext {
        const IsoOptions *options;
        int error; /* first negative errno from read_block */
} IsoReadContext;

static int data_source_open(IsoDataSource *src) {
        return ISO_SUCCESS;
}

static int data_source_close(IsoDataSource *src) {
        return ISO_SUCCESS;
}

static int data_source_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer) {
        IsoReadContext *c = src->data;
        int r;

        r = c->options->read_block(lba, buffer, c->options->read_userdata);
        if (r < 0) {
                if (c->error == 0)
                        c->error = r;
                log_debug_errno(r, "Failed to read block %" PRIu32 " of the previous session: %m", lba);
                /* FAILURE aborts the import whatever the abort severity. */
                return (int) ISO_DATA_SOURCE_FAILURE;
        }
        return ISO_SUCCESS;
}

static void data_source_free_data(IsoDataSource *src) {
        free(src->data);
}

static const char *entry_path(const IsoSource *src, size_t i) {
        IsoEntry e;

        src->get(i, &e, src->userdata);
        return e.image_path + (e.image_path[0] == '/');
}

static int compare_entries(const void *a, const void *b, void *userdata) {
        const IsoSource *src = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        int c = strcmp(entry_path(src, i), entry_path(src, j));

        /* Stable: of two entries for one path, the later one is added last and wins. */
        if (c != 0)
                return c;
        return i < j ? -1 : i > j;
}

static void node_set_attributes(IsoNode *node, mode_t mode, uint64_t mtime_usec, mode_t default_mode) {
        mode_t perm = mode & 07777;

        iso_node_set_permissions(node, perm != 0 ? perm : default_mode);
        iso_node_set_uid(node, 0);
        iso_node_set_gid(node, 0);
        if (mtime_usec > 0) {
                time_t t = (time_t) (mtime_usec / 1000000);

                iso_node_set_mtime(node, t);
                iso_node_set_atime(node, t);
                iso_node_set_ctime(node, t);
        }
}

/* Finds or creates the directory `name` in dir. */
static int dir_get_or_add(IsoDir *dir, const char *name, const char *path, IsoDir **ret) {
        IsoNode *node = NULL;
        IsoDir *sub = NULL;
        int r;

        r = iso_dir_get_node(dir, name, &node);
        if (r < 0)
                return iso_code_to_errno(r);
        if (r > 0) {
                if (!ISO_NODE_IS_DIR(node))
                        return log_error_errno(ENOTDIR, "Cannot add \"%s\": \"%s\" is a file in the image.",
                                               path, name);
                *ret = (IsoDir *) node;
                return 0;
        }
        r = iso_tree_add_new_dir(dir, name, &sub);
        if (r < 0)
                return log_error_errno(-iso_code_to_errno(r), "Cannot add directory \"%s\" for \"%s\": %s",
                                       name, path, iso_error_to_msg(r));
        node_set_attributes((IsoNode *) sub, 0755, 0, 0755);
        *ret = sub;
        return 0;
}

static int image_add_entry(IsoImage *image, StreamContext *ctx, size_t index, int sort_weight) {
        const IsoSource *src = ctx->src;
        _cleanup_free_ char *path = NULL;
        IsoDir *dir = iso_image_get_root(image);
        IsoNode *node = NULL;
        IsoStream *stream = NULL;
        IsoFile *file = NULL;
        IsoEntry entry;
        const IsoEntry *e = &entry;
        char *name, *slash;
        int r;

        src->get(index, &entry, src->userdata);
        path = strdup(e->image_path + (e->image_path[0] == '/'));
        if (!path)
                return log_oom();

        for (name = path; (slash = strchr(name, '/')); name = slash + 1) {
                *slash = '\0';
                r = dir_get_or_add(dir, name, e->image_path, &dir);
                if (r < 0)
                        return r;
        }

        r = iso_dir_get_node(dir, name, &node);
        if (r < 0)
                return iso_code_to_errno(r);

        if (e->is_dir) {
                if (r > 0 && ISO_NODE_IS_DIR(node)) {
                        node_set_attributes(node, e->mode, e->mtime_usec, 0755);
                        return 0;
                }
                if (r > 0) {
                        r = iso_node_remove(node);
                        if (r < 0)
                                return iso_code_to_errno(r);
                }
                r = iso_tree_add_new_dir(dir, name, (IsoDir **) &node);
                if (r < 0)
                        return log_error_errno(-iso_code_to_errno(r), "Cannot add directory \"%s\": %s",
                                               e->image_path, iso_error_to_msg(r));
                node_set_attributes(node, e->mode, e->mtime_usec, 0755);
                return 0;
        }

        if (r > 0) {
                if (ISO_NODE_IS_DIR(node))
                        return log_error_errno(EISDIR, "Cannot add file \"%s\": a directory of that name "
                                               "exists.", e->image_path);
                /* A file staged again, or one from the previous session: the new one replaces it. */
                r = iso_node_remove(node);
                if (r < 0)
                        return iso_code_to_errno(r);
        }
        r = stash_stream_new(ctx, index, &stream);
        if (r < 0)
                return r;
        r = iso_image_add_new_file(image, dir, name, stream, &file);
        if (r < 0) {
                iso_stream_unref(stream);
                return log_error_errno(-iso_code_to_errno(r), "Cannot add \"%s\": %s", e->image_path,
                                       iso_error_to_msg(r));
        }
        node = (IsoNode *) file;
        node_set_attributes(node, e->mode, e->mtime_usec, 0644);
        iso_node_set_sort_weight(node, sort_weight);
        return 0;
}

static int check_volume_id(const char *id) {
        unsigned depth = 0;
        size_t units = 0;

        if (!id || !*id)
                return 0;
        /* A volume id obeys the rules of one Joliet name, and fits the Joliet descriptor. */
        if (joliet_name_check(id, NULL, &depth) != JOLIET_NAME_OK || depth != 1)
                return log_error_errno(EINVAL, "Invalid volume name \"%s\".", id);
        for (const unsigned char *p = (const unsigned char *) id; *p; p++) {
                if (*p >= 0xF0)
                        return log_error_errno(EINVAL, "Volume name \"%s\" has a character beyond U+FFFF, "
                                               "which a Joliet volume id cannot hold.", id);
                if ((*p & 0xC0) != 0x80)
                        units++;
        }
        if (units > JOLIET_VOLUME_ID_MAX)
                return log_error_errno(EINVAL, "Volume name \"%s\" is longer than %d characters.", id,
                                       JOLIET_VOLUME_ID_MAX);
        return 0;
}

static int check_entries(const IsoSource *src, const IsoOptions *o) {
        for (size_t i = 0; i < src->n; i++) {
                JolietNameError je;
                IsoEntry e;

                src->get(i, &e, src->userdata);
                if (!e.image_path)
                        return log_error_errno(EINVAL, "Entry %zu has no path in the image.", i);
                je = joliet_name_check(e.image_path, NULL, NULL);
                if (je != JOLIET_NAME_OK)
                        return log_error_errno(EINVAL, "Invalid path in the image \"%s\": %s", e.image_path,
                                               joliet_name_error_to_string(je));
                if (!e.is_dir && e.size > ISO_MAX_SINGLE_EXTENT && o->iso_level < 3)
                        return log_error_errno(EFBIG, "\"%s\" is %" PRIu64 " bytes; files of 4 GiB and more "
                                               "need ISO level 3, the image is level %d.", e.image_path,
                                               e.size, o->iso_level);
        }
        return 0;
}

typedef struct IsoBuild {
        StreamContext *streams;  /* freed after the image, whose streams point at it */
        IsoImage *image;
        IsoWriteOpts *opts;
        struct burn_source *source;
        int imgid;
        uint64_t blocks;
        bool started; /* the writer thread runs: cancel before freeing unless it ended */
        bool ended;
} IsoBuild;

static void iso_build_done(IsoBuild *b) {
        if (b->source) {
                /* cancel() stops libisofs' writer thread and joins it; free_data() then frees the
                 * image stream (and joins the thread itself if it still runs). */
                if (b->started && !b->ended && b->source->cancel)
                        b->source->cancel(b->source);
                if (b->source->free_data)
                        b->source->free_data(b->source);
                free(b->source);
                b->source = NULL;
        }
        if (b->opts)
                iso_write_opts_free(TAKE_PTR(b->opts));
        if (b->image)
                iso_image_unref(TAKE_PTR(b->image));
        b->streams = stream_context_free(b->streams);
}

static int iso_import_previous(IsoImage *image, const IsoOptions *o) {
        _cleanup_(iso_read_opts_freep) IsoReadOpts *ropts = NULL;
        IsoReadContext *ctx = NULL;
        IsoDataSource *src;
        int r, error;

        r = iso_read_opts_new(&ropts, 0);
        if (r < 0)
                return iso_code_to_errno(r);
        (void) iso_read_opts_set_start_block(ropts, o->import_lba);
        (void) iso_read_opts_set_input_charset(ropts, "UTF-8");
        /* We never write ACLs or xattrs; reading them would only cost time. */
        (void) iso_read_opts_set_no_aaip(ropts, 1);

        /* Imported nodes may keep the source (and its context) alive as long as the image. */
        ctx = calloc(1, sizeof(IsoReadContext));
        src = calloc(1, sizeof(IsoDataSource));
        if (!ctx || !src) {
                free(ctx);
                free(src);
                return log_oom();
        }
        ctx->options = o;
        *src = (IsoDataSource) {
                .refcount = 1,
                .open = data_source_open,
                .close = data_source_close,
                .read_block = data_source_read_block,
                .free_data = data_source_free_data,
                .data = ctx,
        };
        r = iso_image_import(image, src, ropts, NULL);
        error = ctx->error;
        iso_data_source_unref(src);
        if (r < 0) {
                int q = error < 0 ? error : iso_flush_messages(iso_image_get_msg_id(image), false);

                if (q >= 0)
                        q = iso_code_to_errno(r);
                return log_error_errno(q, "Cannot import the previous session at block %" PRIu32 ": %s",
                                       o->import_lba, iso_error_to_msg(r));
        }
        return 0;
}

/* Whether the medium holds every data extent of an imported file. 1 yes, 0 no, 2 not imported. */
static int file_whole_on_medium(IsoFile *file, const IsoOptions *o) {
        struct iso_file_section *sections = NULL;
        int n = 0, r, whole = 1;

        r = iso_file_get_old_image_sections(file, &n, &sections, 0);
        if (r <= 0)
                return r < 0 ? 0 : 2;
        for (int i = 0; i < n && whole; i++) {
                uint32_t blocks = DIV_ROUND_UP(sections[i].size, ISO_BLOCK);
                uint64_t end = (uint64_t) sections[i].block + blocks;

                if (blocks == 0)
                        continue;
                if (end > o->next_lba ||
                    (o->extent_readable && !o->extent_readable(sections[i].block, blocks, o->read_userdata)))
                        whole = 0;
        }
        free(sections);
        return whole;
}

/* Calls fn for every file below dir, with the iterator that is on it (so that fn may remove it). */
typedef int (*file_fn)(IsoDirIter *it, IsoFile *file, void *userdata);

static int walk_files(IsoDir *dir, file_fn fn, void *userdata) {
        _cleanup_(iso_dir_iter_freep) IsoDirIter *it = NULL;
        IsoNode *node;
        int r;

        r = iso_dir_get_children(dir, &it);
        if (r < 0)
                return iso_code_to_errno(r);
        while (iso_dir_iter_next(it, &node) == 1) {
                r = ISO_NODE_IS_DIR(node) ? walk_files((IsoDir *) node, fn, userdata) :
                    ISO_NODE_IS_FILE(node) ? fn(it, (IsoFile *) node, userdata) : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct ImportWalk {
        const IsoOptions *options;
        IsoImport *import;
        size_t allocated;       /* of import->extents */
} ImportWalk;

static void import_note_left_out(IsoImport *imp, char *path) {
        char **l;

        imp->n_left_out++;
        if (imp->n_left_out_names >= ISO_LEFT_OUT_NAMES_MAX || !path)
                return;
        l = realloc(imp->left_out, (imp->n_left_out_names + 1) * sizeof(char *));
        if (!l)
                return;
        imp->left_out = l;
        l[imp->n_left_out_names++] = strdup(path);
        if (!l[imp->n_left_out_names - 1])
                imp->n_left_out_names--;
}

/* Takes a file the medium does not hold whole out of the imported tree. */
static int prune_file(IsoDirIter *it, IsoFile *file, void *userdata) {
        ImportWalk *w = userdata;
        _cleanup_free_ char *path = NULL;
        int r;

        if (file_whole_on_medium(file, w->options) != 0)
                return 0;
        path = iso_tree_get_node_path((IsoNode *) file);
        log_warning("\"%s\" of the previous session is not whole on the medium; the new session leaves it out.",
                    strna(path));
        import_note_left_out(w->import, path);
        r = iso_dir_iter_remove(it);
        return r < 0 ? iso_code_to_errno(r) : 0;
}

static int import_prune(IsoImage *image, const IsoOptions *o, IsoImport *imp) {
        ImportWalk w = { .options = o, .import = imp };

        return walk_files(iso_image_get_root(image), prune_file, &w);
}

/* Notes where an imported file's data is. */
static int add_extents(IsoDirIter *it, IsoFile *file, void *userdata) {
        ImportWalk *w = userdata;
        IsoImport *imp = w->import;
        struct iso_file_section *sections = NULL;
        int n = 0;

        if (iso_file_get_old_image_sections(file, &n, &sections, 0) <= 0)
                return 0;
        for (int i = 0; i < n; i++) {
                uint32_t blocks = DIV_ROUND_UP(sections[i].size, ISO_BLOCK);

                if (blocks == 0)
                        continue;
                if (imp->n_extents == w->allocated) {
                        size_t m = MAX(w->allocated * 2, (size_t) 64);
                        IsoExtent *l = realloc(imp->extents, m * sizeof(IsoExtent));

                        if (!l) {
                                free(sections);
                                return log_oom();
                        }
                        imp->extents = l;
                        w->allocated = m;
                }
                imp->extents[imp->n_extents++] = (IsoExtent) { sections[i].block, blocks };
        }
        free(sections);
        return 0;
}

static int compare_extents(const void *a, const void *b) {
        const IsoExtent *x = a, *y = b;

        return x->start < y->start ? -1 : x->start > y->start;
}

/* The blocks of earlier sessions that the finished tree refers to, sorted and merged. */
static int import_collect_extents(IsoImage *image, IsoImport *imp) {
        ImportWalk w = { .import = imp };
        size_t k = 0;
        int r;

        r = walk_files(iso_image_get_root(image), add_extents, &w);
        if (r < 0 || imp->n_extents == 0)
                return r;
        qsort(imp->extents, imp->n_extents, sizeof(IsoExtent), compare_extents);
        for (size_t i = 0; i < imp->n_extents; i++) {
                IsoExtent *e = &imp->extents[i], *last = k > 0 ? &imp->extents[k - 1] : NULL;

                if (last && e->start <= last->start + last->blocks)
                        last->blocks = MAX(last->blocks, e->start + e->blocks - last->start);
                else
                        imp->extents[k++] = *e;
        }
        imp->n_extents = k;
        return 0;
}

static int iso_build(const IsoSource *src, const IsoOptions *o, bool estimate_only, IsoImport *imp,
                     IsoBuild *ret) {
        IsoImport ignored = {};
        /* Declared before the image, so freed after it. */
        _cleanup_(stream_context_freep) StreamContext *streams = NULL;
        _cleanup_(iso_image_unrefp) IsoImage *image = NULL;
        _cleanup_(iso_write_opts_freep) IsoWriteOpts *opts = NULL;
        _cleanup_free_ size_t *order = NULL;
        struct burn_source *source = NULL;
        const char *vol = o->volume_id ?: "";
        size_t n = src->n;
        int imgid, r;

        if (o->iso_level < 1 || o->iso_level > 3)
                return log_error_errno(EINVAL, "Invalid ISO level %d (1..3).", o->iso_level);
        if (n > 0 && (!src->get || !src->open))
                return -EINVAL;
        r = check_volume_id(o->volume_id);
        if (r < 0)
                return r;
        r = check_entries(src, o);
        if (r < 0)
                return r;

        streams = calloc(1, sizeof(StreamContext));
        if (!streams)
                return log_oom();
        streams->src = src;

        r = iso_image_new(vol, &image);
        if (r < 0)
                return iso_code_to_errno(r);

        if (o->head && o->next_lba < 32)
                return log_error_errno(EINVAL, "A session after a head must start at block 32 or later.");
        if (o->read_block) {
                r = iso_import_previous(image, o);
                if (r < 0)
                        return r;
                r = import_prune(image, o, imp ?: &ignored);
                iso_import_done(&ignored);
                if (r < 0)
                        return r;
                /* The previous session brings its own name; the new one is given, or kept. */
                if (o->volume_id) {
                        iso_image_set_volume_id(image, vol);
                        iso_image_set_volset_id(image, vol);
                }
        }
        iso_image_set_application_id(image, "IMAPID " PACKAGE_VERSION);

        order = malloc(MAX(n, (size_t) 1) * sizeof(size_t));
        if (!order)
                return log_oom();
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof(size_t), compare_entries, (void *) src);
        for (size_t i = 0; i < n; i++) {
                /* Higher weights are written first: data in path order. */
                int weight = (int) MIN(n - i, (size_t) INT32_MAX);

                r = image_add_entry(image, streams, order[i], weight);
                if (r < 0) {
                        (void) iso_flush_messages(iso_image_get_msg_id(image), false);
                        return r;
                }
        }
        /* Gone before libisofs lays out its trees, the peak of the build. */
        order = mfree(order);
        if (o->read_block && imp) {
                r = import_collect_extents(image, imp);
                if (r < 0)
                        return r;
        }

        r = iso_write_opts_new(&opts, 0);
        if (r < 0)
                return iso_code_to_errno(r);
        if (iso_write_opts_set_iso_level(opts, o->iso_level) < 0 ||
            iso_write_opts_set_rockridge(opts, o->rock_ridge) < 0 ||
            iso_write_opts_set_joliet(opts, o->joliet) < 0 ||
            iso_write_opts_set_joliet_utf16(opts, 1) < 0 ||
            iso_write_opts_set_joliet_longer_paths(opts, 1) < 0 ||
            iso_write_opts_set_allow_longer_paths(opts, 1) < 0 ||
            iso_write_opts_set_dir_rec_mtime(opts, 7) < 0 ||
            iso_write_opts_set_sort_files(opts, 1) < 0 ||
            iso_write_opts_set_fifo_size(opts, ISO_FIFO_BLOCKS) < 0 ||
            iso_write_opts_set_will_cancel(opts, estimate_only) < 0)
                return log_error_errno(EINVAL, "libisofs refused the image options.");
        /* Only the new session is produced; after an import it refers to the previous one's
         * data. The head is only of use to a real build. */
        if ((o->read_block && iso_write_opts_set_appendable(opts, 1) < 0) ||
            (o->next_lba > 0 && iso_write_opts_set_ms_block(opts, o->next_lba) < 0) ||
            (o->head && !estimate_only && iso_write_opts_set_overwrite_buf(opts, o->head) < 0))
                return log_error_errno(EINVAL, "libisofs refused the multi-session options.");

        r = iso_image_create_burn_source(image, opts, &source);
        if (r < 0) {
                int q = iso_flush_messages(iso_image_get_msg_id(image), false);

                return log_error_errno(q < 0 ? -q : -iso_code_to_errno(r), "Cannot lay out the image: %s",
                                       iso_error_to_msg(r));
        }

        /* The message id first: the order of evaluation inside an initializer is unspecified. */
        imgid = iso_image_get_msg_id(image);
        *ret = (IsoBuild) {
                .streams = TAKE_PTR(streams),
                .imgid = imgid,
                .image = TAKE_PTR(image),
                .opts = TAKE_PTR(opts),
                .source = source,
                .blocks = (uint64_t) source->get_size(source) / ISO_BLOCK,
                .started = !estimate_only,
        };
        return 0;
}

int iso_image_estimate(const IsoSource *src, const IsoOptions *o, uint64_t *ret_blocks) {
        IsoBuild b = {};
        uint64_t blocks;
        int r;

        r = iso_build(src, o, true, NULL, &b);
        if (r < 0) {
                /* Whatever libisofs said about it has been logged; don't leave it for the next. */
                (void) iso_flush_messages(-1, false);
                return r;
        }
        blocks = b.blocks;
        iso_build_done(&b);
        (void) iso_flush_messages(-1, false);
        *ret_blocks = blocks;
        return 0;
}

/* ---- writing ---- */

static bool block_is_zero(const uint8_t *p) {
        return p[0] == 0 && memcmp(p, p + 1, ISO_BLOCK - 1) == 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t size, uint64_t offset) {
        while (size > 0) {
                ssize_t k = pwrite(fd, p, size, (off_t) offset);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                size -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

/* Writes the runs of non-zero blocks; zero blocks stay holes in the file. */
static int write_sparse(int fd, const uint8_t *buf, size_t blocks, uint64_t offset) {
        size_t i = 0;

        while (i < blocks) {
                size_t j;
                int r;

                if (block_is_zero(buf + i * ISO_BLOCK)) {
                        i++;
                        continue;
                }
                for (j = i + 1; j < blocks && !block_is_zero(buf + j * ISO_BLOCK); j++)
                        ;
                r = pwrite_all(fd, buf + i * ISO_BLOCK, (j - i) * ISO_BLOCK, offset + i * ISO_BLOCK);
                if (r < 0)
                        return r;
                i = j;
        }
        return 0;
}

/* libisofs' FIFO wakes its reader for every 2 KiB it gets. Reading a chunk as it trickles in
 * costs two context switches per block and doubled the time of a large image; let the chunk
 * collect first. The writer thread never waits for us while the FIFO has room. */
static void wait_for_fifo(struct burn_source *source, size_t bytes) {
        for (unsigned i = 0; i < 1000; i++) {
                size_t cap = 0, free_bytes = 0;

                if (iso_ring_buffer_get_status(source, &cap, &free_bytes) != 1 ||
                    cap - free_bytes >= MIN(bytes, cap / 2))
                        return;
                (void) usleep(200);
        }
}

int iso_image_write(const IsoSource *src, const IsoOptions *o, int out_fd,
                    const volatile bool *cancel, iso_progress_fn progress, void *userdata,
                    uint64_t *ret_blocks, IsoImport *ret_import) {
        _cleanup_free_ uint8_t *buf = NULL;
        IsoImport imp = {};
        IsoBuild b = {};
        uint64_t done = 0, reported = 0;
        struct stat st;
        int r;

        if (fstat(out_fd, &st) < 0)
                return log_error_errno(errno, "Cannot stat the image file: %m");
        if (!S_ISREG(st.st_mode))
                return log_error_errno(EINVAL, "The image must be written to a regular file.");
        buf = malloc(ISO_CHUNK_BLOCKS * ISO_BLOCK);
        if (!buf)
                return log_oom();
        /* Skipped blocks must read back as zeros: start from an empty file. */
        if (ftruncate(out_fd, 0) < 0)
                return log_error_errno(errno, "Cannot truncate the image file: %m");

        r = iso_build(src, o, false, &imp, &b);
        if (r < 0) {
                /* Whatever libisofs said about it has been logged; don't leave it for the next. */
                (void) iso_flush_messages(-1, false);
                iso_import_done(&imp);
                return r;
        }

        if (progress)
                progress(0, b.blocks, userdata);

        while (done < b.blocks) {
                size_t want = (size_t) MIN((uint64_t) ISO_CHUNK_BLOCKS, b.blocks - done);
                int k;

                if (cancel && *cancel) {
                        r = -ECANCELED;
                        goto finish;
                }
                wait_for_fifo(b.source, want * ISO_BLOCK);
                /* Never ask for more than is left: libisofs drops a partial read at the end. */
                k = b.source->read_xt(b.source, buf, (int) (want * ISO_BLOCK));
                if (k != (int) (want * ISO_BLOCK)) {
                        b.ended = true; /* the writer thread gave up; free_data() joins it */
                        r = iso_flush_messages(b.imgid, false);
                        if (r >= 0)
                                r = -EIO;
                        log_error_errno(r, "Building the image failed at block %" PRIu64 " of %" PRIu64
                                        ": %m", done, b.blocks);
                        goto finish;
                }
                r = write_sparse(out_fd, buf, want, done * ISO_BLOCK);
                if (r < 0) {
                        log_error_errno(r, "Cannot write the image file: %m");
                        goto finish;
                }
                done += want;
                if (progress && (done - reported >= ISO_PROGRESS_BLOCKS || done == b.blocks)) {
                        progress(done, b.blocks, userdata);
                        reported = done;
                }
        }

        /* Wait for the writer thread to finish and learn whether it did so without error. */
        if (b.source->read_xt(b.source, buf, 1) != 0 ||
            iso_ring_buffer_get_status(b.source, NULL, NULL) != 2) {
                b.ended = true;
                r = iso_flush_messages(b.imgid, false);
                if (r >= 0)
                        r = -EIO;
                log_error_errno(r, "libisofs did not finish the image cleanly: %m");
                goto finish;
        }
        b.ended = true;

        if (ftruncate(out_fd, (off_t) (b.blocks * ISO_BLOCK)) < 0) {
                r = log_error_errno(errno, "Cannot set the size of the image file: %m");
                goto finish;
        }
        r = 0;

finish:
        iso_build_done(&b);
        /* After a cancel libisofs reports the aborted write; that is no news. */
        (void) iso_flush_messages(-1, r == -ECANCELED);
        if (r < 0) {
                iso_import_done(&imp);
                return r;
        }
        if (ret_blocks)
                *ret_blocks = done;
        if (ret_import)
                *ret_import = imp;
        else
                iso_import_done(&imp);
        return 0;
}
