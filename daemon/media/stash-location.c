/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a stash may live (stash_check_location()): a local directory, created if missing, on a
 * file system that is neither compressed, encrypted nor on a removable disk. Removable is what
 * sysfs says of the block device under the root, followed through device-mapper and btrfs.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <imapi/imapierror.h>
#include "log.h"
#include "macro.h"
#include "media/stash-internal.h"

/* Sysfs "slaves" chains (dm-crypt on LVM on a partition) are short; this only stops loops. */
#define SLAVES_DEPTH_MAX 8

static const char *fs_type_name(int64_t type) {
        switch (type) {
        case BTRFS_SUPER_MAGIC:
                return "btrfs";
        case EXT4_SUPER_MAGIC: /* ext2 and ext3 share it */
                return "ext4";
        case XFS_SUPER_MAGIC:
                return "xfs";
        case F2FS_SUPER_MAGIC:
                return "f2fs";
        case TMPFS_MAGIC:
                return "tmpfs";
        case OVERLAYFS_SUPER_MAGIC:
                return "overlay";
        default:
                return NULL;
        }
}

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                bool last = *s == '\0';

                if (*s != '/' && !last)
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (last)
                        return 0;
                *s = '/';
        }
}

/* Reads a sysfs "removable" attribute: 1, 0, or -ENOENT where the directory has none. */
static int read_removable(int dir_fd, const char *path) {
        _cleanup_close_ int fd = -1;
        char buf[16] = {};
        ssize_t n;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        return buf[0] == '1';
}

/* Whether the sysfs block device directory dir_path (a symlink into /sys/devices) is removable:
 * the device itself, or for a partition its whole disk (the directory above it), or for a
 * device-mapper or md device any device below it. Returns 1 and the device's name if so. */
static int sysfs_block_removable(const char *dir_path, unsigned depth, char **ret_name) {
        _cleanup_close_ int dir_fd = -1;
        _cleanup_free_ char *target = NULL;
        int r;

        dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;

        r = read_removable(dir_fd, "removable");
        if (r == -ENOENT)
                /* Partitions have no "removable"; ".." after the symlink is the whole disk. */
                r = read_removable(dir_fd, "../removable");
        if (r < 0 && r != -ENOENT)
                return r;
        if (r > 0) {
                target = realpath(dir_path, NULL);
                const char *slash = target ? strrchr(target, '/') : NULL;
                char *name = strdup(slash ? slash + 1 : dir_path);
                if (!name)
                        return -ENOMEM;
                *ret_name = name;
                return 1;
        }

        if (depth >= SLAVES_DEPTH_MAX)
                return 0;
        _cleanup_close_ int slaves_fd = openat(dir_fd, "slaves", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (slaves_fd < 0)
                return 0;
        DIR *d = fdopendir(slaves_fd);
        if (!d)
                return -errno;
        slaves_fd = -1;
        r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/slaves/%s", dir_path, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = sysfs_block_removable(sub, depth + 1, ret_name);
                if (r != 0)
                        break;
        }
        closedir(d);
        return r;
}

/* btrfs gives its mounts an anonymous st_dev (major 0); its devices are listed under
 * /sys/fs/btrfs/<fsid>/devices/. */
static int btrfs_removable(int root_fd, const char *sysfs_root, char **ret_name) {
        struct btrfs_ioctl_fs_info_args info = {};
        _cleanup_free_ char *devices = NULL;
        const uint8_t *u = info.fsid;
        DIR *d;
        int r = 0;

        if (ioctl(root_fd, BTRFS_IOC_FS_INFO, &info) < 0)
                return -errno;
        if (asprintf(&devices,
                    "%s/fs/btrfs/%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x/"
                    "devices",
                    sysfs_root, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
                    u[12], u[13], u[14], u[15]) < 0)
                return -ENOMEM;
        d = opendir(devices);
        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&sub, "%s/%s", devices, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = sysfs_block_removable(sub, 0, ret_name);
                if (r != 0)
                        break;
        }
        closedir(d);
        return r;
}

int stash_check_location(const char *root, const char *sysfs_root, ImapiError *error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *device = NULL;
        struct statx stx;
        struct statfs sfs;
        const char *type;
        int r;

        r = mkdir_p(root, 0700);
        if (r < 0)
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be created: %s; choose another with --stash-dir.",
                        root, strerror(-r));
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be opened: %s; choose another with --stash-dir.",
                        root, strerror(-r));
        }
        if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) < 0 || fstatfs(fd, &sfs) < 0) {
                r = -errno;
                return imapi_error_set(error, IMAPI_E_FILEACCESS,
                        "The stash directory %s cannot be examined: %s.", root, strerror(-r));
        }
        type = fs_type_name(sfs.f_type);

        if ((stx.stx_attributes_mask & STATX_ATTR_COMPRESSED) &&
                (stx.stx_attributes & STATX_ATTR_COMPRESSED))
                return imapi_error_set(error, IMAPI_E_COMPRESSEDSTASH,
                        "The stash directory %s is on a %s file system with compression enabled; "
                        "choose another with --stash-dir.",
                        root, type ?: "compressing");
        if ((stx.stx_attributes_mask & STATX_ATTR_ENCRYPTED) && (stx.stx_attributes & STATX_ATTR_ENCRYPTED))
                return imapi_error_set(error, IMAPI_E_ENCRYPTEDSTASH,
                        "The stash directory %s is encrypted (it has an fscrypt policy on its %s "
                        "file system); choose another with --stash-dir.",
                        root, type ?: "unknown");

        if (stx.stx_dev_major != 0) {
                _cleanup_free_ char *dir = NULL;

                r = asprintf(&dir, "%s/dev/block/%u:%u", sysfs_root, stx.stx_dev_major, stx.stx_dev_minor);
                if (r < 0)
                        return -ENOMEM;
                r = sysfs_block_removable(dir, 0, &device);
        } else if (sfs.f_type == BTRFS_SUPER_MAGIC)
                r = btrfs_removable(fd, sysfs_root, &device);
        else
                r = 0; /* tmpfs, overlay and other file systems without a block device of their own */
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                /* Not knowing is no reason to refuse a stash that is most likely on a fixed disk. */
                log_debug_errno(r,
                        "Cannot tell whether the stash directory %s is on removable media, "
                        "assuming it is not: %m",
                        root);
        if (r > 0)
                return imapi_error_set(error, IMAPI_E_REMOVABLESTASH,
                        "The stash directory %s is on /dev/%s, a removable device; "
                        "choose another with --stash-dir.",
                        root, device);
        return 0;
}

