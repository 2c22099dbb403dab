/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Asynchronous polkit checks with re-dispatch of the method call, the way systemd's daemons do
 * it (src/shared/bus-polkit.c), without its internal helpers. One PolkitQuery per method call
 * message: the CheckAuthorization call in flight and the answers received so far. See polkit.h
 * for the handler side.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus-error.h"
#include "bus/bus-util.h"
#include "core/limits.h"
#include "core/manager.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"
#include "bus/p2p.h"
#include "bus/polkit.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

/* polkit's CheckAuthorizationFlags */
#define POLKIT_ALLOW_USER_INTERACTION 1u

/* A message held while polkit answers keeps the fds it carries, referenced by its arguments or
 * not: each query is charged, in the budget of calls in progress (limits.h), what one message of
 * the system bus may carry (dbus-daemon's max_message_unix_fds, 16), and one user's queries may
 * hold a quarter of that budget (root's, all of it). */
#define POLKIT_QUERY_FDS LIMITS_MIN_CALL_FDS

/* An authentication dialog waits for a human; a plain check does not. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (120ULL * 1000000ULL)

typedef enum PolkitResult {
        POLKIT_ALLOWED,
        POLKIT_DENIED,
        POLKIT_CHALLENGE,       /* allowed after authentication, which the caller did not allow */
        POLKIT_UNAVAILABLE,     /* no polkit on the bus, and the caller is not root */
        POLKIT_FAILED,
} PolkitResult;

typedef struct PolkitAnswer {
        char *action;
        PolkitResult result;
} PolkitAnswer;

struct PolkitQuery {
        BusDaemon *daemon;
        PolkitQuery *next;
        sd_bus_message *request;
        sd_bus_slot *slot;              /* CheckAuthorization in flight */
        char *pending_action;
        PolkitAnswer *answers;
        size_t n_answers;
        sd_event_source *defer;         /* drops the query once the re-dispatched call is done */
        uid_t uid;                      /* the caller's */
        size_t charged;                 /* fds held in the manager's budget, POLKIT_QUERY_FDS */
};

static void polkit_query_unlink(PolkitQuery *q) {
        for (PolkitQuery **p = &q->daemon->polkit_queries; *p; p = &(*p)->next)
                if (*p == q) {
                        *p = q->next;
                        break;
                }
        q->next = NULL;
}

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;
        polkit_query_unlink(q);
        manager_release_call_fds(q->daemon->manager, q->charged);
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        sd_bus_message_unref(q->request);
        free(q->pending_action);
        for (size_t i = 0; i < q->n_answers; i++)
                free(q->answers[i].action);
        free(q->answers);
        free(q);
        return NULL;
}

static PolkitQuery *polkit_query_find(BusDaemon *d, sd_bus_message *m) {
        for (PolkitQuery *q = d->polkit_queries; q; q = q->next)
                if (q->request == m)
                        return q;
        return NULL;
}

size_t polkit_pending(const BusDaemon *d) {
        size_t n = 0;

        for (PolkitQuery *q = d->polkit_queries; q; q = q->next)
                n++;
        return n;
}

void polkit_done(BusDaemon *d) {
        while (d->polkit_queries)
                polkit_query_free(d->polkit_queries);
}

static int refuse(sd_bus_error *error, const char *action, PolkitResult result) {
        switch (result) {
        case POLKIT_CHALLENGE:
                /* The standard name, which tells a client that asking again with interaction
                 * allowed (an agent running) would help. */
                log_debug("Refusing %s: interactive authorization required.", action);
                return sd_bus_error_setf(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Not authorized for %s without authentication, and interactive "
                                         "authorization was not allowed.", action);
        case POLKIT_UNAVAILABLE:
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED,
                                         "Not authorized for %s: polkit is not available, so only root "
                                         "may do this.", action);
        case POLKIT_FAILED:
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED,
                                         "Not authorized for %s: the authorization check failed.", action);
        default:
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED, "Not authorized for %s.", action);
        }
}

static int answer_to_return(const PolkitAnswer *a, sd_bus_error *error) {
        if (a->result == POLKIT_ALLOWED)
                return 1;
        return refuse(error, a->action, a->result);
}

/* udisks' "auth.no_user_interaction" in the trailing a{sv}. Reads the message from the start and
 * leaves it rewound; called only on the first dispatch, after the handler has parsed it. */
static bool message_no_user_interaction(sd_bus_message *m) {
        bool value = false;
        const char *contents;
        char type;
        int r;

        if (sd_bus_message_rewind(m, true) < 0)
                return false;
        while (sd_bus_message_peek_type(m, &type, &contents) > 0) {
                bool this = false;

                if (type != SD_BUS_TYPE_ARRAY || !streq_ptr(contents, "{sv}")) {
                        if (sd_bus_message_skip(m, NULL) < 0)
                                break;
                        value = false;
                        continue;
                }
                if (sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}") < 0)
                        break;
                while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                        const char *key;
                        bool b;

                        if (sd_bus_message_read(m, "s", &key) < 0)
                                goto done;
                        if (streq(key, POLKIT_OPTION_NO_USER_INTERACTION) && bus_read_bool_variant(m, &b) >= 0)
                                this = b;
                        else if (sd_bus_message_skip(m, "v") < 0)
                                goto done;
                        if (sd_bus_message_exit_container(m) < 0)
                                goto done;
                }
                if (r < 0 || sd_bus_message_exit_container(m) < 0)
                        break;
                value = this;
        }
done:
        (void) sd_bus_message_rewind(m, true);
        return value;
}

static int polkit_query_defer(sd_event_source *s, void *userdata) {
        PolkitQuery *q = userdata;

        /* The re-dispatched handler asked about another action: keep the answers for its next
         * run. */
        if (q->slot)
                return 0;
        polkit_query_free(q);
        return 0;
}

static int polkit_query_redispatch(PolkitQuery *q) {
        int r;

        /* The defer source runs at idle priority, so after the bus has dispatched the call again. */
        if (!q->defer) {
                r = sd_event_add_defer(q->daemon->event, &q->defer, polkit_query_defer, q);
                if (r < 0)
                        return r;
                r = sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
                if (r < 0)
                        return r;
        }
        r = sd_event_source_set_enabled(q->defer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        return bus_message_requeue(q->request);
}

static PolkitResult polkit_result_from_reply(PolkitQuery *q, sd_bus_message *reply, const char *action) {
        const char *sender = sd_bus_message_get_sender(q->request);
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);
                uid_t uid;

                if (!sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                        log_warning("polkit could not check %s for %s (%s: %s), refusing.", action, sender,
                                    e->name, strna(e->message));
                        return POLKIT_FAILED;
                }
                /* As udisks does without polkit: root only. */
                r = bus_message_get_uid(q->request, &uid);
                if (r < 0) {
                        log_warning_errno(r, "Cannot get the credentials of %s, refusing %s: %m", sender,
                                          action);
                        return POLKIT_FAILED;
                }
                log_debug("polkit is not available; %s for uid %u.", action, (unsigned) uid);
                return uid == 0 ? POLKIT_ALLOWED : POLKIT_UNAVAILABLE;
        }

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_STRUCT, "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                log_warning_errno(r, "Unexpected reply from polkit for %s, refusing: %m", action);
                return POLKIT_FAILED;
        }
        return authorized ? POLKIT_ALLOWED : challenge ? POLKIT_CHALLENGE : POLKIT_DENIED;
}

static int polkit_query_callback(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        _cleanup_free_ char *action = TAKE_PTR(q->pending_action);
        PolkitAnswer *l;
        PolkitResult result;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        result = polkit_result_from_reply(q, reply, action);
        if (result == POLKIT_ALLOWED)
                log_debug("%s is authorized for %s.", sd_bus_message_get_sender(q->request), action);
        else
                log_info("Refusing %s to %s.", action, sd_bus_message_get_sender(q->request));

        l = realloc(q->answers, (q->n_answers + 1) * sizeof(PolkitAnswer));
        if (!l) {
                r = -ENOMEM;
                goto fail;
        }
        q->answers = l;
        q->answers[q->n_answers++] = (PolkitAnswer) { .action = TAKE_PTR(action), .result = result };

        r = polkit_query_redispatch(q);
        if (r < 0)
                goto fail;
        return 1;

fail:
        log_error_errno(r, "Cannot dispatch the call again after polkit's answer: %m");
        (void) sd_bus_reply_method_errno(q->request, r, NULL);
        polkit_query_free(q);
        return 1;
}

static int polkit_query_start(PolkitQuery *q, const char *action) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        sd_bus_message *m = q->request;
        sd_bus *bus = sd_bus_message_get_bus(m);
        _cleanup_free_ char *method = NULL;
        bool interactive;
        int r;

        interactive = sd_bus_message_get_allow_interactive_authorization(m) > 0 &&
                      !message_no_user_interaction(m);
        if (asprintf(&method, "%s.%s", strna(sd_bus_message_get_interface(m)),
                     strna(sd_bus_message_get_member(m))) < 0)
                return -ENOMEM;
        q->pending_action = strdup(action);
        if (!q->pending_action)
                return -ENOMEM;

        r = sd_bus_message_new_method_call(bus, &call, POLKIT_BUS_NAME, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r < 0)
                return r;
        /* The subject is the caller's unique name: polkit resolves it with the bus, race-free. The
         * details are for administrators' rules. */
        r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                                  sd_bus_message_get_sender(m), action, 2, "imapid.object",
                                  strna(sd_bus_message_get_path(m)), "imapid.method", method,
                                  interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
        if (r < 0)
                return r;
        return sd_bus_call_async(bus, &q->slot, call, polkit_query_callback, q,
                                 interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
}

/* Charges a new query (not yet in the list) for the fds its message holds: refused by name when
 * the caller's share or the budget is used up. */
static int polkit_query_charge(PolkitQuery *q, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Manager *mgr = q->daemon->manager;
        size_t held = 0, share = MAX(mgr->limits.max_call_fds / 4, POLKIT_QUERY_FDS);
        int r;

        r = bus_message_get_uid(q->request, &q->uid);
        if (r < 0)
                return log_warning_errno(r, "Cannot get the caller's credentials for polkit: %m");
        for (PolkitQuery *o = q->daemon->polkit_queries; o && q->uid != 0; o = o->next)
                held += o->uid == q->uid ? o->charged : 0;
        if (q->uid != 0 && held + POLKIT_QUERY_FDS > share) {
                log_info("Refusing a call of uid %u: its calls waiting for polkit hold %zu file descriptors.",
                         (unsigned) q->uid, held);
                return bus_error_hresult(error, IMAPI_E_OUTOFMEMORY,
                                         "Your calls waiting for authorization may hold %zu file descriptors "
                                         "(a quarter of those imapid keeps for calls in progress, %u "
                                         "counted for each call); try again when polkit has answered.",
                                         share, POLKIT_QUERY_FDS);
        }
        r = manager_hold_call_fds(mgr, POLKIT_QUERY_FDS, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        q->charged = POLKIT_QUERY_FDS;
        return 0;
}

static int authorize_by_uid(sd_bus_message *m, const char *action, sd_bus_error *error) {
        uid_t uid;
        int r;

        r = bus_message_get_uid(m, &uid);
        if (r < 0)
                return log_warning_errno(r, "Cannot get the caller's credentials for %s: %m", action);
        return uid == 0 ? 1 : refuse(error, action, POLKIT_UNAVAILABLE);
}

int polkit_authorize(BusDaemon *d, sd_bus_message *m, const char *action, sd_bus_error *error) {
        PolkitQuery *q;
        int r;

        r = p2p_peer_allowed(d, sd_bus_message_get_bus(m));
        if (r > 0)
                return 1;
        if (r == 0) {
                log_info("Refusing %s to a peer-to-peer client that is neither root nor in the socket's group.",
                         action);
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED,
                                         "Not authorized for %s: only root and members of the socket's group "
                                         "may do this.", action);
        }

        /* A direct connection that is not one of our peers has no bus name for polkit. */
        if (!sd_bus_message_get_sender(m))
                return authorize_by_uid(m, action, error);

        q = polkit_query_find(d, m);
        if (q) {
                for (size_t i = 0; i < q->n_answers; i++)
                        if (streq(q->answers[i].action, action))
                                return answer_to_return(&q->answers[i], error);
                if (q->slot)
                        return 0;
        } else {
                q = calloc(1, sizeof(PolkitQuery));
                if (!q)
                        return -ENOMEM;
                q->daemon = d;
                q->request = sd_bus_message_ref(m);
                r = polkit_query_charge(q, error);
                if (r < 0) {
                        polkit_query_free(q);
                        return r;
                }
                q->next = d->polkit_queries;
                d->polkit_queries = q;
        }

        r = polkit_query_start(q, action);
        if (r < 0) {
                log_warning_errno(r, "Cannot ask polkit about %s, refusing: %m", action);
                q->slot = sd_bus_slot_unref(q->slot);
                free(q->pending_action);
                q->pending_action = NULL;
                if (q->n_answers == 0)
                        polkit_query_free(q);
                return refuse(error, action, POLKIT_FAILED);
        }
        return 0;
}

int polkit_option_cb(sd_bus_message *m, const char *key, void *userdata, sd_bus_error *error) {
        bool b;

        return bus_read_bool_variant(m, &b);
}
