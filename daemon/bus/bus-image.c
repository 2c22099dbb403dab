/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.ImageDiscMaster: the D-Bus adapter of a Master's disc image staging. */

#include <imapi/imapi.h>

#include "bus/bus-daemon.h"
#include "bus/bus-error.h"
#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "bus/polkit.h"
#include "core/disc-read.h"
#include "core/master.h"
#include "hresult-bus.h"
#include "macro.h"

static int method_set_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* The reply follows when the image is in the stash. */
        return bus_master_fd_method(msg, userdata, master_set_image, error);
}

static int method_read_disc(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        static const char *const allowed[] = { POLKIT_OPTION_NO_USER_INTERACTION, NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        const char *path;
        Recorder *source;
        Client *c = NULL;
        BusPending *p;
        int r;

        r = sd_bus_message_read(msg, "o", &path);
        if (r < 0)
                return r;
        r = bus_read_options(msg, allowed, polkit_option_cb, NULL, error);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, &c, error);
        if (r < 0)
                return r;
        source = bus_daemon_find_recorder(bus_daemon_of(m->manager), path);
        if (!source)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "%s is not a recorder.", path);
        /* A copy is a burn's first half: the same authorization, asked at Open and kept. */
        r = m->burn_authorized ? 1 : polkit_authorize(bus_daemon_of(m->manager), msg, IMAPI_ACTION_BURN, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        p = bus_pending_new(msg, bus_master_reply_job);
        if (!p)
                return -ENOMEM;
        /* The disc's size is read in a worker; the reply with the job follows. */
        r = disc_read_start(m, source, c, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int property_get_image_size(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "t", master_image_size(userdata));
}

const sd_bus_vtable bus_image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ImageSize", "t", property_get_image_size, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("SetImage", SD_BUS_ARGS("h", fd, "a{sv}", options), SD_BUS_NO_RESULT,
                                method_set_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReadDisc", SD_BUS_ARGS("o", recorder, "a{sv}", options), SD_BUS_RESULT("o", job),
                                method_read_disc, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
