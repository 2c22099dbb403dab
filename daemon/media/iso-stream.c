/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* How libisofs reads the staged files: a stream of our own per entry (iso-internal.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "media/iso-internal.h"

/* libisofs reads file content 2 KiB at a time; through its own local-file stream that is one
 * read() per block, which made a 5 GiB file cost seconds of system time. This stream reads
 * 128 KiB ahead (the kernel's readahead keeps the disk streaming behind it; the buffer is
 * resident once per generator, that is per recorder, so it is kept small), and fills holes
 * (SEEK_DATA) with zeros without reading them, so sparse stash files cost nothing. */
#define STASH_STREAM_BUFFER (128U * 1024U)
/* Our streams' file system id; a stream's inode number is its entry's index + 1, so libisofs
 * tells them apart (every entry is a file of its own in the image, packed or not). */
#define STASH_STREAM_FS_ID 0x494d4150U

/* What the streams of one image share: the caller's entries, and the read-ahead buffer of the
 * last file read, which the next one reuses (libisofs reads the files one after another; a
 * buffer per file would be a 128 KiB mmap() and munmap() each). It lives until the image is
 * freed (see IsoBuild). */
struct IsoStashStreams {
        const IsoSource *src;
        struct StashReader *spare; /* atomic */
        size_t failed;             /* atomic: index + 1 of the first entry that could not be read */
};

/* One allocation of 40 bytes per staged file (48 with malloc's header): libisofs frees a stream
 * with free() on its IsoStream, which is therefore the first member, and IsoStream.data points
 * at the IsoStashStreams. The entry is read from the source by its index. The descriptor and the
 * read-ahead exist only while libisofs reads the file. */
typedef struct StashStream {
        IsoStream stream;
        size_t index;
        struct StashReader *reader;
} StashStream;

typedef struct StashReader {
        int fd;
        bool shared;            /* the source's fd (IsoData): not closed here */
        uint64_t base;          /* where the entry's bytes begin in fd */
        uint64_t size;          /* the entry's */
        uint64_t offset;        /* of buf[0] in the file */
        size_t fill, pos;       /* bytes in buf, bytes of them consumed */
        uint8_t buf[];
} StashReader;

static StashStream *stash_stream(IsoStream *stream) {
        return (StashStream *) stream;
}

static void stash_stream_entry(StashStream *s, IsoEntry *ret) {
        const IsoStashStreams *ctx = s->stream.data;

        ctx->src->get(s->index, ret, ctx->src->userdata);
}

/* libisofs' own message names no file of ours: remember which entry failed the image. */
static void note_failed(StashStream *s) {
        IsoStashStreams *ctx = s->stream.data;
        size_t none = 0;

        (void) __atomic_compare_exchange_n(&ctx->failed, &none, s->index + 1, false, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE);
}

static StashReader *reader_get(IsoStashStreams *ctx) {
        StashReader *rd = __atomic_exchange_n(&ctx->spare, NULL, __ATOMIC_ACQ_REL);

        return rd ?: malloc(sizeof(StashReader) + STASH_STREAM_BUFFER);
}

static void reader_put(IsoStashStreams *ctx, StashReader *rd) {
        StashReader *none = NULL;

        if (!rd->shared)
                safe_close(rd->fd);
        if (!__atomic_compare_exchange_n(&ctx->spare, &none, rd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                free(rd);
}

IsoStashStreams *iso_stash_streams_free(IsoStashStreams *ctx) {
        if (ctx) {
                free(ctx->spare);
                free(ctx);
        }
        return NULL;
}

static int stash_stream_open(IsoStream *stream) {
        StashStream *s = stash_stream(stream);
        IsoStashStreams *ctx = s->stream.data;
        StashReader *rd;
        IsoData data = { .fd = -1 };
        IsoEntry e;
        struct stat st;
        uint64_t have;
        int r;

        if (s->reader)
                return (int) ISO_FILE_ALREADY_OPENED;
        stash_stream_entry(s, &e);
        r = ctx->src->open(s->index, &data, ctx->src->userdata);
        if (r < 0) {
                log_error_errno(r, "Cannot open the staged copy of \"%s\": %m", e.image_path);
                note_failed(s);
                return (int) ISO_FILE_ERROR;
        }
        if (fstat(data.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                log_error("The staged copy of \"%s\" is not a regular file.", e.image_path);
                note_failed(s);
                if (!data.shared)
                        safe_close(data.fd);
                return (int) ISO_FILE_ERROR;
        }
        rd = reader_get(ctx);
        if (!rd) {
                if (!data.shared)
                        safe_close(data.fd);
                return (int) ISO_OUT_OF_MEM;
        }
        *rd = (StashReader) { .fd = data.fd, .shared = data.shared, .base = data.offset, .size = e.size };
        s->reader = rd;
        /* libisofs reports a changed size; with our abort severity that fails the image. A range
         * of a shared file can only be cut short (a truncated pack). */
        have = (uint64_t) st.st_size > data.offset ? (uint64_t) st.st_size - data.offset : 0;
        if (data.shared ? have < e.size : have != e.size) {
                log_error("The staged copy of \"%s\" has %" PRIu64 " bytes instead of %" PRIu64 ".",
                          e.image_path, data.shared ? have : (uint64_t) st.st_size, e.size);
                note_failed(s);
                return have > e.size ? 2 : 3;
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
        if (rd->shared)
                goto read_data; /* packed files are small and whole */

        data = lseek(rd->fd, (off_t) off, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
                data = (off_t) rd->size; /* a hole up to the end */
        if (data > (off_t) off) {
                rd->fill = (size_t) MIN(want, (uint64_t) data - off);
                memset(rd->buf, 0, rd->fill);
                return 0;
        }
        /* data < 0 for another reason (SEEK_DATA unsupported): just read. */
read_data:
        k = pread(rd->fd, rd->buf, (size_t) want, (off_t) (rd->base + off));
        if (k < 0) {
                int error = errno;
                IsoEntry e;

                stash_stream_entry(s, &e);
                log_error_errno(error, "Cannot read the staged copy of \"%s\" at %" PRIu64 ": %m",
                                e.image_path, off);
                note_failed(s);
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

int iso_stash_stream_new(IsoStashStreams *ctx, size_t index, IsoStream **ret) {
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


int iso_stash_streams_new(const IsoSource *src, IsoStashStreams **ret) {
        IsoStashStreams *s = calloc(1, sizeof(IsoStashStreams));

        if (!s)
                return log_oom();
        s->src = src;
        *ret = s;
        return 0;
}

const IsoSource *iso_stash_streams_source(const IsoStashStreams *s) {
        return s->src;
}

size_t iso_stash_streams_failed(const IsoStashStreams *s) {
        size_t f = __atomic_load_n(&s->failed, __ATOMIC_ACQUIRE);

        return f > 0 ? f - 1 : SIZE_MAX;
}
