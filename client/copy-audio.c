/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl copy: the note about a copied audio CD (copy-audio.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <imapi/imapi.h>

#include "copy-audio.h"
#include "macro.h"

static int get_int(sd_bus *bus, const char *master, const char *property, int32_t *ret) {
        return sd_bus_get_property_trivial(bus, IMAPI_BUS_NAME, master, IMAPI_REDBOOK_INTERFACE, property, NULL,
                                           'i', ret);
}

/* Whether the album or any track has a title or performer. */
static bool has_text(sd_bus *bus, const char *master) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *title, *performer;
        bool any = false;
        int r;

        for (int i = 0; i < 2 && !any; i++) {
                _cleanup_free_ char *s = NULL;

                if (sd_bus_get_property_string(bus, IMAPI_BUS_NAME, master, IMAPI_REDBOOK_INTERFACE,
                                               i == 0 ? "AlbumTitle" : "AlbumPerformer", NULL, &s) >= 0)
                        any = s && *s;
        }
        if (any || sd_bus_get_property(bus, IMAPI_BUS_NAME, master, IMAPI_REDBOOK_INTERFACE, "AudioTrackText", NULL,
                                       &reply, "a(ss)") < 0)
                return any;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r > 0 && !any && (r = sd_bus_message_read(reply, "(ss)", &title, &performer)) > 0)
                any = *title || *performer;
        return any;
}

bool copy_audio_describe(sd_bus *bus, Progress *progress, const char *master) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *text = NULL;
        int32_t tracks = 0, blocks = 0;
        const char *iid;

        if (sd_bus_call_method(bus, IMAPI_BUS_NAME, master, IMAPI_DISC_MASTER_INTERFACE,
                               "GetActiveDiscMasterFormat", NULL, &reply, "") < 0 ||
            sd_bus_message_read(reply, "s", &iid) < 0 || strcasecmp(iid, IMAPI_IID_IREDBOOKDISCMASTER) != 0)
                return false;
        if (get_int(bus, master, "TotalAudioTracks", &tracks) < 0 || get_int(bus, master, "UsedAudioBlocks", &blocks) < 0)
                return true;
        if (asprintf(&text, "Audio CD: %d track%s, %d:%02d, CD-TEXT %s", tracks, tracks == 1 ? "" : "s",
                     blocks / 75 / 60, blocks / 75 % 60, has_text(bus, master) ? "yes" : "no") >= 0)
                progress_note(progress, "audio-cd", text);
        return true;
}
