/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.RedbookDiscMaster: the D-Bus adapter of a Master's audio staging. */

#include <errno.h>

#include <imapi/imapi.h>

#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "hresult.h"
#include "macro.h"
#include "core/master.h"

/* Only the client that created a disc master may use it. */
static int check_caller(sd_bus_message *msg, Master *m, sd_bus_error *error) {
        Client *c = NULL;

        (void) daemon_get_client(m->daemon, msg, false, &c, NULL);
        if (!c || c != m->owner)
                return bus_error_hresult(error, IMAPI_E_ACCESSDENIED, "Disc master %u belongs to another client.",
                                         m->id);
        return 0;
}

static int method_create_audio_track(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int32_t blocks;
        int r;

        r = sd_bus_message_read(msg, "i", &blocks);
        if (r < 0)
                return r;
        r = check_caller(msg, m, error);
        if (r < 0)
                return r;
        r = master_create_audio_track(m, blocks, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_add_audio_track_blocks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, error);
        if (r < 0)
                return r;
        r = master_add_audio_blocks(m, msg, false, error);
        /* 1: the reply follows when the blocks are in the stash. */
        return r < 0 ? r : 1;
}

static int method_add_audio_track_blocks_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, error);
        if (r < 0)
                return r;
        r = master_add_audio_blocks(m, msg, true, error);
        return r < 0 ? r : 1;
}

static int method_close_audio_track(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = check_caller(msg, m, error);
        if (r < 0)
                return r;
        r = master_close_audio_track(m, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_redbook(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        /* IMAPI: the counts mean something once a recorder (and its disc) is chosen. */
        uint64_t total = m->recorder && m->format == MASTER_FORMAT_REDBOOK ? m->total_blocks : 0, v = 0;

        if (streq(property, "TotalAudioTracks"))
                v = m->redbook.n;
        else if (streq(property, "TotalAudioBlocks"))
                v = total;
        else if (streq(property, "UsedAudioBlocks"))
                v = redbook_used_blocks(&m->redbook);
        else if (streq(property, "AvailableAudioTrackBlocks"))
                v = redbook_available_blocks(&m->redbook, total, master_audio_gap(m));
        else if (streq(property, "AudioBlockSize"))
                v = IMAPI_AUDIO_BLOCK_SIZE;
        return sd_bus_message_append(reply, "i", (int32_t) MIN(v, (uint64_t) INT32_MAX));
}

const sd_bus_vtable redbook_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TotalAudioTracks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TotalAudioBlocks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsedAudioBlocks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AvailableAudioTrackBlocks", "i", property_get_redbook, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AudioBlockSize", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("CreateAudioTrack", SD_BUS_ARGS("i", blocks), SD_BUS_NO_RESULT,
                                method_create_audio_track, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddAudioTrackBlocks", SD_BUS_ARGS("ay", data), SD_BUS_NO_RESULT,
                                method_add_audio_track_blocks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddAudioTrackBlocksFromFd", SD_BUS_ARGS("h", fd, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_add_audio_track_blocks_from_fd,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloseAudioTrack", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_close_audio_track,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
