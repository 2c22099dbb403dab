/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tree walk of `imapictl burn`: command-line paths into AddData entries (see walk.h). */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"
#include "walk.h"

typedef struct Frame {
        DIR *dir;
        char *prefix;           /* this folder's path on the disc; "" for the root */
        char *local;            /* and its path here, for messages */
        dev_t dev;
        ino_t ino;
        bool has_children;      /* something below was (or will be) staged */
} Frame;

struct Walker {
        char *const *paths;
        size_t next_path;
        bool open_files, warn;
        Frame stack[WALK_DEPTH_MAX];
        size_t depth;
};

/* D-Bus strings must be valid UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                uint32_t c;
                int n;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                if ((*p & 0xE0) == 0xC0)
                        c = *p & 0x1F, n = 1;
                else if ((*p & 0xF0) == 0xE0)
                        c = *p & 0x0F, n = 2;
                else if ((*p & 0xF8) == 0xF0)
                        c = *p & 0x07, n = 3;
                else
                        return false;
                for (int i = 1; i <= n; i++) {
                        if ((p[i] & 0xC0) != 0x80)
                                return false;
                        c = (c << 6) | (p[i] & 0x3F);
                }
                if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
                    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
                        return false;
                p += n + 1;
        }
        return true;
}

/* A local path for messages, with bytes that are not UTF-8 shown as \xNN. */
static char *printable(const char *dir, const char *name) {
        size_t n = strlen(dir) + strlen(name) + 2;
        char *out = malloc(n * 4 + 1), *o = out;

        if (!out)
                return NULL;
        for (int part = 0; part < 2; part++) {
                const char *s = part == 0 ? dir : name;

                if (part == 1 && *dir && dir[strlen(dir) - 1] != '/')
                        *o++ = '/';
                for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                        if (*p >= 0x80 || *p < 0x20) {
                                char one[5] = { (char) *p };
                                /* Keep whole valid sequences; escape the rest. */
                                size_t len = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 :
                                             (*p & 0xF8) == 0xF0 ? 4 : 0;
                                bool ok = len > 0 && strnlen((const char *) p, len) == len;

                                if (ok) {
                                        memcpy(one, p, len);
                                        one[len] = 0;
                                        ok = utf8_valid(one);
                                }
                                if (ok) {
                                        memcpy(o, p, len);
                                        o += len;
                                        p += len - 1;
                                } else
                                        o += sprintf(o, "\\x%02X", *p);
                        } else
                                *o++ = (char) *p;
        }
        *o = 0;
        return out;
}

static char *join(const char *prefix, const char *name) {
        char *s;

        if (!*prefix)
                return strdup(name);
        if (asprintf(&s, "%s/%s", prefix, name) < 0)
                return NULL;
        return s;
}

int walker_new(char *const *paths, bool open_files, bool warn, Walker **ret) {
        Walker *w = calloc(1, sizeof(Walker));

        if (!w)
                return -ENOMEM;
        w->paths = paths;
        w->open_files = open_files;
        w->warn = warn;
        *ret = w;
        return 0;
}

static void frame_done(Frame *f) {
        if (f->dir)
                closedir(f->dir);
        free(f->prefix);
        free(f->local);
        *f = (Frame) {};
}

Walker *walker_free(Walker *w) {
        if (!w)
                return NULL;
        while (w->depth > 0)
                frame_done(&w->stack[--w->depth]);
        free(w);
        return NULL;
}

void walk_entry_done(WalkEntry *e) {
        free(e->name);
        safe_close(e->fd);
        *e = (WalkEntry) { .fd = -1 };
}

/* Enters a folder whose fd is open; takes the fd. */
static int push_dir(Walker *w, int fd, const char *prefix, const char *local, const char *shown) {
        struct stat st;
        Frame *f;

        if (w->depth >= WALK_DEPTH_MAX) {
                fprintf(stderr, "imapictl: %s: folders nest more than %d deep.\n", shown, WALK_DEPTH_MAX);
                safe_close(fd);
                return -ELOOP;
        }
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                safe_close(fd);
                return r;
        }
        /* Symbolic links inside trees are never followed, but a bind mount can still put a
         * folder inside itself. */
        for (size_t i = 0; i < w->depth; i++)
                if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino) {
                        fprintf(stderr, "imapictl: %s: the folder contains itself (a loop); not burning "
                                "it.\n", shown);
                        safe_close(fd);
                        return -ELOOP;
                }
        f = &w->stack[w->depth];
        *f = (Frame) { .dev = st.st_dev, .ino = st.st_ino };
        f->prefix = strdup(prefix);
        f->local = strdup(local);
        f->dir = f->prefix && f->local ? fdopendir(fd) : NULL;
        if (!f->dir) {
                safe_close(fd);
                frame_done(f);
                return -ENOMEM;
        }
        w->depth++;
        return 0;
}

static int open_file(int dirfd, const char *name, int flags, const char *shown, uint64_t *ret_size,
                     int *ret_fd) {
        struct stat st;
        int fd;

        /* O_NONBLOCK: should the file have been replaced by a FIFO since it was looked at, the open
         * does not hang; fstat below then refuses it. */
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
        if (fd < 0) {
                int r = -errno;
                fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                fprintf(stderr, "imapictl: %s: no longer a regular file.\n", shown);
                safe_close(fd);
                return -EINVAL;
        }
        *ret_size = (uint64_t) st.st_size;
        *ret_fd = fd;
        return 0;
}

/* The name a command-line path gets at the root of the disc; "" puts a folder's contents at the
 * root (for "/", "." and "..", which cp -r would copy the contents of too). */
static char *top_name(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        char *slash, *base;
        size_t n;

        if (!copy)
                return NULL;
        n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/')
                copy[--n] = 0;
        slash = strrchr(copy, '/');
        base = slash ? slash + 1 : copy;
        if (!*base || streq(base, ".") || streq(base, ".."))
                return strdup("");
        return strdup(base);
}

static int next_top(Walker *w, WalkEntry *ret) {
        const char *path = w->paths[w->next_path++];
        _cleanup_free_ char *name = NULL, *shown = printable("", path);
        struct stat st;
        int fd, r;

        if (!shown)
                return -ENOMEM;
        /* Named on the command line: a symbolic link is followed, as the user meant its target. */
        if (stat(path, &st) < 0) {
                r = -errno;
                fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                return r;
        }
        name = top_name(path);
        if (!name)
                return -ENOMEM;
        if (!utf8_valid(name)) {
                fprintf(stderr, "imapictl: %s: the name is not valid UTF-8 and cannot be a name on the "
                        "disc.\n", shown);
                return -EILSEQ;
        }
        if (S_ISDIR(st.st_mode)) {
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                        return r;
                }
                r = push_dir(w, fd, name, path, shown);
                return r < 0 ? r : 0;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(stderr, "imapictl: %s: not a regular file or a folder.\n", shown);
                return -EINVAL;
        }
        if (!*name) {
                fprintf(stderr, "imapictl: %s: a file needs a name on the disc.\n", shown);
                return -EINVAL;
        }
        *ret = (WalkEntry) { .name = TAKE_PTR(name), .fd = -1, .size = (uint64_t) st.st_size };
        if (w->open_files) {
                r = open_file(AT_FDCWD, path, 0, shown, &ret->size, &ret->fd);
                if (r < 0) {
                        walk_entry_done(ret);
                        return r;
                }
        }
        return 1;
}

int walker_next(Walker *w, WalkEntry *ret) {
        int r;

        for (;;) {
                _cleanup_free_ char *shown = NULL, *name = NULL;
                struct dirent *de;
                struct stat st;
                Frame *f;
                int dfd;

                if (w->depth == 0) {
                        if (!w->paths[w->next_path])
                                return 0;
                        r = next_top(w, ret);
                        if (r != 0)
                                return r;
                        continue;
                }

                f = &w->stack[w->depth - 1];
                dfd = dirfd(f->dir);
                errno = 0;
                de = readdir(f->dir);
                if (!de) {
                        _cleanup_free_ char *prefix = TAKE_PTR(f->prefix), *local = TAKE_PTR(f->local);
                        bool empty = !f->has_children;
                        int fd = -1;

                        if (errno != 0) {
                                r = -errno;
                                shown = printable(local, "");
                                fprintf(stderr, "imapictl: cannot read folder %s: %s\n", strna(shown),
                                        strerror(-r));
                                return r;
                        }
                        /* A folder with nothing to stage is staged as an empty folder, from its
                         * own fd, so it still shows on the disc. */
                        if (empty && *prefix && w->open_files) {
                                fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
                                if (fd < 0) {
                                        r = -errno;
                                        fprintf(stderr, "imapictl: %s: %s\n", local, strerror(-r));
                                        return r;
                                }
                        }
                        frame_done(f);
                        w->depth--;
                        if (empty && *prefix) {
                                *ret = (WalkEntry) { .name = TAKE_PTR(prefix), .fd = fd, .is_dir = true };
                                return 1;
                        }
                        continue;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;

                shown = printable(f->local, de->d_name);
                if (!shown)
                        return -ENOMEM;
                if (!utf8_valid(de->d_name)) {
                        fprintf(stderr, "imapictl: %s: the name is not valid UTF-8 and cannot be a name "
                                "on the disc.\n", shown);
                        return -EILSEQ;
                }
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)    /* removed while we walk: nothing to burn */
                                continue;
                        r = -errno;
                        fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                        return r;
                }
                if (S_ISLNK(st.st_mode)) {
                        if (w->warn)
                                fprintf(stderr, "imapictl: warning: skipping symbolic link %s.\n", shown);
                        continue;
                }
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                        if (w->warn)
                                fprintf(stderr, "imapictl: warning: skipping %s, not a regular file or a "
                                        "folder.\n", shown);
                        continue;
                }
                name = join(f->prefix, de->d_name);
                if (!name)
                        return -ENOMEM;
                /* A subfolder stages something: its contents or itself. */
                f->has_children = true;
                if (S_ISDIR(st.st_mode)) {
                        int fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

                        if (fd < 0) {
                                r = -errno;
                                fprintf(stderr, "imapictl: %s: %s\n", shown, strerror(-r));
                                return r;
                        }
                        _cleanup_free_ char *local = join(f->local, de->d_name);

                        if (!local) {
                                safe_close(fd);
                                return -ENOMEM;
                        }
                        r = push_dir(w, fd, name, local, shown);
                        if (r < 0)
                                return r;
                        continue;
                }
                *ret = (WalkEntry) { .name = TAKE_PTR(name), .fd = -1, .size = (uint64_t) st.st_size };
                if (w->open_files) {
                        r = open_file(dfd, de->d_name, O_NOFOLLOW, shown, &ret->size, &ret->fd);
                        if (r < 0) {
                                walk_entry_done(ret);
                                return r;
                        }
                }
                return 1;
        }
}
