/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.imapid.Imapi1.RedbookDiscMaster: the D-Bus adapter of a Master's audio staging. */

#include <errno.h>

#include <imapi/imapi.h>
#include <imapi/imapierror.h>

#include "bus/bus-error.h"
#include "bus/bus-master.h"
#include "bus/bus-objects.h"
#include "bus/bus-util.h"
#include "hresult-bus.h"
#include "core/master.h"
#include "macro.h"

static int method_create_audio_track(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        int32_t blocks;
        int r;

        r = sd_bus_message_read(msg, "i", &blocks);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_create_audio_track(m, blocks, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_add_audio_track_blocks(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        const void *data = NULL;
        size_t size = 0;
        BusPending *p;
        int r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        /* The data stays in the message, which the pending reply keeps. */
        r = sd_bus_message_read_array(msg, 'y', &data, &size);
        if (r < 0)
                return r;
        p = bus_pending_new(msg, NULL);
        if (!p)
                return -ENOMEM;
        /* The reply follows when the blocks are in the stash. */
        r = master_add_audio_data(m, data, size, bus_pending_done, p, &e);
        return bus_pending_return(p, r, &e, error);
}

static int method_add_audio_track_blocks_from_fd(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return bus_master_fd_method(msg, userdata, master_add_audio_fd, error);
}

static int method_close_audio_track(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        Master *m = userdata;
        int r;

        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_close_audio_track(m, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        return sd_bus_reply_method_return(msg, NULL);
}

static int read_text_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        MasterAudioText *t = userdata;
        CdTextField f = cdtext_field_from_string(key);
        const char *v;

        if (bus_read_string_variant(msg, &v) < 0)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG, "The CD-TEXT field '%s' must be a string.",
                                         key);
        t->set[f] = true;
        t->value[f] = v;
        return 0;
}

/* SetAlbumText(a{sv}) and SetAudioTrackText(i, a{sv}): parse, check the caller, set. */
static int set_text(sd_bus_message *msg, Master *m, int32_t track, sd_bus_error *error) {
        static const char *const fields[] = { "title", "performer", NULL };
        _cleanup_imapi_error_ ImapiError e = IMAPI_ERROR_NULL;
        MasterAudioText t = {};
        int r;

        r = bus_read_options(msg, fields, read_text_option, &t, error);
        if (r < 0)
                return r;
        r = bus_master_check_caller(msg, m, NULL, error);
        if (r < 0)
                return r;
        r = master_set_audio_text(m, track, &t, &e);
        if (r < 0)
                return bus_error_set_imapi(error, r, &e);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_album_text(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_text(msg, userdata, 0, error);
}

static int method_set_audio_track_text(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        int32_t track;
        int r;

        r = sd_bus_message_read(msg, "i", &track);
        if (r < 0)
                return r;
        if (track < 1)
                return bus_error_hresult(error, IMAPI_E_INVALIDARG,
                                         "Audio tracks are numbered from 1; the album's text is SetAlbumText's.");
        return set_text(msg, userdata, track, error);
}

static int property_get_album_text(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        CdTextField f = streq(property, "AlbumTitle") ? CDTEXT_TITLE : CDTEXT_PERFORMER;

        return sd_bus_message_append(reply, "s", strempty(redbook_get_text(&m->redbook, 0, f)));
}

static int property_get_track_text(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Master *m = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (size_t i = 1; r >= 0 && i <= m->redbook.n; i++)
                r = sd_bus_message_append(reply, "(ss)", strempty(redbook_get_text(&m->redbook, i, CDTEXT_TITLE)),
                                          strempty(redbook_get_text(&m->redbook, i, CDTEXT_PERFORMER)));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int property_get_redbook(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        MasterAudioCounts c;
        uint64_t v = 0;

        master_audio_counts(userdata, &c);
        if (streq(property, "TotalAudioTracks"))
                v = c.tracks;
        else if (streq(property, "TotalAudioBlocks"))
                v = c.total;
        else if (streq(property, "UsedAudioBlocks"))
                v = c.used;
        else if (streq(property, "AvailableAudioTrackBlocks"))
                v = c.available;
        else if (streq(property, "AudioBlockSize"))
                v = IMAPI_AUDIO_BLOCK_SIZE;
        return sd_bus_message_append(reply, "i", (int32_t) MIN(v, (uint64_t) INT32_MAX));
}

const sd_bus_vtable bus_redbook_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("TotalAudioTracks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TotalAudioBlocks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("UsedAudioBlocks", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AvailableAudioTrackBlocks", "i", property_get_redbook, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AudioBlockSize", "i", property_get_redbook, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("AlbumTitle", "s", property_get_album_text, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AlbumPerformer", "s", property_get_album_text, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("AudioTrackText", "a(ss)", property_get_track_text, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("CreateAudioTrack", SD_BUS_ARGS("i", blocks), SD_BUS_NO_RESULT,
                                method_create_audio_track, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddAudioTrackBlocks", SD_BUS_ARGS("ay", data), SD_BUS_NO_RESULT,
                                method_add_audio_track_blocks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddAudioTrackBlocksFromFd", SD_BUS_ARGS("h", fd, "a{sv}", options),
                                SD_BUS_NO_RESULT, method_add_audio_track_blocks_from_fd,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloseAudioTrack", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_close_audio_track,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAlbumText", SD_BUS_ARGS("a{sv}", text), SD_BUS_NO_RESULT,
                                method_set_album_text, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAudioTrackText", SD_BUS_ARGS("i", track, "a{sv}", text), SD_BUS_NO_RESULT,
                                method_set_audio_track_text, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
