/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection to imapid and the conventions every verb follows. */

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <imapi/imapi.h>

#include "ctl.h"
#include "hresult-bus.h"
#include "macro.h"

CtlOptions arg = {};

static int connect_address(const char *address, bool bus_client, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_address(bus, address);
        if (r < 0)
                return r;
        /* A peer-to-peer socket has no bus driver to say Hello to. imapid answers Hello there
         * too, so --bus-address=unix:path=SOCKET works as well. */
        r = sd_bus_set_bus_client(bus, bus_client);
        if (r < 0)
                return r;
        r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

static int connect_socket(const char *path, sd_bus **ret) {
        _cleanup_free_ char *address = NULL;

        if (asprintf(&address, "unix:path=%s", path) < 0)
                return -ENOMEM;
        return connect_address(address, false, ret);
}

/* imapid is reachable on the system bus if it runs there or the bus can start it. */
static bool system_bus_has_imapid(sd_bus *bus) {
        _cleanup_strv_free_ char **acquired = NULL, **activatable = NULL;

        if (sd_bus_list_names(bus, &acquired, &activatable) < 0)
                return false;
        for (char **n = acquired; n && *n; n++)
                if (streq(*n, IMAPI_BUS_NAME))
                        return true;
        for (char **n = activatable; n && *n; n++)
                if (streq(*n, IMAPI_BUS_NAME))
                        return true;
        return false;
}

int ctl_connect(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const char *address = arg.bus_address ?: getenv("IMAPI_BUS_ADDRESS");
        const char *what;
        int r;

        (void) hresult_register_error_map();

        if (arg.socket_path) {
                what = arg.socket_path;
                r = connect_socket(arg.socket_path, &bus);
        } else if (address) {
                what = address;
                r = connect_address(address, true, &bus);
        } else {
                /* The system bus when imapid is there; else its socket (socket activation alone). */
                what = "the system bus";
                r = sd_bus_open_system(&bus);
                if ((r < 0 || !system_bus_has_imapid(bus)) && access(DEFAULT_SOCKET_PATH, F_OK) >= 0) {
                        bus = sd_bus_flush_close_unref(bus);
                        what = DEFAULT_SOCKET_PATH;
                        r = connect_socket(DEFAULT_SOCKET_PATH, &bus);
                }
        }
        if (r < 0) {
                fprintf(stderr, "imapictl: cannot connect to %s: %s\n", what, strerror(-r));
                return CTL_EXIT_UNAVAILABLE;
        }
        (void) sd_bus_set_allow_interactive_authorization(bus, !arg.no_ask);
        *ret = TAKE_PTR(bus);
        return 0;
}

const char *ctl_error_message(const char *message) {
        unsigned a, b;
        int n = 0;

        /* imapid's messages start with the HRESULT once ("0x8004020D: ..."); older ones could
         * carry it twice, which says nothing more. */
        if (message && sscanf(message, "0x%8X: 0x%8X: %n", &a, &b, &n) == 2 && n > 0 && a == b)
                return message + strlen("0x00000000: ");
        return message;
}

int ctl_report_error(const char *what, const sd_bus_error *error, int r) {
        const char *message;

        if (!sd_bus_error_is_set(error)) {
                fprintf(stderr, "imapictl: %s: %s\n", what, strerror(abs(r)));
                return CTL_EXIT_FAILED;
        }
        message = ctl_error_message(error->message) ?: "";
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                   SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_DISCONNECTED)) {
                fprintf(stderr, "imapictl: %s: imapid is not running (%s: %s)\n", what, error->name, message);
                return CTL_EXIT_UNAVAILABLE;
        }
        if (sd_bus_error_has_names(error, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD)) {
                fprintf(stderr, "imapictl: %s: no such object (%s: %s)\n", what, error->name, message);
                return CTL_EXIT_NOTFOUND;
        }
        /* The name as the bus carries it, then imapid's message, which starts with the HRESULT. */
        if (!*message) {
                const HResultInfo *info = hresult_lookup_dbus_name(error->name);
                _cleanup_free_ char *text = info ? hresult_format(info->hresult, NULL) : NULL;

                fprintf(stderr, "imapictl: %s: %s%s%s\n", what, error->name, text ? ": " : "", strempty(text));
        } else
                fprintf(stderr, "imapictl: %s: %s: %s\n", what, error->name, message);
        return CTL_EXIT_FAILED;
}

int ctl_call(sd_bus *bus, const char *path, const char *interface, const char *member, sd_bus_message **reply,
             const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, IMAPI_BUS_NAME, path, interface, member);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                fprintf(stderr, "imapictl: %s: %s\n", member, strerror(-r));
                return CTL_EXIT_FAILED;
        }
        r = sd_bus_call(bus, m, 0, &error, reply);
        if (r < 0) {
                r = ctl_report_error(member, &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        return 0;
}

int ctl_list_recorders(sd_bus *bus, char ***ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char **l = NULL;
        size_t n = 0;
        const char *p;
        int r;

        r = ctl_call(bus, IMAPI_MANAGER_PATH, IMAPI_MANAGER_INTERFACE, "GetRecorders", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "o");
        while (r >= 0 && (r = sd_bus_message_read(reply, "o", &p)) > 0) {
                char **nl = realloc(l, (n + 2) * sizeof(char *));
                if (!nl) {
                        strv_free(l);
                        return CTL_EXIT_FAILED;
                }
                l = nl;
                l[n] = strdup(p);
                l[++n] = NULL;
        }
        if (r < 0) {
                strv_free(l);
                fprintf(stderr, "imapictl: bad reply from imapid: %s\n", strerror(-r));
                return CTL_EXIT_FAILED;
        }
        if (!l)
                l = calloc(1, sizeof(char *));
        *ret = l;
        return 0;
}

int ctl_get_string(sd_bus *bus, const char *path, const char *interface, const char *property, char **ret) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_get_property_string(bus, IMAPI_BUS_NAME, path, interface, property, &error, ret);
        if (r < 0) {
                r = ctl_report_error(property, &error, r);
                sd_bus_error_free(&error);
                return r;
        }
        return 0;
}

int ctl_resolve_recorder(sd_bus *bus, const char *name, char **ret_path) {
        _cleanup_strv_free_ char **paths = NULL;
        size_t n = 0;
        char *end;
        int r;

        r = ctl_list_recorders(bus, &paths);
        if (r != 0)
                return r;
        while (paths[n])
                n++;
        if (n == 0) {
                fprintf(stderr, "imapictl: imapid has no recorders.\n");
                return CTL_EXIT_NOTFOUND;
        }
        if (!name) {
                *ret_path = strdup(paths[0]);
                return *ret_path ? 0 : CTL_EXIT_FAILED;
        }

        errno = 0;
        unsigned long idx = strtoul(name, &end, 10);
        if (errno == 0 && end != name && !*end) {
                if (idx >= n) {
                        fprintf(stderr, "imapictl: there is no recorder %lu (imapid has %zu).\n", idx, n);
                        return CTL_EXIT_NOTFOUND;
                }
                *ret_path = strdup(paths[idx]);
                return *ret_path ? 0 : CTL_EXIT_FAILED;
        }

        for (size_t i = 0; i < n; i++) {
                static const char *const keys[] = { "Id", "Device", "Address" };

                if (streq(paths[i], name)) {
                        *ret_path = strdup(paths[i]);
                        return *ret_path ? 0 : CTL_EXIT_FAILED;
                }
                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        _cleanup_free_ char *v = NULL;
                        const char *want = name;

                        if (ctl_get_string(bus, paths[i], IMAPI_RECORDER_INTERFACE, keys[k], &v) != 0)
                                return CTL_EXIT_FAILED;
                        /* An image-file recorder may be named as "stdio:/path" too. */
                        if (streq(keys[k], "Address") && strncmp(name, "stdio:", 6) == 0)
                                want = name + 6;
                        if (*v && streq(v, want)) {
                                *ret_path = strdup(paths[i]);
                                return *ret_path ? 0 : CTL_EXIT_FAILED;
                        }
                }
        }
        fprintf(stderr, "imapictl: no recorder named '%s' (see 'imapictl devices').\n", name);
        return CTL_EXIT_NOTFOUND;
}

int ctl_catch_signals(sd_event *event, sd_event_signal_handler_t handler, void *userdata,
                      sd_event_source **ret_sigint, sd_event_source **ret_sigterm) {
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_add_signal(event, ret_sigint, SIGINT, handler, userdata);
        if (r < 0)
                return r;
        return sd_event_add_signal(event, ret_sigterm, SIGTERM, handler, userdata);
}
