/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Burns the contents of a folder to a disc through imapid's D-Bus API, with code that
 * gdbus-codegen generates from dbus/org.imapid.Imapi1.xml: typed proxies for the disc master and
 * the job, their signals as GObject signals and their properties as GObject properties. Ctrl-C
 * cancels the burn. docs/writing-a-client.md explains the calls in order.
 *
 *   gdbus-codegen --glib-min-required 2.64 --interface-prefix org.imapid.Imapi1. \
 *           --c-namespace Imapi --generate-c-code imapi-generated org.imapid.Imapi1.xml
 *   cc -o burn-folder burn-folder.c imapi-generated.c $(pkg-config --cflags --libs gio-unix-2.0)
 *   ./burn-folder [--recorder=ID] [--speed-kbps=N] FOLDER
 *
 * (--glib-min-required 2.64 makes the methods that take file descriptors take a GUnixFDList.)
 * It talks to imapid on the system bus, or on the bus in $IMAPI_BUS_ADDRESS. Exit status: 0
 * the burn succeeded, 1 it failed, 5 it was cancelled.
 */

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "imapi-generated.h"

#define BUS_NAME "org.imapid.Imapi1"
#define MANAGER_PATH "/org/imapid/Imapi1/Manager"
#define USERABORT 0x8004020Du
/* dbus-daemon passes at most 16 file descriptors in one message by default. */
#define BATCH 16

typedef struct Burn {
        GMainLoop *loop;
        ImapiJob *job;
        int status;
        unsigned interrupts;
} Burn;

/* imapid's errors are named after the IMAPI HRESULT; the message starts with it in hex. */
static int fail(const char *what, GError *error) {
        g_autofree char *name = g_dbus_error_get_remote_error(error);

        g_dbus_error_strip_remote_error(error);
        fprintf(stderr, "burn-folder: %s: %s: %s\n", what, name ?: g_quark_to_string(error->domain),
                error->message);
        g_error_free(error);
        return 1;
}

static int compare_names(gconstpointer a, gconstpointer b) {
        return g_strcmp0(*(char *const *) a, *(char *const *) b);
}

/* (name on the disc, local path) for every regular file, and every folder that holds nothing. */
static void collect(const char *dir, const char *prefix, GPtrArray *names, GPtrArray *paths) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(g_free);
        const char *child;

        if (!d)
                return;
        while ((child = g_dir_read_name(d)))
                g_ptr_array_add(children, g_strdup(child));
        g_ptr_array_sort(children, compare_names);
        if (children->len == 0 && *prefix) {
                g_ptr_array_add(names, g_strdup(prefix));
                g_ptr_array_add(paths, g_strdup(dir));
        }
        for (guint i = 0; i < children->len; i++) {
                const char *c = children->pdata[i];
                g_autofree char *path = g_build_filename(dir, c, NULL);
                g_autofree char *name = *prefix ? g_strconcat(prefix, "/", c, NULL) : g_strdup(c);

                if (g_file_test(path, G_FILE_TEST_IS_SYMLINK))
                        continue;
                if (g_file_test(path, G_FILE_TEST_IS_DIR))
                        collect(path, name, names, paths);
                else if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
                        g_ptr_array_add(names, g_steal_pointer(&name));
                        g_ptr_array_add(paths, g_steal_pointer(&path));
                }
        }
}

/* One AddData: the files travel as file descriptors, which imapid copies into its stash. */
static gboolean add_batch(ImapiJolietDiscMaster *joliet, GPtrArray *names, GPtrArray *paths, guint from,
                          guint n, GError **error) {
        g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
        GVariantBuilder entries;

        g_variant_builder_init(&entries, G_VARIANT_TYPE("a(sh)"));
        for (guint i = from; i < from + n; i++) {
                const char *path = paths->pdata[i];
                int flags = O_RDONLY | O_CLOEXEC | (g_file_test(path, G_FILE_TEST_IS_DIR) ? O_DIRECTORY : 0);
                int fd = open(path, flags), index;

                if (fd < 0) {
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s", path,
                                    g_strerror(errno));
                        return FALSE;
                }
                index = g_unix_fd_list_append(fds, fd, error); /* a copy: ours is closed at once */
                close(fd);
                if (index < 0)
                        return FALSE;
                g_variant_builder_add(&entries, "(sh)", (const char *) names->pdata[i], index);
        }
        /* The reply comes when the copy is done, which takes as long as the files are large. */
        return imapi_joliet_disc_master_call_add_data_sync(joliet, g_variant_builder_end(&entries), FALSE,
                                                            g_variant_new("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE,
                                                            G_MAXINT, fds, NULL, NULL, error);
}

static void on_job_changed(GObject *object, GParamSpec *pspec, gpointer userdata) {
        ImapiJob *job = IMAPI_JOB(object);

        printf("%s %5.1f%%\n", imapi_job_get_phase(job) ?: "", imapi_job_get_progress(job) * 100.0);
        fflush(stdout);
}

/* IMAPI's IDiscMasterProgressEvents::NotifyBurnComplete. The job's Completed follows. */
static void on_burn_complete(ImapiDiscMaster *master, guint hresult, gpointer userdata) {
        Burn *b = userdata;

        if (hresult == 0)
                printf("Done: the burn succeeded.\n");
        else
                printf("Failed: 0x%08X%s\n", hresult, hresult == USERABORT ? " (cancelled)" : "");
        b->status = hresult == 0 ? 0 : hresult == USERABORT ? 5 : 1;
        /* The job's last property changes may be dispatched in the same turn of the loop: the
         * burn is over, so its progress is no news any more. */
        g_signal_handlers_disconnect_by_func(b->job, on_job_changed, NULL);
        g_main_loop_quit(b->loop);
}

static gboolean on_sigint(gpointer userdata) {
        Burn *b = userdata;

        if (++b->interrupts > 1) {
                b->status = 5;  /* stop waiting; imapid finishes the cancellation by itself */
                g_main_loop_quit(b->loop);
                return G_SOURCE_REMOVE;
        }
        printf("Cancelling (Ctrl-C again to stop waiting)...\n");
        imapi_job_call_cancel(b->job, g_variant_new("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL,
                              NULL);
        return G_SOURCE_CONTINUE;
}

int main(int argc, char *argv[]) {
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(ImapiManager) manager = NULL;
        g_autoptr(ImapiDiscMaster) master = NULL;
        g_autoptr(ImapiJolietDiscMaster) joliet = NULL;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *master_path = NULL, *job_path = NULL;
        g_auto(GStrv) recorders = NULL;
        const char *address = g_getenv("IMAPI_BUS_ADDRESS"), *recorder = NULL, *folder = NULL, *chosen = NULL;
        GVariantDict options;
        GError *error = NULL;
        unsigned speed_kbps = 0;
        Burn b = { .status = 1 };

        for (int i = 1; i < argc; i++)
                if (g_str_has_prefix(argv[i], "--recorder="))
                        recorder = argv[i] + strlen("--recorder=");
                else if (g_str_has_prefix(argv[i], "--speed-kbps="))
                        speed_kbps = (unsigned) g_ascii_strtoull(argv[i] + strlen("--speed-kbps="), NULL, 10);
                else
                        folder = argv[i];
        if (!folder) {
                fprintf(stderr, "Usage: burn-folder [--recorder=ID] [--speed-kbps=N] FOLDER\n");
                return 2;
        }

        bus = address ? g_dbus_connection_new_for_address_sync(address,
                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error)
                      : g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
        if (!bus)
                return fail("connect", error);

        /* A disc master of our own; imapid closes it and frees its stash if we go away. */
        manager = imapi_manager_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME, MANAGER_PATH, NULL, &error);
        if (!manager || !imapi_manager_call_create_disc_master_sync(manager, g_variant_new("a{sv}", NULL),
                                                                    G_DBUS_CALL_FLAGS_NONE, -1, &master_path,
                                                                    NULL, &error))
                return fail("CreateDiscMaster", error);
        master = imapi_disc_master_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME, master_path, NULL, &error);
        if (master)
                joliet = imapi_joliet_disc_master_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME,
                                                                 master_path, NULL, &error);
        if (!joliet)
                return fail("the disc master", error);

        if (!imapi_disc_master_call_open_sync(master, g_variant_new("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1,
                                              NULL, &error))
                return fail("Open", error);
        if (!imapi_disc_master_call_set_active_disc_master_format_sync(master, "joliet",
                                                                       g_variant_new("a{sv}", NULL),
                                                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
                return fail("SetActiveDiscMasterFormat", error);
        if (!imapi_disc_master_call_enum_disc_recorders_sync(master, G_DBUS_CALL_FLAGS_NONE, -1, &recorders, NULL,
                                                             &error))
                return fail("EnumDiscRecorders", error);
        for (char **r = recorders; *r && !chosen; r++)
                if (!recorder || g_str_equal(strrchr(*r, '/') + 1, recorder))
                        chosen = *r;
        if (!chosen) {
                fprintf(stderr, "burn-folder: no recorder %s\n", recorder ?: "");
                return 1;
        }
        if (!imapi_disc_master_call_set_active_disc_recorder_sync(master, chosen, g_variant_new("a{sv}", NULL),
                                                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error))
                return fail("SetActiveDiscRecorder", error);

        collect(folder, "", names, paths);
        for (guint i = 0; i < names->len; i += BATCH) {
                guint n = MIN(BATCH, names->len - i);

                if (!add_batch(joliet, names, paths, i, n, &error))
                        return fail("AddData", error);
                printf("staged %u/%u\n", i + n, names->len);
        }

        /* Listen before the job starts: a small burn may end before a later subscription. */
        b.loop = g_main_loop_new(NULL, FALSE);
        g_signal_connect(master, "burn-complete", G_CALLBACK(on_burn_complete), &b);
        g_variant_dict_init(&options, NULL);
        if (speed_kbps > 0)
                g_variant_dict_insert(&options, "write_speed_kbps", "u", speed_kbps);
        if (!imapi_disc_master_call_record_disc_sync(master, FALSE, FALSE, g_variant_dict_end(&options),
                                                     G_DBUS_CALL_FLAGS_NONE, -1, &job_path, NULL, &error))
                return fail("RecordDisc", error);
        printf("Job %s\n", job_path);
        fflush(stdout);

        /* The job's properties change as it runs (PropertiesChanged, as GObject notifications). */
        b.job = imapi_job_proxy_new_sync(bus, G_DBUS_PROXY_FLAGS_NONE, BUS_NAME, job_path, NULL, &error);
        if (!b.job)
                return fail("the job", error);
        g_signal_connect(b.job, "notify::phase", G_CALLBACK(on_job_changed), NULL);
        g_signal_connect(b.job, "notify::progress", G_CALLBACK(on_job_changed), NULL);
        g_unix_signal_add(SIGINT, on_sigint, &b);
        g_main_loop_run(b.loop);

        /* Closing deletes what was staged (after the job, if it still runs). */
        if (!imapi_disc_master_call_close_sync(master, g_variant_new("a{sv}", NULL), G_DBUS_CALL_FLAGS_NONE, -1,
                                               NULL, &error))
                return fail("Close", error);
        g_object_unref(b.job);
        g_main_loop_unref(b.loop);
        return b.status;
}
