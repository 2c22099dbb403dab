/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's errors on D-Bus, and replies that come later (bus-error.h). */

#include <errno.h>
#include <stdlib.h>

#include "bus/bus-error.h"
#include "hresult-bus.h"
#include "log.h"
#include "macro.h"

int bus_error_set_imapi(sd_bus_error *error, int r, const ImapiError *e) {
        if (!imapi_error_is_set(e))
                return r;
        /* Quietly: the core logged it where it was decided. */
        (void) bus_error_hresult_text(error, e->hresult, e->message);
        return r;
}

struct BusPending {
        sd_bus_message *message;
        bus_reply_fn reply;
};

BusPending *bus_pending_new(sd_bus_message *m, bus_reply_fn reply) {
        BusPending *p = malloc(sizeof(BusPending));

        if (!p)
                return NULL;
        *p = (BusPending) { .message = sd_bus_message_ref(m), .reply = reply };
        return p;
}

static BusPending *bus_pending_free(BusPending *p) {
        if (!p)
                return NULL;
        sd_bus_message_unref(p->message);
        free(p);
        return NULL;
}

static int reply_success(BusPending *p, void *result) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(p->message, &reply);
        if (r >= 0 && p->reply)
                r = p->reply(reply, result);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

void bus_pending_done(void *userdata, int r, const ImapiError *e, void *result) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        BusPending *p = userdata;

        if (r >= 0)
                r = reply_success(p, result);
        if (r < 0) {
                (void) bus_error_set_imapi(&error, r, e);
                if (sd_bus_error_is_set(&error))
                        r = sd_bus_reply_method_error(p->message, &error);
                else
                        r = sd_bus_reply_method_errno(p->message, r, NULL);
        }
        /* The caller may have left, or the connection closed at exit. */
        if (r < 0)
                log_debug_errno(r, "Cannot answer %s, ignoring: %m",
                                strna(sd_bus_message_get_member(p->message)));
        bus_pending_free(p);
}

int bus_pending_return(BusPending *p, int r, const ImapiError *e, sd_bus_error *error) {
        if (r > 0)
                return 1;
        if (r < 0) {
                bus_pending_free(p);
                return bus_error_set_imapi(error, r, e);
        }
        r = reply_success(p, NULL);
        bus_pending_free(p);
        return r < 0 ? r : 1;
}
