/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD front end: makes /dev/srN exist for libburn's Linux transport
 * and turns ioctl(SG_IO) on it into mmc_execute().  Hooks exactly the libc
 * entry points libburn 1.5.4 uses (libburn-notes.md sections 1 and 5),
 * including glibc's pre-2.33 stat ABI (__xstat and friends) and the
 * FORTIFY __open_2; everything else goes to the real libc via
 * dlsym(RTLD_NEXT).
 *
 * An emulated device fd is a real fd on /dev/null, so close/dup/poll work.
 * O_EXCL is made exclusive across processes with flock() on <drive>/lock,
 * as the kernel makes block-device O_EXCL opens exclusive; fcntl() record
 * locks are redirected to <drive>/fcntl-lock, because all fds on
 * /dev/null share one inode and would otherwise conflict across drives.
 *
 * The emulator is active only when MMCEMU_STATE names a state directory.
 */

/*
 * Meson builds with _FILE_OFFSET_BITS=64, which makes glibc's headers rename
 * open() to open64() and so on; here both names must be defined separately.
 */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cdrom.h>
#include <linux/fs.h>
#include <scsi/sg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc-internal entry points that libburn imports; not declared by the headers. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __xstat(int ver, const char *path, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int fcntl64(int fd, int cmd, ...);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags);
#define MAX_FDS 4096

#ifndef SCSI_IOCTL_GET_IDLUN
#define SCSI_IOCTL_GET_IDLUN 0x5382
#endif
#ifndef SCSI_IOCTL_GET_BUS_NUMBER
#define SCSI_IOCTL_GET_BUS_NUMBER 0x5386
#endif

/* One open file description on an emulated drive, shared by dup()ed fds. */
typedef struct OpenFile {
        Drive *drive;
        int excl_fd;            /* flock()ed <drive>/lock for O_EXCL opens, or -1 */
        int refs;
        off_t pos;              /* file position for read()/lseek() */
} OpenFile;

static struct {
        pthread_once_t once;
        pthread_mutex_t lock;   /* fd table; never held across an MMC command */
        pthread_mutex_t drives_lock;    /* adding drives; drive_init() may call other hooks */
        bool active;
        char state[PATH_MAX];
        int n_drives;
        Drive *drives[EMU_MAX_DRIVES];
        int fcntl_fd[EMU_MAX_DRIVES];   /* per process, for F_SETLK redirection */
        int opens[EMU_MAX_DRIVES];      /* fds open on each drive in this process */
        OpenFile *fds[MAX_FDS];
        bool trace;
        int fdcheck_fd;         /* MMCEMU_FDCHECK's file, or -1 */
        bool burn_opened[MAX_FDS];      /* with MMCEMU_FDCHECK: fds that libburn opened itself */
} emu = {
        .fdcheck_fd = -1,
        .once = PTHREAD_ONCE_INIT,
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .drives_lock = PTHREAD_MUTEX_INITIALIZER,
};

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real___open_2)(const char *, int);
static int (*real___open64_2)(const char *, int);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_fcntl)(int, int, ...);
static int (*real_fcntl64)(int, int, ...);
static int (*real_dup)(int);
static int (*real_dup2)(int, int);
static int (*real_dup3)(int, int, int);
static int (*real___xstat)(int, const char *, struct stat *);
static int (*real___lxstat)(int, const char *, struct stat *);
static int (*real___fxstat)(int, int, struct stat *);
static int (*real_stat)(const char *, struct stat *);
static int (*real_lstat)(const char *, struct stat *);
static int (*real_fstat)(int, struct stat *);
static int (*real_fstatat)(int, const char *, struct stat *, int);
static int (*real___fxstatat)(int, int, const char *, struct stat *, int);
static int (*real_statx)(int, const char *, int, unsigned, struct statx *);
static int (*real_access)(const char *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_getxattr)(const char *, const char *, void *, size_t);
static ssize_t (*real_lgetxattr)(const char *, const char *, void *, size_t);
static ssize_t (*real_listxattr)(const char *, char *, size_t);
static ssize_t (*real_llistxattr)(const char *, char *, size_t);
static ssize_t (*real___read_chk)(int, void *, size_t, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static off_t (*real_lseek)(int, off_t, int);
static FILE *(*real_fopen)(const char *, const char *);
static FILE *(*real_fopen64)(const char *, const char *);

#define LOAD(name) real_##name = dlsym(RTLD_NEXT, #name)

static void load_symbols(void) {
        LOAD(open);
        LOAD(open64);
        LOAD(__open_2);
        LOAD(__open64_2);
        LOAD(openat);
        LOAD(close);
        LOAD(ioctl);
        LOAD(fcntl);
        LOAD(fcntl64);
        LOAD(dup);
        LOAD(dup2);
        LOAD(dup3);
        LOAD(__xstat);
        LOAD(__lxstat);
        LOAD(__fxstat);
        LOAD(stat);
        LOAD(lstat);
        LOAD(fstat);
        LOAD(fstatat);
        LOAD(__fxstatat);
        LOAD(statx);
        LOAD(access);
        LOAD(read);
        LOAD(getxattr);
        LOAD(lgetxattr);
        LOAD(listxattr);
        LOAD(llistxattr);
        LOAD(__read_chk);
        LOAD(pread);
        LOAD(lseek);
        LOAD(fopen);
        LOAD(fopen64);
}

/*
 * MMCEMU_FDCHECK=FILE: a record, appended to FILE, of what a stray close() of the program under
 * test leaves behind: an emulated drive's fd number that is no longer the emulator's /dev/null
 * (closed behind the emulator's back and reused), a close() that fails with EBADF, and a close
 * from libburn of an fd that is not a drive's (its own drive closed twice, the number reused by
 * someone else), each with a backtrace. Off unless set: it costs an fstat() per call on a drive
 * and a dladdr() per open and close.
 */
static void fdcheck_init(void) {
        const char *path = getenv("MMCEMU_FDCHECK");
        void *frames[1];

        if (!path || !*path)
                return;
        (void) backtrace(frames, 1);    /* loads libgcc_s now, not inside a hook */
        emu.fdcheck_fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static void fdcheck_report(const char *fmt, ...) {
        char line[512];
        void *frames[24];
        va_list ap;
        int n, k;

        if (emu.fdcheck_fd < 0)
                return;
        n = snprintf(line, sizeof line, "%d %d: ", (int) getpid(), (int) gettid());
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
        va_end(ap);
        if (n > (int) sizeof line - 2)
                n = (int) sizeof line - 2;
        line[n++] = '\n';
        (void) !write(emu.fdcheck_fd, line, (size_t) n);
        k = backtrace(frames, 24);
        backtrace_symbols_fd(frames, k, emu.fdcheck_fd);
}

static void fd_target(int fd, char *buf, size_t size) {
        char link[64];
        ssize_t n;

        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        n = readlink(link, buf, size - 1);
        buf[n < 0 ? 0 : n] = 0;
}

/* A drive's fd must still be the emulator's /dev/null. */
static void fdcheck_drive_fd(int fd, const char *what) {
        struct stat st;
        char target[256];

        if (emu.fdcheck_fd < 0)
                return;
        if (real_fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return;
        fd_target(fd, target, sizeof target);
        fdcheck_report("STALE %s(%d): a drive's fd, but it is '%s'", what, fd, target);
}

static bool from_libburn(const void *caller) {
        Dl_info info;

        return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libburn");
}

/* After an open of a file that is not a drive. */
static int fdcheck_opened(int fd, const void *caller) {
        if (emu.fdcheck_fd >= 0 && fd >= 0 && fd < MAX_FDS)
                __atomic_store_n(&emu.burn_opened[fd], from_libburn(caller), __ATOMIC_RELEASE);
        return fd;
}

/* Before the real close of an fd that is not a drive's. */
static void fdcheck_close(int fd, const void *caller) {
        char target[256];

        if (emu.fdcheck_fd < 0 || fd < 0 || fd >= MAX_FDS)
                return;
        if (from_libburn(caller) && !__atomic_exchange_n(&emu.burn_opened[fd], false, __ATOMIC_ACQ_REL)) {
                fd_target(fd, target, sizeof target);
                fdcheck_report("LIBBURN-CLOSE close(%d) of '%s', neither a drive nor a file libburn opened",
                               fd, target);
        }
}

/* Set while emu_init() runs: its own fopen()/stat() calls come back through the hooks. */
static __thread bool in_init;

/* A child forked while another thread held a table lock must not inherit it locked. */
static void atfork_prepare(void) {
        pthread_mutex_lock(&emu.drives_lock);
        pthread_mutex_lock(&emu.lock);
}

static void atfork_release(void) {
        pthread_mutex_unlock(&emu.lock);
        pthread_mutex_unlock(&emu.drives_lock);
}

static void emu_init(void) {
        const char *s = getenv("MMCEMU_STATE");

        in_init = true;
        load_symbols();
        pthread_atfork(atfork_prepare, atfork_release, atfork_release);
        for (int i = 0; i < EMU_MAX_DRIVES; i++)
                emu.fcntl_fd[i] = -1;
        emu.trace = getenv("MMCEMU_TRACE") != NULL;
        fdcheck_init();
        if (!s || !*s) {
                in_init = false;
                return;
        }
        snprintf(emu.state, sizeof emu.state, "%s", s);
        emu.active = true;
        in_init = false;
}

static void ensure_init(void) {
        if (!in_init)
                pthread_once(&emu.once, emu_init);
}

/*
 * Drives are the srN directories of the state, N = 0, 1, ... without gaps.
 * They are picked up when first looked for, so a drive added to the state
 * while a program runs appears to it like a hot-plugged one.
 */
static int drive_count(int wanted) {
        int n = __atomic_load_n(&emu.n_drives, __ATOMIC_ACQUIRE);

        if (wanted < n)
                return n;
        pthread_mutex_lock(&emu.drives_lock);
        for (n = emu.n_drives; n < EMU_MAX_DRIVES && n <= wanted; n++) {
                char dir[PATH_MAX + 16];
                struct stat st;
                Drive *d;

                snprintf(dir, sizeof dir, "%s/sr%d", emu.state, n);
                if (real_stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        break;
                /* Mapped rather than allocated: a Drive is 118 KiB, most of it room for a CD-TEXT
                 * lead-in, and only the pages a drive uses count in the memory of the program under
                 * test (a real drive costs it nothing). Never freed, as drives are never removed. */
                d = mmap(NULL, sizeof(Drive), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (d == MAP_FAILED)
                        break;
                drive_init(d, dir, n);
                emu.drives[n] = d;
                __atomic_store_n(&emu.n_drives, n + 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&emu.drives_lock);
        return __atomic_load_n(&emu.n_drives, __ATOMIC_ACQUIRE);
}

/* "/dev/srN" -> drive index, or -1. */
static int drive_index_of_path(const char *path) {
        char *end;
        long n;

        if (!path || strncmp(path, "/dev/sr", 7) != 0)
                return -1;
        ensure_init();
        if (!emu.active || path[7] < '0' || path[7] > '9')
                return -1;
        n = strtol(path + 7, &end, 10);
        if (*end || n < 0 || n >= EMU_MAX_DRIVES || n >= drive_count(n))
                return -1;
        return (int) n;
}

/* Lock-free: every read() and close() of the process passes through here. */
static OpenFile *file_of_fd(int fd) {
        if (fd < 0 || fd >= MAX_FDS)
                return NULL;
        ensure_init();
        if (!emu.active)
                return NULL;
        return __atomic_load_n(&emu.fds[fd], __ATOMIC_ACQUIRE);
}

static void fake_stat(int index, struct stat *st) {
        memset(st, 0, sizeof *st);
        st->st_dev = makedev(0, 5);
        st->st_ino = 1000 + index;
        st->st_mode = S_IFBLK | 0660;
        st->st_nlink = 1;
        st->st_gid = 24;        /* cdrom */
        st->st_rdev = makedev(11, index);       /* SCSI CD-ROM major */
        st->st_blksize = 2048;
        st->st_atim = st->st_mtim = st->st_ctim = (struct timespec) { .tv_sec = 1700000000 };
}

static int stat_path(int index, struct stat *st) {
        if (drive_dir_removed(emu.drives[index]->dir)) {
                errno = ENOENT;
                return -1;
        }
        fake_stat(index, st);
        return 0;
}

static int open_drive(int index, const char *path, int flags) {
        Drive *d = emu.drives[index];
        OpenFile *f;
        int fd, excl_fd = -1;

        if (drive_dir_removed(d->dir)) {
                errno = ENOENT;
                return -1;
        }
        if (!(flags & O_NONBLOCK)) {
                bool has;

                /*
                 * A blocking open wants a disc: the sr driver closes an ejected tray
                 * and fails with ENOMEDIUM if there is still none (cdrom_open()).
                 * libburn opens with O_NONBLOCK; dd and isoinfo do not.
                 */
                pthread_mutex_lock(&d->lock);
                (void) drive_refresh_faults(d);
                if (medium_replaced(d))
                        (void) medium_load(d);
                if (d->tray_open && !d->faults.tray_open) {
                        d->tray_open = false;
                        (void) medium_save(d);
                }
                has = drive_has_medium(d);
                pthread_mutex_unlock(&d->lock);
                if (!has) {
                        errno = ENOMEDIUM;
                        return -1;
                }
        }
        if (flags & O_EXCL) {
                char lp[PATH_MAX + 16];

                /* "busy": someone else holds the drive, as another process would. */
                pthread_mutex_lock(&d->lock);
                (void) drive_refresh_faults(d);
                pthread_mutex_unlock(&d->lock);
                if (d->faults.busy) {
                        errno = EBUSY;
                        return -1;
                }
                snprintf(lp, sizeof lp, "%s/lock", d->dir);
                excl_fd = real_open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                if (excl_fd < 0)
                        return -1;
                if (flock(excl_fd, LOCK_EX | LOCK_NB) < 0) {
                        real_close(excl_fd);
                        errno = EBUSY;
                        return -1;
                }
        }
        /* The device fd belongs to the application: it keeps the application's O_CLOEXEC choice. */
        fd = real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
        if (fd < 0 || fd >= MAX_FDS) {
                if (fd >= 0)
                        real_close(fd);
                if (excl_fd >= 0)
                        real_close(excl_fd);
                errno = EMFILE;
                return -1;
        }
        f = calloc(1, sizeof *f);
        if (!f) {
                real_close(fd);
                if (excl_fd >= 0)
                        real_close(excl_fd);
                errno = ENOMEM;
                return -1;
        }
        *f = (OpenFile) { .drive = d, .excl_fd = excl_fd, .refs = 1 };
        (void) fdcheck_opened(fd, NULL);        /* a drive's, not a file libburn opened */

        /* First open in this process: pick up what other processes recorded. */
        pthread_mutex_lock(&emu.lock);
        if (emu.opens[index]++ == 0) {
                pthread_mutex_lock(&d->lock);
                (void) medium_load(d);
                d->prevent = false;
                pthread_mutex_unlock(&d->lock);
        }
        __atomic_store_n(&emu.fds[fd], f, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&emu.lock);
        if (emu.trace)
                fprintf(stderr, "mmcemu: open(%s) = %d\n", path, fd);
        return fd;
}

static int close_emulated(int fd) {
        OpenFile *f;
        Drive *d;
        int index, excl_fd = -1, r;
        bool last = false;

        pthread_mutex_lock(&emu.lock);
        f = emu.fds[fd];
        if (!f) {
                /* another thread closed it first */
                pthread_mutex_unlock(&emu.lock);
                return real_close(fd);
        }
        __atomic_store_n(&emu.fds[fd], NULL, __ATOMIC_RELEASE);
        d = f->drive;
        index = d->index;
        if (--f->refs == 0) {
                excl_fd = f->excl_fd;
                free(f);
        }
        last = --emu.opens[index] == 0;
        pthread_mutex_unlock(&emu.lock);

        /* The kernel drops this process's record locks on any close of the inode. */
        if (emu.fcntl_fd[index] >= 0) {
                struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

                real_fcntl(emu.fcntl_fd[index], F_SETLK, &fl);
        }
        if (last) {
                pthread_mutex_lock(&d->lock);
                /* Linux sr unlocks the door on last close (sr_release -> cdrom_release). */
                d->prevent = false;
                if (d->dirty)
                        (void) medium_save(d);
                pthread_mutex_unlock(&d->lock);
        }
        r = real_close(fd);
        if (excl_fd >= 0)
                real_close(excl_fd);
        return r;
}

/* ------------------------------------------------------------------ SG_IO */


static void slow_record(Drive *d, uint8_t op, const char *end) {
        char path[PATH_MAX + 16], line[64];
        int fd, n;

        snprintf(path, sizeof path, "%s/slowed.log", d->dir);
        fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                n = snprintf(line, sizeof line, "%02X %d %d%s\n", op, (int) getpid(), (int) gettid(), end);
                (void) !write(fd, line, (size_t) n);
                real_close(fd);
        }
}

/* The delay of the slow fault, recorded in <dir>/slowed.log as "OP PID TID" (hex operation code,
 * the calling process and thread) before it starts and "OP PID TID end" when it is over: a test
 * sees which thread waited, and what happened while it did. */
static void slow_down(Drive *d, uint8_t op) {
        slow_record(d, op, "");
        usleep((useconds_t) d->faults.slow_ms * 1000);
        slow_record(d, op, " end");
}

static int do_sg_io(OpenFile *f, sg_io_hdr_t *h) {
        Drive *d = f->drive;
        uint8_t cdb[16];
        MmcCommand c = { 0 };
        struct timespec t0, t1;

        if (h->interface_id != 'S') {
                errno = ENOSYS;
                return -1;
        }
        if (h->cmd_len < 6 || h->cmd_len > 16 || !h->cmdp || h->iovec_count) {
                errno = EINVAL;
                return -1;
        }
        memcpy(cdb, h->cmdp, h->cmd_len);
        c.cdb = cdb;
        c.cdb_len = h->cmd_len;
        c.data = h->dxferp;
        c.data_len = h->dxfer_len;
        c.dir = h->dxfer_direction == SG_DXFER_TO_DEV ? EMU_DIR_TO_DEV :
                h->dxfer_direction == SG_DXFER_FROM_DEV || h->dxfer_direction == SG_DXFER_TO_FROM_DEV ?
                EMU_DIR_FROM_DEV : EMU_DIR_NONE;
        if (c.data_len == 0)
                c.dir = EMU_DIR_NONE;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_mutex_lock(&d->lock);
        mmc_execute(d, &c);
        pthread_mutex_unlock(&d->lock);
        if (d->faults.slow_ms > 0 && (d->faults.slow_op < 0 || d->faults.slow_op == cdb[0]))
                slow_down(d, cdb[0]);
        clock_gettime(CLOCK_MONOTONIC, &t1);

        h->status = c.status;
        h->masked_status = c.status >> 1;
        h->msg_status = 0;
        h->host_status = 0;
        h->driver_status = c.sense_len ? 0x08 : 0;     /* DRIVER_SENSE */
        h->sb_len_wr = 0;
        if (c.sense_len && h->sbp && h->mx_sb_len) {
                h->sb_len_wr = c.sense_len < h->mx_sb_len ? c.sense_len : h->mx_sb_len;
                memcpy(h->sbp, c.sense, h->sb_len_wr);
        }
        h->resid = (int) c.resid;
        h->duration = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        h->info = c.status || c.sense_len ? SG_INFO_CHECK : SG_INFO_OK;
        if (emu.trace) {
                char out[3 * 12 + 8] = "";

                /* The head of a parameter list (FORMAT UNIT, MODE SELECT, cue sheet), not of WRITE data. */
                if (c.dir == EMU_DIR_TO_DEV && cdb[0] != 0x2a && cdb[0] != 0xaa) {
                        size_t n = c.data_len < 12 ? c.data_len : 12, o = strlen(strcpy(out, " out="));

                        for (size_t i = 0; i < n; i++, o += 2)
                                snprintf(out + o, sizeof out - o, "%02X", ((const uint8_t *) c.data)[i]);
                }
                fprintf(stderr, "mmcemu: sr%d %02X %02X%02X%02X%02X%02X len=%u%s -> %d %X/%02X/%02X\n",
                        d->index, cdb[0], cdb[1], cdb[2], cdb[3], cdb[4], cdb[5], h->dxfer_len, out,
                        c.status, c.sense[2] & 0xf, c.sense[12], c.sense[13]);
        }
        return 0;
}

static int do_cdrom_ioctl(OpenFile *f, unsigned long req, void *arg) {
        Drive *d = f->drive;
        int r = 0;

        pthread_mutex_lock(&d->lock);
        (void) drive_refresh_faults(d);
        switch (req) {
        case CDROM_DRIVE_STATUS:
                r = d->faults.tray_open || d->tray_open ? CDS_TRAY_OPEN :
                    drive_has_medium(d) ? CDS_DISC_OK : CDS_NO_DISC;
                break;
        case CDROM_DISC_STATUS:
                r = !drive_has_medium(d) ? CDS_NO_DISC :
                    d->m.n_tracks == 0 && !medium_is_overwritable(d->m.type) ? CDS_NO_INFO :
                    d->m.n_tracks && d->m.tracks[0].block_size == 2352 ? CDS_AUDIO : CDS_DATA_1;
                break;
        case CDROM_MEDIA_CHANGED:
                r = d->unit_attention;
                break;
        case CDROM_GET_CAPABILITY:
                r = CDC_CLOSE_TRAY | CDC_OPEN_TRAY | CDC_LOCK | CDC_SELECT_SPEED | CDC_MULTI_SESSION |
                    CDC_MEDIA_CHANGED | CDC_PLAY_AUDIO | CDC_DRIVE_STATUS | CDC_GENERIC_PACKET | CDC_CD_R |
                    CDC_CD_RW | CDC_DVD | CDC_DVD_R | CDC_MRW | CDC_MRW_W;
                break;
        case CDROMEJECT:
                if (d->prevent) {
                        errno = EBUSY;
                        r = -1;
                } else {
                        d->tray_open = true;
                        (void) medium_save(d);
                }
                break;
        case CDROMCLOSETRAY:
                d->tray_open = false;
                (void) medium_save(d);
                break;
        case CDROM_LOCKDOOR:
                d->prevent = (long) arg != 0;
                break;
        default:
                errno = ENOTTY;
                r = -1;
        }
        pthread_mutex_unlock(&d->lock);
        return r;
}

static int emulated_ioctl(OpenFile *f, unsigned long req, void *arg) {
        Drive *d = f->drive;

        /* "removed": the device is gone, every ioctl fails as on a hot-unplugged sr. */
        pthread_mutex_lock(&d->lock);
        (void) drive_refresh_faults(d);
        pthread_mutex_unlock(&d->lock);
        if (d->faults.removed) {
                errno = ENODEV;
                return -1;
        }
        switch (req) {
        case SG_IO:
                return do_sg_io(f, arg);
        case SG_GET_VERSION_NUM:
                *(int *) arg = 30527;
                return 0;
        case SG_EMULATED_HOST:
                *(int *) arg = 1;
                return 0;
        case SG_GET_TIMEOUT:
                return 60 * 100;
        case SG_SET_TIMEOUT:
                return 0;
        case SG_GET_RESERVED_SIZE:
                *(int *) arg = 128 * 1024;
                return 0;
        case SCSI_IOCTL_GET_BUS_NUMBER:
                *(int *) arg = d->index;
                return 0;
        case BLKGETSIZE64:
        case BLKGETSIZE:
        case BLKSSZGET:
        case BLKBSZGET: {
                uint64_t bytes;

                pthread_mutex_lock(&d->lock);
                bytes = drive_has_medium(d) ? (uint64_t) medium_readable_blocks(&d->m) * 2048 : 0;
                pthread_mutex_unlock(&d->lock);
                if (req == BLKGETSIZE64)
                        *(uint64_t *) arg = bytes;
                else if (req == BLKGETSIZE)
                        *(unsigned long *) arg = bytes / 512;
                else
                        *(int *) arg = 2048;
                return 0;
        }
        case SCSI_IOCTL_GET_IDLUN: {
                /* x = id | lun << 8 | channel << 16 | host << 24; one host per drive. */
                int *idlun = arg;

                idlun[0] = (d->index & 0xff) << 24;
                idlun[1] = d->index;
                return 0;
        }
        case CDROM_DRIVE_STATUS:
        case CDROM_DISC_STATUS:
        case CDROM_MEDIA_CHANGED:
        case CDROM_GET_CAPABILITY:
        case CDROMEJECT:
        case CDROMCLOSETRAY:
        case CDROM_LOCKDOOR:
                return do_cdrom_ioctl(f, req, arg);
        default:
                /* HDIO_GET_IDENTITY, SG_GET_SCSI_ID, ...: unsupported on sr, as on a real one. */
                errno = ENOTTY;
                return -1;
        }
}

/* read(2) on the device node: the disc's 2048-byte sectors, as from the sr block device. */
static ssize_t emulated_pread(OpenFile *f, void *buf, size_t n, off_t off) {
        Drive *d = f->drive;
        ssize_t r;

        pthread_mutex_lock(&d->lock);
        (void) drive_refresh_faults(d);
        if (d->faults.removed)
                r = -ENODEV;
        else if (!drive_has_medium(d))
                r = -ENOMEDIUM;
        else {
                if (medium_replaced(d))
                        (void) medium_load(d);
                r = medium_pread(d, buf, n, off);
        }
        pthread_mutex_unlock(&d->lock);
        if (r < 0) {
                errno = (int) -r;
                return -1;
        }
        return r;
}

static ssize_t emulated_read(OpenFile *f, void *buf, size_t n) {
        ssize_t r = emulated_pread(f, buf, n, f->pos);

        if (r > 0)
                f->pos += r;
        return r;
}

static off_t emulated_lseek(OpenFile *f, off_t off, int whence) {
        Drive *d = f->drive;
        off_t base;

        switch (whence) {
        case SEEK_SET:
                base = 0;
                break;
        case SEEK_CUR:
                base = f->pos;
                break;
        case SEEK_END:
                pthread_mutex_lock(&d->lock);
                base = (off_t) medium_readable_blocks(&d->m) * 2048;
                pthread_mutex_unlock(&d->lock);
                break;
        default:
                errno = EINVAL;
                return -1;
        }
        if (base + off < 0) {
                errno = EINVAL;
                return -1;
        }
        f->pos = base + off;
        return f->pos;
}

/* ------------------------------------------------------------------ hooks */

EXPORT int open(const char *path, int flags, ...) {
        mode_t mode = 0;
        int i;

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;

                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        i = drive_index_of_path(path);
        if (i >= 0)
                return open_drive(i, path, flags);
        ensure_init();
        return fdcheck_opened(real_open(path, flags, mode), __builtin_return_address(0));
}

EXPORT int open64(const char *path, int flags, ...) {
        mode_t mode = 0;
        int i;

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;

                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        i = drive_index_of_path(path);
        if (i >= 0)
                return open_drive(i, path, flags);
        ensure_init();
        return fdcheck_opened(real_open64 ? real_open64(path, flags, mode) : real_open(path, flags, mode),
                              __builtin_return_address(0));
}

EXPORT int __open_2(const char *path, int flags) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return open_drive(i, path, flags);
        ensure_init();
        return fdcheck_opened(real___open_2(path, flags), __builtin_return_address(0));
}

EXPORT int __open64_2(const char *path, int flags) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return open_drive(i, path, flags);
        ensure_init();
        return fdcheck_opened(real___open64_2 ? real___open64_2(path, flags) : real___open_2(path, flags),
                              __builtin_return_address(0));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
        mode_t mode = 0;
        int i;

        if (flags & (O_CREAT | O_TMPFILE)) {
                va_list ap;

                va_start(ap, flags);
                mode = va_arg(ap, mode_t);
                va_end(ap);
        }
        i = drive_index_of_path(path);
        if (i >= 0)
                return open_drive(i, path, flags);
        ensure_init();
        return fdcheck_opened(real_openat(dirfd, path, flags, mode), __builtin_return_address(0));
}

EXPORT int close(int fd) {
        int r;

        if (file_of_fd(fd)) {
                fdcheck_drive_fd(fd, "close");
                return close_emulated(fd);
        }
        ensure_init();
        fdcheck_close(fd, __builtin_return_address(0));
        r = real_close(fd);
        if (r < 0 && errno == EBADF && fd >= 0 && emu.fdcheck_fd >= 0) {
                fdcheck_report("EBADF close(%d)", fd);
                errno = EBADF;
        }
        return r;
}

EXPORT ssize_t read(int fd, void *buf, size_t n) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                fdcheck_drive_fd(fd, "read");
                return emulated_read(f, buf, n);
        }
        return real_read(fd, buf, n);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                if (n > buflen)
                        abort();        /* what the fortified libc does on overflow */
                return emulated_read(f, buf, n);
        }
        return real___read_chk(fd, buf, n, buflen);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                fdcheck_drive_fd(fd, "pread");
                return emulated_pread(f, buf, n, off);
        }
        return real_pread(fd, buf, n, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off) {
        return pread(fd, buf, n, off);
}

EXPORT off_t lseek(int fd, off_t off, int whence) {
        OpenFile *f = file_of_fd(fd);

        if (f)
                return emulated_lseek(f, off, whence);
        return real_lseek(fd, off, whence);
}

EXPORT off64_t lseek64(int fd, off64_t off, int whence) {
        return lseek(fd, off, whence);
}

EXPORT int ioctl(int fd, unsigned long req, ...) {
        OpenFile *f = file_of_fd(fd);
        va_list ap;
        void *arg;

        va_start(ap, req);
        arg = va_arg(ap, void *);
        va_end(ap);
        if (f) {
                fdcheck_drive_fd(fd, "ioctl");
                return emulated_ioctl(f, req, arg);
        }
        return real_ioctl(fd, req, arg);
}

static int dup_register(int oldfd, int newfd) {
        OpenFile *f;

        if (newfd < 0)
                return newfd;
        pthread_mutex_lock(&emu.lock);
        f = oldfd >= 0 && oldfd < MAX_FDS ? emu.fds[oldfd] : NULL;
        if (f && newfd < MAX_FDS && newfd != oldfd) {
                f->refs++;
                emu.opens[f->drive->index]++;
                __atomic_store_n(&emu.fds[newfd], f, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&emu.lock);
        return newfd;
}

/* Record locks on an emulated fd go to the drive's own lock file. */
static int redirect_lock(OpenFile *f, int cmd, void *arg) {
        int index = f->drive->index;

        pthread_mutex_lock(&emu.lock);
        if (emu.fcntl_fd[index] < 0) {
                char lp[PATH_MAX + 16];

                snprintf(lp, sizeof lp, "%s/fcntl-lock", f->drive->dir);
                emu.fcntl_fd[index] = real_open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        }
        pthread_mutex_unlock(&emu.lock);
        if (emu.fcntl_fd[index] < 0)
                return -1;
        return real_fcntl(emu.fcntl_fd[index], cmd, arg);
}

static int do_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                switch (cmd) {
                case F_SETLK:
                case F_SETLKW:
                case F_GETLK:
                        return redirect_lock(f, cmd, arg);
                case F_DUPFD:
                case F_DUPFD_CLOEXEC:
                        return dup_register(fd, fn(fd, cmd, arg));
                }
        }
        return fn(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...) {
        va_list ap;
        void *arg;

        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        ensure_init();
        return do_fcntl(real_fcntl, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...) {
        va_list ap;
        void *arg;

        va_start(ap, cmd);
        arg = va_arg(ap, void *);
        va_end(ap);
        ensure_init();
        return do_fcntl(real_fcntl64 ? real_fcntl64 : real_fcntl, fd, cmd, arg);
}

EXPORT int dup(int fd) {
        ensure_init();
        return dup_register(fd, real_dup(fd));
}

EXPORT int dup2(int fd, int newfd) {
        ensure_init();
        if (newfd != fd && file_of_fd(newfd))
                close_emulated(newfd);
        return dup_register(fd, real_dup2(fd, newfd));
}

EXPORT int dup3(int fd, int newfd, int flags) {
        ensure_init();
        if (newfd != fd && file_of_fd(newfd))
                close_emulated(newfd);
        return dup_register(fd, real_dup3(fd, newfd, flags));
}

/* The pre-2.33 stat ABI that Debian's libburn.so.4 imports. */
EXPORT int __xstat(int ver, const char *path, struct stat *st) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real___xstat(ver, path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real___lxstat(ver, path, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                fake_stat(f->drive->index, st);
                return 0;
        }
        return real___fxstat(ver, fd, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st) {
        return __xstat(ver, path, (struct stat *) st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st) {
        return __lxstat(ver, path, (struct stat *) st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st) {
        return __fxstat(ver, fd, (struct stat *) st);
}

EXPORT int stat(const char *path, struct stat *st) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real_stat(path, st);
}

EXPORT int lstat(const char *path, struct stat *st) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real_lstat(path, st);
}

EXPORT int fstat(int fd, struct stat *st) {
        OpenFile *f = file_of_fd(fd);

        if (f) {
                fake_stat(f->drive->index, st);
                return 0;
        }
        ensure_init();
        return real_fstat(fd, st);
}

EXPORT int stat64(const char *path, struct stat64 *st) {
        return stat(path, (struct stat *) st);
}

EXPORT int lstat64(const char *path, struct stat64 *st) {
        return lstat(path, (struct stat *) st);
}

EXPORT int fstat64(int fd, struct stat64 *st) {
        return fstat(fd, (struct stat *) st);
}

/* Newer programs (coreutils, Python) stat through these; absolute /dev/srN paths only. */
EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real_fstatat(dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
        return fstatat(dirfd, path, (struct stat *) st, flags);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return stat_path(i, st);
        ensure_init();
        return real___fxstatat(ver, dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st, int flags) {
        return __fxstatat(ver, dirfd, path, (struct stat *) st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx) {
        int i = drive_index_of_path(path);
        struct stat st;

        if (i < 0) {
                ensure_init();
                return real_statx(dirfd, path, flags, mask, stx);
        }
        if (stat_path(i, &st) < 0)
                return -1;
        memset(stx, 0, sizeof *stx);
        stx->stx_mask = STATX_BASIC_STATS;
        stx->stx_blksize = st.st_blksize;
        stx->stx_nlink = st.st_nlink;
        stx->stx_gid = st.st_gid;
        stx->stx_mode = st.st_mode;
        stx->stx_ino = st.st_ino;
        stx->stx_atime.tv_sec = stx->stx_mtime.tv_sec = stx->stx_ctime.tv_sec = st.st_mtim.tv_sec;
        stx->stx_rdev_major = major(st.st_rdev);
        stx->stx_rdev_minor = minor(st.st_rdev);
        stx->stx_dev_major = major(st.st_dev);
        stx->stx_dev_minor = minor(st.st_dev);
        return 0;
}

EXPORT int access(const char *path, int mode) {
        int i = drive_index_of_path(path);

        if (i >= 0) {
                struct stat st;

                return stat_path(i, &st);
        }
        ensure_init();
        return real_access(path, mode);
}

/* A device node has no extended attributes (ls -l asks for ACLs and SELinux labels). */
static ssize_t no_xattr(int index) {
        struct stat st;

        if (stat_path(index, &st) < 0)
                return -1;
        errno = ENODATA;
        return -1;
}

EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return no_xattr(i);
        ensure_init();
        return real_getxattr(path, name, value, size);
}

EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size) {
        int i = drive_index_of_path(path);

        if (i >= 0)
                return no_xattr(i);
        ensure_init();
        return real_lgetxattr(path, name, value, size);
}

EXPORT ssize_t listxattr(const char *path, char *list, size_t size) {
        int i = drive_index_of_path(path);
        struct stat st;

        if (i >= 0)
                return stat_path(i, &st) < 0 ? -1 : 0;
        ensure_init();
        return real_listxattr(path, list, size);
}

EXPORT ssize_t llistxattr(const char *path, char *list, size_t size) {
        int i = drive_index_of_path(path);
        struct stat st;

        if (i >= 0)
                return stat_path(i, &st) < 0 ? -1 : 0;
        ensure_init();
        return real_llistxattr(path, list, size);
}

/* libburn's add_proc_info_drives() reads this (libburn-notes.md 1.1). */
static FILE *cdrom_info(void) {
        static __thread char text[1024];
        size_t n;

        n = snprintf(text, sizeof text, "CD-ROM information, Id: cdrom.c 3.20 2003/12/17\n\ndrive name:\t");
        for (int i = drive_count(EMU_MAX_DRIVES) - 1; i >= 0 && n < sizeof text - 16; i--)
                n += snprintf(text + n, sizeof text - n, "\tsr%d", i);
        n += snprintf(text + n, sizeof text - n, "\n");
        return fmemopen(text, n, "r");
}

EXPORT FILE *fopen(const char *path, const char *mode) {
        ensure_init();
        if (emu.active && path && strcmp(path, "/proc/sys/dev/cdrom/info") == 0)
                return cdrom_info();
        return real_fopen(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode) {
        ensure_init();
        if (emu.active && path && strcmp(path, "/proc/sys/dev/cdrom/info") == 0)
                return cdrom_info();
        return real_fopen64 ? real_fopen64(path, mode) : real_fopen(path, mode);
}
