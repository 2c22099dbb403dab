/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs of imapictl; each returns an exit code (see ctl.h). */
#pragma once

#include <systemd/sd-bus.h>

int verb_devices(int argc, char *argv[], sd_bus *bus);
int verb_media(int argc, char *argv[], sd_bus *bus);
int verb_eject(int argc, char *argv[], sd_bus *bus);
int verb_properties(int argc, char *argv[], sd_bus *bus);
