/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The senders of calls on the bus and their uids, asked without waiting (bus-sender.h). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus-client.h"
#include "bus/bus-error.h"
#include "bus/bus-sender.h"
#include "bus/bus-util.h"
#include "core/limits.h"
#include "core/manager.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"
#include "strmap.h"

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"

/* As a call waiting for polkit: what one message of the system bus may carry. */
#define SENDER_HELD_FDS LIMITS_MIN_CALL_FDS

typedef struct BusSender BusSender;

struct BusSender {
        BusSenders *senders;
        BusSender *next;
        char *name;                     /* the unique name; the map's key */
        sd_bus_slot *lookup;            /* GetConnectionUnixUser in flight */
        bool known;
        uid_t uid;
        /* Its calls held, in the order they came. Once the uid is known, all of them are back on
         * the read queue (in that order), and each leaves the list when the filter sees it again. */
        sd_bus_message **held;
        size_t n_held;
};

struct BusSenders {
        BusDaemon *daemon;
        sd_bus *bus;
        StrMap map;                     /* name -> BusSender */
        BusSender *list;
        size_t n_held;                  /* in all */
        sd_bus_slot *filter;
        sd_bus_slot *name_owner_changed;
};

static BusSenders *the_senders;         /* for bus_message_get_uid() (bus_set_sender_uid_lookup()) */

static void sender_drop_held(BusSender *s, size_t i) {
        BusSenders *ss = s->senders;

        sd_bus_message_unref(s->held[i]);
        memmove(s->held + i, s->held + i + 1, (s->n_held - i - 1) * sizeof(sd_bus_message *));
        s->n_held--;
        ss->n_held--;
        manager_release_call_fds(ss->daemon->manager, SENDER_HELD_FDS);
}

/* Forgets s. Its held calls go unanswered: only when its name is gone, or at exit. */
static void sender_free(BusSender *s) {
        BusSenders *ss = s->senders;

        for (BusSender **p = &ss->list; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        break;
                }
        (void) strmap_remove(&ss->map, s->name);
        while (s->n_held > 0)
                sender_drop_held(s, s->n_held - 1);
        sd_bus_slot_unref(s->lookup);
        free(s->held);
        free(s->name);
        free(s);
}

static BusSender *sender_find(const BusSenders *ss, const char *name) {
        size_t v;

        return strmap_get(&ss->map, name, &v) ? (BusSender *) (uintptr_t) v : NULL;
}

/* The sender is still on the bus but its uid could not be had: its calls are answered with an
 * error, and the next call asks again. */
static void sender_fail(BusSender *s, int error) {
        log_warning_errno(error, "Cannot get the uid of %s from the bus, refusing its %zu call(s): %m", s->name,
                          s->n_held);
        for (size_t i = 0; i < s->n_held; i++)
                (void) sd_bus_reply_method_errorf(s->held[i], SD_BUS_ERROR_ACCESS_DENIED,
                                                  "imapid could not get your credentials from the bus.");
        sender_free(s);
}

static int sender_lookup_done(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        BusSender *s = userdata;
        uint32_t uid;
        int r;

        s->lookup = sd_bus_slot_unref(s->lookup);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
                        /* It left before the bus answered: nobody to answer. */
                        log_debug("%s left before its uid was known, dropping its %zu call(s).", s->name,
                                  s->n_held);
                        sender_free(s);
                        return 1;
                }
                sender_fail(s, -(sd_bus_message_get_errno(reply) ?: EIO));
                return 1;
        }
        r = sd_bus_message_read(reply, "u", &uid);
        if (r < 0) {
                sender_fail(s, r);
                return 1;
        }
        s->uid = (uid_t) uid;
        s->known = true;
        log_debug("%s is uid %u; dispatching its %zu call(s).", s->name, (unsigned) s->uid, s->n_held);

        for (size_t i = 0; i < s->n_held;) {
                r = bus_message_requeue(s->held[i]);
                if (r >= 0) {
                        i++;
                        continue;
                }
                log_warning_errno(r, "Cannot dispatch a call of %s after its uid, refusing it: %m", s->name);
                (void) sd_bus_reply_method_errno(s->held[i], r, NULL);
                sender_drop_held(s, i);
        }
        return 1;
}

static int sender_lookup_start(BusSender *s) {
        return sd_bus_call_method_async(s->senders->bus, &s->lookup, DBUS_NAME, DBUS_PATH, DBUS_NAME,
                                        "GetConnectionUnixUser", sender_lookup_done, s, "s", s->name);
}

static int sender_new(BusSenders *ss, const char *name, BusSender **ret) {
        BusSender *s;
        int r;

        s = calloc(1, sizeof(BusSender));
        if (!s)
                return -ENOMEM;
        s->senders = ss;
        s->name = strdup(name);
        if (!s->name) {
                free(s);
                return -ENOMEM;
        }
        r = strmap_put(&ss->map, s->name, (size_t) (uintptr_t) s);
        if (r < 0) {
                free(s->name);
                free(s);
                return r;
        }
        s->next = ss->list;
        ss->list = s;
        r = sender_lookup_start(s);
        if (r < 0) {
                sender_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

/* Keeps m (one more of the sender's held calls), within the bounds. */
static int sender_hold(BusSender *s, sd_bus_message *m, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        BusSenders *ss = s->senders;
        sd_bus_message **l;
        int r;

        if (s->n_held >= BUS_SENDER_MAX_HELD) {
                log_info("Refusing a call of %s: %zu of its calls wait for the bus to say who it is.", s->name,
                         s->n_held);
                return bus_error_hresult(error, IMAPI_E_OUTOFMEMORY,
                                         "%u of your calls already wait while imapid asks the bus who you "
                                         "are; try again when they are answered.", BUS_SENDER_MAX_HELD);
        }
        if (ss->n_held >= BUS_SENDERS_MAX_HELD) {
                log_info("Refusing a call of %s: %zu calls of new clients wait for the bus.", s->name,
                         ss->n_held);
                return bus_error_hresult(error, IMAPI_E_OUTOFMEMORY,
                                         "%u calls of new clients wait while imapid asks the bus who they "
                                         "are; try again in a moment.", BUS_SENDERS_MAX_HELD);
        }
        l = realloc(s->held, (s->n_held + 1) * sizeof(sd_bus_message *));
        if (!l)
                return -ENOMEM;
        s->held = l;
        r = manager_hold_call_fds(ss->daemon->manager, SENDER_HELD_FDS, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        s->held[s->n_held++] = sd_bus_message_ref(m);
        ss->n_held++;
        return 0;
}

static int senders_filter(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusSenders *ss = userdata;
        const char *sender = sd_bus_message_get_sender(m);
        BusSender *s;
        int r;

        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected")) {
                /* No name will go any more: every sender and client of the bus goes now. */
                while (ss->list)
                        sender_free(ss->list);
                bus_client_peer_gone(ss->daemon, ss->bus);
                return 0;
        }
        if (!sender || !sd_bus_message_is_method_call(m, NULL, NULL) || streq(sender, DBUS_NAME))
                return 0;
        s = sender_find(ss, sender);
        if (s && s->known) {
                if (s->n_held == 0)
                        return 0;
                if (s->held[0] == m) {
                        /* Back from the read queue, in its turn. */
                        sender_drop_held(s, 0);
                        return 0;
                }
                /* Read before the ones put back (a synchronous call of imapid's may read ahead):
                 * it goes behind them. */
                r = sender_hold(s, m, error);
                if (r < 0)
                        return r;
                r = bus_message_requeue(m);
                if (r < 0) {
                        sender_drop_held(s, s->n_held - 1);
                        return log_warning_errno(r, "Cannot queue a call of %s again: %m", sender);
                }
                return 1;
        }
        if (!s) {
                r = sender_new(ss, sender, &s);
                if (r < 0)
                        return log_warning_errno(r, "Cannot ask the bus for the uid of %s: %m", sender);
        }
        r = sender_hold(s, m, error);
        if (r < 0) {
                if (s->n_held == 0)
                        sender_free(s);
                return r;
        }
        return 1;
}

static int senders_name_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        BusSenders *ss = userdata;
        const char *name, *old_owner, *new_owner;
        BusSender *s;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
                return 0;
        if (name[0] != ':' || new_owner[0] != '\0')
                return 0;
        s = sender_find(ss, name);
        if (s) {
                if (s->n_held > 0)
                        log_debug("%s left with %zu call(s) held, dropping them.", name, s->n_held);
                sender_free(s);
        }
        bus_client_name_gone(ss->daemon, ss->bus, name);
        return 0;
}

static int senders_uid_lookup(sd_bus *bus, const char *sender, uid_t *ret) {
        BusSender *s;

        if (!the_senders || the_senders->bus != bus)
                return -ENXIO;
        s = sender_find(the_senders, sender);
        if (!s || !s->known)
                return -ESRCH;
        *ret = s->uid;
        return 0;
}

int bus_senders_attach(BusDaemon *d, sd_bus *bus) {
        BusSenders *ss;
        int r;

        if (d->senders)
                return -EBUSY;
        ss = calloc(1, sizeof(BusSenders));
        if (!ss)
                return log_oom();
        ss->daemon = d;
        ss->bus = sd_bus_ref(bus);
        strmap_init_borrowed(&ss->map);
        d->senders = ss;
        /* One match for every name: a match per sender would count against the bus' limit of
         * match rules per connection (512 on the system bus). Only names that go (no new owner):
         * the bus does not wake imapid for every client that connects. */
        r = sd_bus_add_match(bus, &ss->name_owner_changed,
                             "type='signal',sender='" DBUS_NAME "',path='" DBUS_PATH "',interface='" DBUS_NAME "',"
                             "member='NameOwnerChanged',arg2=''", senders_name_owner_changed, ss);
        if (r < 0)
                return log_error_errno(r, "Failed to follow the names on the bus: %m");
        r = sd_bus_add_filter(bus, &ss->filter, senders_filter, ss);
        if (r < 0)
                return log_error_errno(r, "Failed to add the filter of new senders: %m");
        the_senders = ss;
        bus_set_sender_uid_lookup(senders_uid_lookup);
        return 0;
}

size_t bus_senders_held(const BusDaemon *d) {
        return d->senders ? d->senders->n_held : 0;
}

void bus_senders_done(BusDaemon *d) {
        BusSenders *ss = d->senders;

        if (!ss)
                return;
        if (the_senders == ss) {
                bus_set_sender_uid_lookup(NULL);
                the_senders = NULL;
        }
        while (ss->list)
                sender_free(ss->list);
        sd_bus_slot_unref(ss->filter);
        sd_bus_slot_unref(ss->name_owner_changed);
        strmap_done(&ss->map);
        sd_bus_unref(ss->bus);
        free(ss);
        d->senders = NULL;
}
