/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The adapters, one per interface: their vtables, and the lookups and enumerators that
 * bus_daemon_attach() registers them with (userdata: the BusDaemon).
 */
#pragma once

#include <systemd/sd-bus.h>

extern const sd_bus_vtable bus_manager_vtable[];

extern const sd_bus_vtable bus_recorder_vtable[];
int bus_recorder_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error);
int bus_recorder_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

extern const sd_bus_vtable bus_master_vtable[];
extern const sd_bus_vtable bus_joliet_vtable[];
extern const sd_bus_vtable bus_redbook_vtable[];
extern const sd_bus_vtable bus_image_vtable[];
int bus_master_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int bus_master_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

extern const sd_bus_vtable bus_job_vtable[];
int bus_job_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                 sd_bus_error *error);
int bus_job_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
