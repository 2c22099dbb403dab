/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzzes whole AddData calls end to end: master_add_data() of the core on an opened Joliet
 * master with an image file as its recorder, batch after batch, with names from a small tree
 * (so that they collide as files, directories and each other's parents) or of the input's own,
 * the overwrite flag, and fds of every kind a client can pass: regular files of several sizes,
 * a directory, /dev/null, a pipe, a socket, a file opened for writing only, one file twice.
 * The copies go into a real stash in a temporary folder, in the core's worker threads.
 *
 * Input: per call a byte (bit 0 overwrite, bits 1-4 the number of entries), then per entry a
 * name (a byte of components, each a byte: an index into the tree's names, or a length and
 * bytes) and a byte for the fd. Invariants: a refused call (at once or when done) is refused by
 * a named IMAPI HRESULT with a message (or -ENOMEM) and changes nothing: the staged entries,
 * the data blocks and the stash's bytes and files stay as they were; an accepted call leaves
 * one stash file per staged file, and the same batch again without overwrite is refused as
 * IMAPI_E_FILEEXISTS when it holds a file.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <imapi/imapierror.h>

#include "core/config.h"
#include "core/manager.h"
#include "core/master.h"
#include "core/staging.h"
#include "fuzz-input.h"
#include "fuzz-tmpdir.h"
#include "imapi-error.h"
#include "log.h"
#include "macro.h"
#include "media/drive.h"
#include "media/stash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CALLS 8
#define MAX_ENTRIES 15
#define MAX_COMPONENTS 4

static char dir[] = "/tmp/fuzz-add-data.XXXXXX";
static char *stash_dir;
static sd_event *event;
static Config config;
static Manager *manager;
static Master *master;
static int file_fds[4], dir_fd = -1, null_fd = -1, wronly_fd = -1;

static const char *const tree_names[] = {
        "docs", "a.txt", "b.txt", "sub", "A.TXT", "a.txt.", "a", "b", "x/y", "..", ".", "",
        "\xc3\xa9t\xc3\xa9", "a b", "name;1", "\xef\xbf\xbe", "con",
};

typedef struct Done {
        bool called;
        int r;
        uint32_t hresult;
        bool message;
} Done;

static void done_cb(void *userdata, int r, const ImapiError *e, void *result) {
        Done *d = userdata;

        d->called = true;
        d->r = r;
        d->hresult = e ? e->hresult : 0;
        d->message = e && e->message && e->message[0];
}

static bool wait_done(Done *d) {
        for (unsigned i = 0; i < 30000 && !d->called; i++)
                (void) sd_event_run(event, 1000);
        return d->called;
}

/* A call of the core to its end: 0, or the errno with *hr, *message set. */
static int run(int k, ImapiError *e, Done *d, uint32_t *hr, bool *message) {
        if (k < 0) {
                *hr = e->hresult;
                *message = e->message && e->message[0];
                return k;
        }
        if (k > 0 && !wait_done(d))
                abort();        /* a call that never ends */
        *hr = k > 0 ? d->hresult : 0;
        *message = k > 0 && d->message;
        return k > 0 ? d->r : 0;
}

static int make_file(const char *name, off_t size) {
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                abort();
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "imapid", 6) != 6 || ftruncate(fd, size) < 0)
                abort();
        return fd;
}

static void setup(void) {
        static struct sigaction saved[NSIG];
        _cleanup_free_ char *disc = NULL, *address = NULL, *wronly = NULL;
        ImapiError e = IMAPI_ERROR_NULL;
        Recorder *r;
        Client *c;
        Done d = {};
        uint32_t hr;
        bool msg;

        log_set_max_level(LOG_CRIT);
        fuzz_tmpdir_make(dir);
        /* libburn sets the signals it knows back to their defaults, libFuzzer's SIGALRM (its
         * timeouts, and the end of -max_total_time) among them: keep libFuzzer's. */
        for (int sig = 1; sig < NSIG; sig++)
                (void) sigaction(sig, NULL, &saved[sig]);
        if (drive_library_init() < 0)
                abort();
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &saved[sig], NULL);
        if (sd_event_new(&event) < 0)
                abort();
        if (asprintf(&stash_dir, "%s/stash", dir) < 0 || asprintf(&disc, "%s/disc.iso", dir) < 0 ||
            asprintf(&address, "stdio:%s", disc) < 0 || asprintf(&wronly, "%s/wronly", dir) < 0)
                abort();
        close(open(disc, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        config_init(&config);
        free(config.stash_dir);
        config.stash_dir = strdup(stash_dir);
        config.scan = false;
        free(config.default_drive);
        config.default_drive = NULL;
        if (!config.stash_dir || manager_new(event, &config, &manager) < 0 ||
            manager_add_address(manager, address) < 0 || !(r = manager_find_recorder(manager, "stdio0")) ||
            manager_add_client(manager, 1000, "fuzz (uid 1000)", &c, &e) < 0 ||
            manager_create_master(manager, c, &master, &e) < 0)
                abort();
        if (run(master_open(master, done_cb, &d, &e), &e, &d, &hr, &msg) < 0)
                abort();
        d = (Done) {};
        if (run(master_set_format(master, "joliet", done_cb, &d, &e), &e, &d, &hr, &msg) < 0)
                abort();
        d = (Done) {};
        if (run(master_set_recorder(master, r, false, done_cb, &d, &e), &e, &d, &hr, &msg) < 0)
                abort();
        imapi_error_done(&e);

        file_fds[0] = make_file("empty", 0);
        file_fds[1] = make_file("small", 100);
        file_fds[2] = make_file("blocks", 3 * 2048 + 1);
        file_fds[3] = make_file("sparse", 1 << 20);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        safe_close(make_file("wronly", 10));
        wronly_fd = open(wronly, O_WRONLY | O_CLOEXEC);
        if (dir_fd < 0 || null_fd < 0 || wronly_fd < 0)
                abort();
}

static char *next_name(Input *in) {
        size_t n = next(in) % MAX_COMPONENTS + 1;
        char buf[1024] = "";
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                uint8_t k = next(in);
                char part[256];

                if (k < ELEMENTSOF(tree_names))
                        snprintf(part, sizeof part, "%s", tree_names[k]);
                else {
                        size_t l = next(in) % 255;

                        l = MIN(l, in->size);

                        memcpy(part, in->data, l);
                        part[l] = 0;
                        in->data += l;
                        in->size -= l;
                }
                len += (size_t) snprintf(buf + len, sizeof buf - len, "%s%s", i > 0 ? "/" : "", part);
                if (len >= sizeof buf)
                        break;
        }
        return strdup(buf);
}

static int files_seen;

static int count_file(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        files_seen += type == FTW_F;
        return 0;
}

/* The stash's files and the staged entries: a file per copy of its own, and the pack, which
 * holds every packed copy's bytes, if any is packed. */
static void check_stash_matches(void) {
        _cleanup_free_ char *pack = NULL;
        size_t copies = 0;
        uint64_t packed_end = 0;
        struct stat st;

        files_seen = 0;
        if (nftw(stash_dir, count_file, 16, FTW_PHYS) < 0)
                abort();
        for (size_t i = 0; i < master->staging.n; i++) {
                const StagedEntry *e = &master->staging.entries[i];

                if (stash_copy_packed(e->copy))
                        packed_end = MAX(packed_end, stash_copy_offset(e->copy) + e->size);
                else
                        copies += e->copy != 0;
        }
        if (asprintf(&pack, "%s/" STASH_PACK_NAME, stash_get_path(master->stash)) < 0)
                abort();
        if (stat(pack, &st) == 0)
                copies++;
        else if (packed_end > 0)
                abort();
        if (packed_end > 0 && (uint64_t) st.st_size < packed_end)
                abort();
        /* The stash's lock file is not a copy. */
        if ((size_t) files_seen < copies || (size_t) files_seen > copies + 1)
                abort();
}

typedef struct Snapshot {
        size_t n;
        uint64_t blocks, cost;
        int files;
} Snapshot;

static Snapshot snapshot(void) {
        files_seen = 0;
        if (nftw(stash_dir, count_file, 16, FTW_PHYS) < 0)
                abort();
        return (Snapshot) { staging_count(&master->staging), master->staging.data_blocks, master->staging.cost,
                            files_seen };
}

static void check_refusal(int k, uint32_t hr, bool message, Snapshot before) {
        Snapshot after = snapshot();

        if (!(k == -ENOMEM && hr == 0) && (!IMAPI_HRESULT_FAILED(hr) || hr == IMAPI_E_GENERIC || !message))
                abort();
        if (after.n != before.n || after.blocks != before.blocks || after.cost != before.cost ||
            after.files != before.files)
                abort();
}

static void one_call(Input *in) {
        uint8_t head = next(in);
        bool overwrite = head & 1, has_file = false;
        size_t n = (head >> 1) % (MAX_ENTRIES + 1);
        MasterAddEntry entries[MAX_ENTRIES];
        char *names[MAX_ENTRIES] = {};
        int pipe_fds[2] = { -1, -1 }, sock_fds[2] = { -1, -1 };
        ImapiError e = IMAPI_ERROR_NULL;
        Snapshot before = snapshot();
        Done d = {};
        uint32_t hr;
        bool message;
        int k;

        for (size_t i = 0; i < n; i++) {
                uint8_t kind = next(in) % 8;

                names[i] = next_name(in);
                if (!names[i])
                        abort();
                switch (kind) {
                case 0 ... 3:
                        entries[i] = (MasterAddEntry) { names[i], file_fds[kind] };
                        has_file = true;
                        break;
                case 4:
                        entries[i] = (MasterAddEntry) { names[i], dir_fd };
                        break;
                case 5:
                        entries[i] = (MasterAddEntry) { names[i], null_fd };
                        break;
                case 6:
                        if (pipe_fds[0] < 0 && pipe2(pipe_fds, O_CLOEXEC) < 0)
                                abort();
                        entries[i] = (MasterAddEntry) { names[i], pipe_fds[0] };
                        break;
                default:
                        if (in->size % 2 == 0) {
                                if (sock_fds[0] < 0 &&
                                    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock_fds) < 0)
                                        abort();
                                entries[i] = (MasterAddEntry) { names[i], sock_fds[0] };
                        } else
                                entries[i] = (MasterAddEntry) { names[i], wronly_fd };
                        break;
                }
        }

        k = run(master_add_data(master, entries, n, overwrite, done_cb, &d, &e), &e, &d, &hr, &message);
        imapi_error_done(&e);
        if (k < 0)
                check_refusal(k, hr, message, before);
        else {
                check_stash_matches();
                if (has_file) {
                        Snapshot now = snapshot();

                        d = (Done) {};
                        k = run(master_add_data(master, entries, n, false, done_cb, &d, &e), &e, &d, &hr,
                                &message);
                        imapi_error_done(&e);
                        if (k >= 0 || hr != IMAPI_E_FILEEXISTS)
                                abort();
                        check_refusal(k, hr, message, now);
                }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        safe_close(pipe_fds[0]);
        safe_close(pipe_fds[1]);
        safe_close(sock_fds[0]);
        safe_close(sock_fds[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Input in = { data, size };
        ImapiError e = IMAPI_ERROR_NULL;
        Done d = {};
        uint32_t hr;
        bool message;

        if (!event)
                setup();
        for (unsigned i = 0; i < MAX_CALLS && in.size > 0; i++)
                one_call(&in);
        /* ClearFormatContent: the next input starts from an empty master and stash. */
        if (run(master_clear(master, done_cb, &d, &e), &e, &d, &hr, &message) < 0)
                abort();
        imapi_error_done(&e);
        if (staging_count(&master->staging) != 0)
                abort();
        check_stash_matches();
        return 0;
}
