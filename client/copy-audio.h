/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* imapictl copy: what a disc master holds once ReadDisc read an audio CD into it. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "progress.h"

/* Whether the master holds an audio CD's tracks (ReadDisc made Redbook its format); if so, says
 * what is copied: "Audio CD: 3 tracks, 12:04, CD-TEXT yes". */
bool copy_audio_describe(sd_bus *bus, Progress *progress, const char *master);
