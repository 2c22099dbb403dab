/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.ImageDiscMaster: the D-Bus adapter of a Master's disc image staging. */

#include <imapi/imapi.h>

#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "core/master.h"
#include "macro.h"

static int method_set_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        /* The reply follows when the image is in the stash. */
        return bus_master_fd_method(msg, userdata, master_set_image, error);
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
        SD_BUS_VTABLE_END,
};
