/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vtables and object lookups of every exported object, registered per connection. */
#pragma once

#include <systemd/sd-bus.h>

extern const sd_bus_vtable manager_vtable[];
extern const sd_bus_vtable recorder_vtable[];

int recorder_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                         sd_bus_error *error);
int recorder_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

extern const sd_bus_vtable job_vtable[];
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);

extern const sd_bus_vtable master_vtable[];
extern const sd_bus_vtable joliet_vtable[];
extern const sd_bus_vtable redbook_vtable[];
int master_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                       sd_bus_error *error);
int master_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
