/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disc master of the core, without a bus: IMAPI's order of calls and the error that names
 * each missing step, staging's FILEEXISTS and DISCFULL, and what the observer is told. The
 * recorder is an image file through real libburn; the stash a scratch directory.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "core/burn.h"
#include "core/client.h"
#include "core/config.h"
#include "core/manager.h"
#include "core/master.h"
#include "core/recorder.h"
#include "core-harness.h"
#include "macro.h"
#include "media/drive.h"
#include "tap.h"

static Recording rec;
static char tmpdir[] = "/tmp/test-core-master-XXXXXX";

static char *tmp_path(const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

/* A file of size bytes with data only at its start: sparse, so that its size costs nothing. */
static int make_file(const char *name, uint64_t size) {
        _cleanup_free_ char *path = tmp_path(name);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0 || write(fd, "imapid", 6) != 6 || ftruncate(fd, (off_t) size) < 0)
                abort();
        return fd;
}

/* Bytes in the stash's files: the staged data, however the stash lays it out. */
static uint64_t stash_bytes(void) {
        _cleanup_free_ char *cmd = NULL;
        char buf[32] = "";
        FILE *f;

        if (asprintf(&cmd, "find %s/stash -type f -printf '%%s\\n' | awk '{ s += $1 } END { print s + 0 }'",
                     tmpdir) < 0 || !(f = popen(cmd, "r")))
                abort();
        if (!fgets(buf, sizeof buf, f))
                buf[0] = 0;
        pclose(f);
        return strtoull(buf, NULL, 10);
}

static int staged_copies(void) {
        _cleanup_free_ char *cmd = NULL;
        char buf[32] = "";
        FILE *f;

        if (asprintf(&cmd, "find %s/stash -type f -name 'f*' | wc -l", tmpdir) < 0 || !(f = popen(cmd, "r")))
                abort();
        if (!fgets(buf, sizeof buf, f))
                buf[0] = 0;
        pclose(f);
        return atoi(buf);
}

/* An async call of the core (async.h) to its end: the errno, and the HRESULT in *hr. */
static int finish(Manager *m, int r, const ImapiError *e, Done *d, uint32_t *hr) {
        if (r < 0) {
                *hr = e->hresult;
                return r;
        }
        if (r > 0 && !wait_done(m, d)) {
                *hr = 0;
                return -ETIMEDOUT;
        }
        *hr = r > 0 ? d->hresult : 0;
        return r > 0 ? d->r : 0;
}

#define EXPECT_HR(call, want, what)                                                                  \
        do {                                                                                         \
                ImapiError _e = IMAPI_ERROR_NULL;                                                    \
                int _r = (call);                                                                     \
                CHECK(_r < 0 && _e.hresult == (want), "%s: %s (got 0x%08X: %s)", what, #want, _e.hresult, \
                      strna(_e.message));                                                            \
                imapi_error_done(&_e);                                                               \
        } while (0)

static void test_ordering(Manager *m, Master *master, Client *c, Recorder *r) {
        RecordOptions o = { .verify = true };
        Done d = {};
        uint32_t hr;
        int k;

        /* 1. Open first. */
        EXPECT_HR(master_set_format(master, "joliet", done_cb, &d, &_e), IMAPI_E_NOTOPENED,
                  "SetActiveDiscMasterFormat before Open");
        EXPECT_HR(master_set_recorder(master, r, false, done_cb, &d, &_e), IMAPI_E_NOTOPENED,
                  "SetActiveDiscRecorder before Open");
        EXPECT_HR(burn_start(master, c, &o, done_cb, &d, &_e), IMAPI_E_NOTOPENED, "RecordDisc before Open");
        EXPECT_HR(master_add_data(master, NULL, 0, false, done_cb, &d, &_e), IMAPI_E_NOTOPENED,
                  "AddData before Open");
        CHECK(!d.called, "no refused call is answered later");

        recording_clear(&rec);
        {
                ImapiError e = IMAPI_ERROR_NULL;

                k = master_open(master, done_cb, &d, &e);
                CHECK(k == 1 && !master->opened && master->opening, "Open makes the stash in a worker");
                EXPECT_HR(master_open(master, done_cb, &d, &_e), IMAPI_E_ALREADYOPEN, "Open while it opens");
                EXPECT_HR(master_set_format(master, "joliet", done_cb, &d, &_e), IMAPI_E_NOTOPENED,
                          "SetActiveDiscMasterFormat while Open runs");
                k = finish(m, k, &e, &d, &hr);
                CHECK(k == 0 && d.calls == 1 && master->opened && master->stash, "Open takes a stash (%s)",
                      d.message);
                imapi_error_done(&e);
        }
        CHECK(recorded(&rec, "master 1 changed 0x1") == 1, "Open tells the observer the state changed");
        EXPECT_HR(master_open(master, done_cb, &d, &_e), IMAPI_E_ALREADYOPEN, "Open twice");
        d = (Done) {};

        /* 2. A format. */
        {
                const char *iid;

                EXPECT_HR(master_get_format(master, &iid, &_e), IMAPI_E_NOACTIVEFORMAT,
                          "GetActiveDiscMasterFormat without one");
        }
        EXPECT_HR(master_set_recorder(master, r, false, done_cb, &d, &_e), IMAPI_E_NOACTIVEFORMAT,
                  "SetActiveDiscRecorder before a format");
        EXPECT_HR(burn_start(master, c, &o, done_cb, &d, &_e), IMAPI_E_NOACTIVEFORMAT,
                  "RecordDisc before a format");
        EXPECT_HR(master_create_audio_track(master, 75, &_e), IMAPI_E_NOACTIVEFORMAT,
                  "CreateAudioTrack before a format");
        EXPECT_HR(master_set_format(master, "{00000000-0000-0000-0000-000000000000}", done_cb, &d, &_e),
                  IMAPI_E_INVALIDARG, "an unknown format");
        {
                ImapiError e = IMAPI_ERROR_NULL;

                k = master_set_format(master, IMAPI_IID_IJOLIETDISCMASTER, done_cb, &d, &e);
                CHECK(k == 0 && master->format == MASTER_FORMAT_JOLIET, "Joliet by its IID, done at once");
                imapi_error_done(&e);
        }
        EXPECT_HR(master_create_audio_track(master, 75, &_e), IMAPI_E_WRONGFORMAT,
                  "Redbook staging while Joliet is active");

        /* 3. A recorder. */
        {
                Recorder *got;

                EXPECT_HR(master_get_recorder(master, &got, &_e), IMAPI_E_NOACTIVERECORDER,
                          "GetActiveDiscRecorder without one");
        }
        EXPECT_HR(burn_start(master, c, &o, done_cb, &d, &_e), IMAPI_E_NOACTIVERECORDER,
                  "RecordDisc before a recorder");
        EXPECT_HR(master_add_data(master, NULL, 0, false, done_cb, &d, &_e), IMAPI_E_NOACTIVERECORDER,
                  "AddData before a recorder");
        {
                ImapiError e = IMAPI_ERROR_NULL;

                k = master_set_recorder(master, r, false, done_cb, &d, &e);
                CHECK(k == 1 && master_busy(master), "SetActiveDiscRecorder reads the disc in a worker");
                k = finish(m, k, &e, &d, &hr);
                CHECK(k == 0 && master->recorder == r && master->total_blocks > 0 && d.calls == 1,
                      "and is done once, with the recorder active and its room known (%u blocks)",
                      master->total_blocks);
                imapi_error_done(&e);
        }

        /* 4. Content. */
        EXPECT_HR(burn_start(master, c, &o, done_cb, &d, &_e), IMAPI_E_INVALIDIMAGE,
                  "RecordDisc with nothing staged");
}

static void test_staging(Manager *m, Master *master) {
        _cleanup_close_ int a = make_file("a.txt", 4096), b = make_file("b.txt", 100), dir = open(tmpdir, O_RDONLY);
        MasterAddEntry entries[] = { { "docs/a.txt", a }, { "b.txt", b }, { "docs", dir } };
        uint64_t big_size, staged;
        uint32_t hr;
        Done d = {};
        int k;

        recording_clear(&rec);
        {
                ImapiError e = IMAPI_ERROR_NULL;

                k = master_add_data(master, entries, ELEMENTSOF(entries), false, done_cb, &d, &e);
                k = finish(m, k, &e, &d, &hr);
                staged = stash_bytes();
                CHECK(k == 0 && staging_count(&master->staging) == 3 && staged >= 4096 + 100,
                      "AddData stages two files and a directory (%s)", d.message);
                imapi_error_done(&e);
        }
        CHECK(recorded(&rec, "master 1 changed 0x4") == 1 && recorded(&rec, "event 1 1 ") >= 1,
              "the observer hears of the data's size and of AddProgress");

        d = (Done) {};
        EXPECT_HR(master_add_data(master, entries + 1, 1, false, done_cb, &d, &_e), IMAPI_E_FILEEXISTS,
                  "the same name again without overwrite");
        CHECK(staging_count(&master->staging) == 3 && stash_bytes() == staged, "and nothing of it is staged");
        {
                ImapiError e = IMAPI_ERROR_NULL;

                k = master_add_data(master, entries + 1, 1, true, done_cb, &d, &e);
                k = finish(m, k, &e, &d, &hr);
                staged = stash_bytes();
                CHECK(k == 0 && staging_count(&master->staging) == 3 && staged >= 4096 + 100,
                      "with overwrite the new copy replaces the old one (%s)", d.message);
                imapi_error_done(&e);
        }

        /* A file larger than the disc: refused before a byte is copied. */
        big_size = ((uint64_t) master->total_blocks + 16) * 2048;
        {
                _cleanup_close_ int big = make_file("big.bin", big_size);
                MasterAddEntry e1[] = { { "big.bin", big } };

                d = (Done) {};
                EXPECT_HR(master_add_data(master, e1, 1, false, done_cb, &d, &_e), IMAPI_E_DISCFULL,
                          "a file larger than the disc");
                CHECK(staging_count(&master->staging) == 3 && stash_bytes() == staged && !d.called,
                      "and nothing of it is staged");
        }
        {
                MasterAddEntry bad[] = { { "a/../b", a } };

                EXPECT_HR(master_add_data(master, bad, 1, false, done_cb, &d, &_e), IMAPI_E_BADJOLIETNAME,
                          "a name a disc cannot hold");
        }

        /* Clearing deletes the copies in a worker; done once they are gone. */
        {
                ImapiError e = IMAPI_ERROR_NULL;

                d = (Done) {};
                k = master_clear(master, done_cb, &d, &e);
                k = finish(m, k, &e, &d, &hr);
                CHECK(k == 0 && staging_count(&master->staging) == 0 && stash_bytes() == 0,
                      "ClearFormatContent leaves the stash empty when it is done");
                imapi_error_done(&e);
        }
}

/* A call of the core to its end (async.h); 0, or the errno with the HRESULT in *hr. */
static int run_call(Manager *m, int k, ImapiError *e, Done *d, uint32_t *hr) {
        *d = (Done) {};
        k = finish(m, k, e, d, hr);
        imapi_error_done(e);
        return k;
}

static bool stash_exists(unsigned id) {
        _cleanup_free_ char *dir = NULL;
        struct stat st;

        if (asprintf(&dir, "%s/stash/master-%u.stash", tmpdir, id) < 0)
                abort();
        return stat(dir, &st) == 0;
}

/* Close, or the client leaving, while Open's worker makes the stash: Open fails, the stash it
 * made is removed, and a Close hears back only after that. */
static void test_close_while_opening(Manager *m, Client *c) {
        ImapiError e = IMAPI_ERROR_NULL;
        Master *master = NULL;
        Done opened = {}, closed = {};
        unsigned id;
        int k;

        k = manager_create_master(m, c, &master, &e);
        if (k >= 0)
                k = master_open(master, done_cb, &opened, &e);
        CHECK(k == 1, "Open runs in a worker (%s)", strna(e.message));
        imapi_error_done(&e);
        if (k != 1)
                return;
        id = master->id;
        k = master_close(master, done_cb, &closed, &e);
        CHECK(k == 1 && !opened.called, "Close while Open runs waits for it");
        CHECK(wait_done(m, &closed) && opened.calls == 1 && opened.hresult == IMAPI_E_NOTOPENED,
              "Open fails with NOTOPENED (%s), then Close is answered", opened.message);
        CHECK(closed.r == 0 && !stash_exists(id), "once the stash Open made is removed");
        imapi_error_done(&e);

        opened = (Done) {};
        k = manager_create_master(m, c, &master, &e);
        if (k >= 0)
                k = master_open(master, done_cb, &opened, &e);
        imapi_error_done(&e);
        if (k != 1)
                return;
        id = master->id;
        master_client_gone(master, c);
        CHECK(wait_done(m, &opened) && opened.hresult == IMAPI_E_NOTOPENED,
              "the client leaving while Open runs fails it (%s)", opened.message);
        /* Removed in a worker: a bounded wait. */
        for (unsigned i = 0; i < 3000 && stash_exists(id); i++)
                (void) sd_event_run(m->event, 10 * 1000);
        CHECK(!stash_exists(id), "and the stash Open made is removed");
}

/* The Image format: one image from an fd, everything that can refuse it checked before the
 * copy. */
static void test_image(Manager *m, Client *c, Recorder *r) {
        _cleanup_close_ int img = make_file("image.iso", 64 * 2048), odd = make_file("odd.iso", 64 * 2048 + 1),
                            dir = open(tmpdir, O_RDONLY | O_DIRECTORY);
        ImapiError e = IMAPI_ERROR_NULL;
        Master *master = NULL;
        Done d = {};
        uint32_t hr;
        int k;

        CHECK(manager_create_master(m, c, &master, &e) == 0 &&
              run_call(m, master_open(master, done_cb, &d, &e), &e, &d, &hr) == 0, "a disc master for an image");
        imapi_error_done(&e);
        if (!master)
                return;
        k = run_call(m, master_set_format(master, "IMAGE", done_cb, &d, &e), &e, &d, &hr);
        CHECK(k == 0 && master->format == MASTER_FORMAT_IMAGE &&
              streq(master_format_to_iid(master->format), IMAPI_IID_IIMAGEDISCMASTER),
              "the Image format, by name in any case");
        EXPECT_HR(master_set_image(master, img, done_cb, &d, &_e), IMAPI_E_NOACTIVERECORDER,
                  "SetImage before a recorder");
        EXPECT_HR(master_add_data(master, NULL, 0, false, done_cb, &d, &_e), IMAPI_E_WRONGFORMAT,
                  "AddData while Image is active");
        EXPECT_HR(master_create_audio_track(master, 75, &_e), IMAPI_E_WRONGFORMAT,
                  "Redbook staging while Image is active");
        k = run_call(m, master_set_recorder(master, r, false, done_cb, &d, &e), &e, &d, &hr);
        CHECK(k == 0 && master->plan.start_lba == 0, "a blank image file takes the image from block 0");
        d = (Done) {};

        EXPECT_HR(master_set_image(master, odd, done_cb, &d, &_e), IMAPI_E_INVALIDIMAGE,
                  "an image that is not whole 2048-byte blocks");
        EXPECT_HR(master_set_image(master, dir, done_cb, &d, &_e), IMAPI_E_INVALIDARG, "a folder for an image");
        {
                _cleanup_close_ int big = make_file("big.iso", ((uint64_t) master->total_blocks + 16) * 2048);

                EXPECT_HR(master_set_image(master, big, done_cb, &d, &_e), IMAPI_E_DISCFULL,
                          "an image larger than the disc");
        }
        CHECK(staged_copies() == 0 && master_image_size(master) == 0 && !d.called,
              "and of all these nothing is copied");

        k = run_call(m, master_set_image(master, img, done_cb, &d, &e), &e, &d, &hr);
        CHECK(k == 0 && master_image_size(master) == 64 * 2048 && master_used_blocks(master) == 64 &&
              staged_copies() == 1, "SetImage copies the image into the stash (%s)", strna(d.message));
        EXPECT_HR(master_set_image(master, img, done_cb, &d, &_e), IMAPI_E_FILEEXISTS, "a second image");
        k = run_call(m, master_clear(master, done_cb, &d, &e), &e, &d, &hr);
        CHECK(k == 0 && staged_copies() == 0 && master_image_size(master) == 0, "ClearFormatContent deletes it");

        /* Closed while the copy runs: the call fails, nothing stays. */
        d = (Done) {};
        k = master_set_image(master, img, done_cb, &d, &e);
        CHECK(k == 1 && master_busy(master), "SetImage copies in a worker");
        imapi_error_done(&e);
        CHECK(master_close(master, NULL, NULL, &e) == 0, "Close while it copies is done at once");
        k = finish(m, 1, &e, &d, &hr);
        CHECK(k < 0 && hr == IMAPI_E_USERABORT && d.calls == 1, "and the SetImage fails with USERABORT (0x%08X)", hr);
        settle(m);
        {
                struct stat st;
                _cleanup_free_ char *stash_dir = tmp_path("stash/master-2.stash");

                CHECK(staged_copies() == 0 && stat(stash_dir, &st) < 0 && errno == ENOENT,
                      "with the copy and the stash gone");
        }
}

/* SIGTERM: no new job may start, or it would hold up the exit. */
static void test_exiting(Manager *m, Client *c, Recorder *r) {
        _cleanup_close_ int f = make_file("c.txt", 100);
        MasterAddEntry entries[] = { { "c.txt", f } };
        RecordOptions o = { .verify = true };
        ImapiError e = IMAPI_ERROR_NULL;
        Master *master = NULL;
        uint32_t hr;
        Done d = {};
        int k;

        k = manager_create_master(m, c, &master, &e);
        if (k >= 0)
                k = finish(m, master_open(master, done_cb, &d, &e), &e, &d, &hr);
        d = (Done) {};
        if (k >= 0)
                k = master_set_format(master, "joliet", done_cb, &d, &e);
        if (k >= 0)
                k = finish(m, master_set_recorder(master, r, false, done_cb, &d, &e), &e, &d, &hr);
        d = (Done) {};
        if (k >= 0)
                k = finish(m, master_add_data(master, entries, 1, false, done_cb, &d, &e), &e, &d, &hr);
        CHECK(k == 0 && staging_count(&master->staging) == 1, "a second master, ready to burn (%s%s)",
              strna(e.message), d.message);
        imapi_error_done(&e);
        manager_request_exit(m);
        d = (Done) {};
        EXPECT_HR(burn_start(master, c, &o, done_cb, &d, &_e), IMAPI_E_USERABORT,
                  "RecordDisc once imapid is stopping");
        CHECK(m->n_jobs == 0 && !d.called, "and no job starts");
        {
                Master *late = NULL;

                CHECK(manager_create_master(m, c, &late, &e) == 0, "a master created while stopping");
                imapi_error_done(&e);
                if (late)
                        EXPECT_HR(master_open(late, done_cb, &d, &_e), IMAPI_E_USERABORT,
                                  "Open once imapid is stopping: no stash that would hold up the exit");
                CHECK(!d.called && (!late || !late->opening), "and nothing runs for it");
        }
}

int main(void) {
        _cleanup_free_ char *disc = NULL, *stash = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        Manager *m = NULL;
        Master *master = NULL;
        Client *c = NULL, *other = NULL;
        CoreObserver o;
        Recorder *r;
        Config config;

        if (!mkdtemp(tmpdir) || drive_library_init() < 0 || sd_event_new(&event) < 0) {
                printf("Bail out! cannot set up\n");
                return 1;
        }
        disc = tmp_path("disc.iso");
        stash = tmp_path("stash");
        close(open(disc, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
        config_init(&config);
        free(config.stash_dir);
        config.stash_dir = strdup(stash);
        config.scan = false;
        free(config.default_drive);
        config.default_drive = NULL;

        if (manager_new(event, &config, &m) < 0) {
                printf("Bail out! no manager\n");
                return 1;
        }
        o = recording_observer(&rec);
        manager_set_observer(m, &o);
        recording_clear(&rec);
        {
                _cleanup_free_ char *address = NULL;

                if (asprintf(&address, "stdio:%s", disc) < 0)
                        abort();
                CHECK(manager_add_address(m, address) == 0 && m->n_recorders >= 1,
                      "an image file is a recorder");
        }
        r = manager_find_recorder(m, "stdio0");
        CHECK(r && recorded(&rec, "added recorder stdio0") == 1, "the observer hears of it");
        if (!r)
                return tap_done();

        {
                ImapiError e = IMAPI_ERROR_NULL;

                CHECK(manager_add_client(m, 1000, "test (uid 1000)", &c, &e) == 0 &&
                      manager_add_client(m, 1001, "other (uid 1001)", &other, &e) == 0, "two clients");
                CHECK(manager_create_master(m, c, &master, &e) == 0 && master->id == 1 &&
                      recorded(&rec, "added master") == 1, "a disc master, announced");
                CHECK(master_check_client(master, other, &e) < 0 && e.hresult == IMAPI_E_ACCESSDENIED,
                      "which belongs to its client alone");
                imapi_error_done(&e);
        }

        test_ordering(m, master, c, r);
        test_staging(m, master);

        /* The client leaves: its master goes with it, and with the master its stash. */
        recording_clear(&rec);
        manager_client_gone(m, c);
        settle(m);
        CHECK(m->n_masters == 0 && recorded(&rec, "removed master") == 1, "a client's masters go with it");
        {
                struct stat st;
                _cleanup_free_ char *dir = tmp_path("stash/master-1.stash");

                CHECK(stat(dir, &st) < 0 && errno == ENOENT, "and so does the stash");
        }

        test_image(m, other, r);
        test_close_while_opening(m, other);
        test_exiting(m, other, r);

        manager_set_observer(m, NULL);
        m = manager_free(m);
        drive_library_finish();
        config_done(&config);
        recording_clear(&rec);
        {
                _cleanup_free_ char *cmd = NULL;

                if (asprintf(&cmd, "rm -rf %s", tmpdir) >= 0)
                        (void) system(cmd);
        }
        return tap_done();
}
