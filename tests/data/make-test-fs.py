#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Creates and mounts a file system on which a stash fails in a known way, for tests.

Usage (as root):

    make-test-fs.py setup KIND DIR [SIZE]   mounts a file system of KIND under DIR (created if
                                            missing) and prints one path on stdout
    make-test-fs.py teardown DIR            unmounts it and removes what setup created in DIR

KIND, and the path setup prints:

    small-tmpfs SIZE    a tmpfs of SIZE (e.g. 8M); prints the stash root DIR/mnt/stash.
                        Reservations beyond SIZE give IMAPI_E_NOTENOUGHDISKFORSTASH, a copy
                        that does not fit fails with ENOSPC halfway.
    btrfs-compressed    a loop-mounted btrfs whose stash root has `chattr +c`; prints
                        DIR/mnt/stash (IMAPI_E_COMPRESSEDSTASH).
    ext4-encrypted      a loop-mounted ext4 (-O encrypt) whose stash root has an fscrypt v2
                        policy with a random key added to the file system; prints DIR/mnt/stash
                        (IMAPI_E_ENCRYPTEDSTASH).
    btrfs-ioerror       a loop-mounted btrfs holding a 1 MiB file whose data blocks were
                        corrupted behind btrfs' back, so reading it fails with EIO (its checksum
                        does not match); prints the path of that file. Staging it gives
                        IMAPI_E_FILEACCESS.

Loop devices are set up by `mount -o loop`, which detaches them when the file system is
unmounted; a test that runs setup inside a private mount namespace (unshare -m) loses the mount
and the loop device even if it dies before teardown. teardown is safe to run more than once and
after a failed setup. Exit status: 0 on success, 1 on failure (with a message on stderr),
2 on bad usage.
"""

import fcntl
import os
import struct
import subprocess
import sys

FS_IOC_ADD_ENCRYPTION_KEY = 0xC0506617  # _IOWR('f', 23, struct fscrypt_add_key_arg), 80 bytes
FS_IOC_SET_ENCRYPTION_POLICY = 0x800C6613  # _IOR('f', 19, struct fscrypt_policy_v1)
FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER = 2
FSCRYPT_POLICY_V2 = 2
FSCRYPT_MODE_AES_256_XTS = 1
FSCRYPT_MODE_AES_256_CTS = 4
FSCRYPT_POLICY_FLAGS_PAD_32 = 0x03

MARKER = b"imapid-ioerror!\n"  # 16 bytes; 4 KiB sectors of it are found again in the image
SECTOR = 4096


def run(*argv):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def loop_image(d, size, mkfs):
    image = os.path.join(d, "image")
    with open(image, "wb") as f:
        f.truncate(size)
    run(*mkfs, image)
    mnt = os.path.join(d, "mnt")
    os.makedirs(mnt, exist_ok=True)
    run("mount", "-o", "loop", image, mnt)
    return image, mnt


def set_fscrypt_policy(path):
    key = os.urandom(64)
    # struct fscrypt_add_key_arg: key_spec {u32 type, u32 reserved, u8 u[32]}, u32 raw_size,
    # u32 key_id, u32 reserved[8], u8 raw[]
    arg = bytearray(struct.pack("=II32sII32s", FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER, 0, b"", len(key), 0, b"") + key)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, arg)
        identifier = bytes(arg[8:24])
        # struct fscrypt_policy_v2: u8 version, contents mode, filenames mode, flags,
        # u8 reserved[4], u8 master_key_identifier[16]
        policy = struct.pack("=BBBB4s16s", FSCRYPT_POLICY_V2, FSCRYPT_MODE_AES_256_XTS,
                             FSCRYPT_MODE_AES_256_CTS, FSCRYPT_POLICY_FLAGS_PAD_32, b"", identifier)
        fcntl.ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, policy)
    finally:
        os.close(fd)


def corrupt_sectors(image):
    """Overwrites every 4 KiB sector of the image that holds MARKER data; returns how many."""
    n = 0
    with open(image, "r+b") as f:
        offset = 0
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            for i in range(0, len(chunk) - SECTOR + 1, SECTOR):
                if chunk[i:i + SECTOR] == MARKER * (SECTOR // len(MARKER)):
                    f.seek(offset + i)
                    f.write(b"\xa5" * SECTOR)
                    n += 1
            offset += len(chunk)
            f.seek(offset)
    return n


def setup(kind, d, size):
    os.makedirs(d, exist_ok=True)
    mnt = os.path.join(d, "mnt")
    if kind == "small-tmpfs":
        if not size:
            raise RuntimeError("small-tmpfs needs a SIZE, e.g. 8M")
        os.makedirs(mnt, exist_ok=True)
        run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", mnt)
        stash = os.path.join(mnt, "stash")
        os.mkdir(stash, 0o700)
        return stash
    if kind == "btrfs-compressed":
        # 256 MiB is comfortably above mkfs.btrfs' minimum; the image file stays sparse.
        _, mnt = loop_image(d, 256 << 20, ["mkfs.btrfs", "-q", "-f"])
        stash = os.path.join(mnt, "stash")
        os.mkdir(stash, 0o700)
        run("chattr", "+c", stash)
        return stash
    if kind == "ext4-encrypted":
        _, mnt = loop_image(d, 64 << 20, ["mkfs.ext4", "-q", "-F", "-O", "encrypt"])
        stash = os.path.join(mnt, "stash")
        os.mkdir(stash, 0o700)
        set_fscrypt_policy(stash)
        return stash
    if kind == "btrfs-ioerror":
        image, mnt = loop_image(d, 256 << 20, ["mkfs.btrfs", "-q", "-f"])
        path = os.path.join(mnt, "unreadable")
        with open(path, "wb") as f:
            f.write(MARKER * ((1 << 20) // len(MARKER)))
        run("umount", mnt)
        if corrupt_sectors(image) == 0:
            raise RuntimeError("the file's data was not found in the btrfs image")
        run("mount", "-o", "loop", image, mnt)
        return path
    raise ValueError(f"unknown kind {kind}")


def teardown(d):
    mnt = os.path.join(d, "mnt")
    if os.path.ismount(mnt):
        r = subprocess.run(["umount", mnt], stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            # Something still has a file open there: detach now, the kernel finishes later.
            run("umount", "--lazy", mnt)
    for name in ("image",):
        try:
            os.unlink(os.path.join(d, name))
        except FileNotFoundError:
            pass
    try:
        os.rmdir(mnt)
    except (FileNotFoundError, OSError):
        pass


def main(argv):
    if len(argv) >= 4 and argv[1] == "setup" and len(argv) <= 5:
        try:
            print(setup(argv[2], argv[3], argv[4] if len(argv) == 5 else None))
        except ValueError as e:
            print(f"make-test-fs: {e}", file=sys.stderr)
            return 2
        except (OSError, RuntimeError) as e:
            print(f"make-test-fs: setting up {argv[2]} in {argv[3]} failed: {e}", file=sys.stderr)
            teardown(argv[3])
            return 1
        return 0
    if len(argv) == 3 and argv[1] == "teardown":
        try:
            teardown(argv[2])
        except (OSError, RuntimeError) as e:
            print(f"make-test-fs: teardown of {argv[2]} failed: {e}", file=sys.stderr)
            return 1
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
