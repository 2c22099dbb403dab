/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bus layer's root: the connections the core's objects are served on (the bus, if any, then
 * peer-to-peer connections), the senders on the bus and the clients known by their bus names,
 * polkit's queries, the
 * peer-to-peer server and logind's inhibitor. It observes the core (bus-emit.c) and turns what
 * it hears into signals on every connection.
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

#include "core/manager.h"

typedef struct BusClient BusClient;
typedef struct BusSenders BusSenders;
typedef struct PolkitQuery PolkitQuery;
typedef struct P2PServer P2PServer;
typedef struct Inhibitor Inhibitor;

typedef struct BusDaemon {
        Manager *manager;
        sd_event *event;

        sd_bus **buses;
        size_t n_buses;

        BusClient *clients;             /* bus-client.c */
        BusSenders *senders;            /* bus-sender.c: the bus' senders and their uids */
        PolkitQuery *polkit_queries;    /* polkit.c: authorization checks in flight */
        P2PServer *p2p;                 /* p2p.c: the socket-activated peer-to-peer server */
        Inhibitor *inhibitor;           /* inhibitor.c: logind's sleep/shutdown lock during burns */
} BusDaemon;

/* Observes m from now on. */
int bus_daemon_new(Manager *m, BusDaemon **ret);
/* Stops observing, drops every client (releasing what they held in the core), and closes
 * every connection. Before manager_free(). */
BusDaemon *bus_daemon_free(BusDaemon *d);

/* Serves every object on a connection, and sends the signals there. */
int bus_daemon_attach(BusDaemon *d, sd_bus *bus);
void bus_daemon_detach(BusDaemon *d, sd_bus *bus);

/* The objects' paths (new strings, NULL when out of memory) and the objects of paths. */
char *bus_recorder_path(const Recorder *r);
char *bus_master_path(const Master *m);
char *bus_job_path(const Job *j);
Recorder *bus_daemon_find_recorder(BusDaemon *d, const char *path);
Master *bus_daemon_find_master(BusDaemon *d, const char *path);
Job *bus_daemon_find_job(BusDaemon *d, const char *path);

/* Emits on every connection; names NULL-terminated. */
void bus_daemon_emit_properties_changed(BusDaemon *d, const char *path, const char *interface,
                                        const char *const *names);
void bus_daemon_emit_signal(BusDaemon *d, const char *path, const char *interface, const char *member,
                            const char *types, ...);

/* The BusDaemon serving m: the manager's observer is, with it as userdata. For the adapters,
 * whose objects are the core's. */
static inline BusDaemon *bus_daemon_of(const Manager *m) {
        return m->observer.userdata;
}
