/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's state: the event loop, the bus connections it serves, its recorders and the
 * clients that hold something. One thread owns all of it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef struct Config Config;
typedef struct Recorder Recorder;
typedef struct Client Client;
typedef struct Daemon Daemon;
typedef struct Master Master;
typedef struct Job Job;
typedef struct Worker Worker;
typedef struct PolkitQuery PolkitQuery;
typedef struct P2PServer P2PServer;
typedef struct Inhibitor Inhibitor;

struct Daemon {
        sd_event *event;
        const Config *config;
        Worker *worker;         /* blocking work: stash copies, image builds, verification */

        /* Every connection the objects are served on: the bus (if any), then peer-to-peer
         * connections. Signals go out on all of them. */
        sd_bus **buses;
        size_t n_buses;

        Recorder **recorders;
        size_t n_recorders;

        Client **clients;
        size_t n_clients;

        Master **masters;
        size_t n_masters;
        unsigned next_master_id;

        Job **jobs;
        size_t n_jobs;
        unsigned next_job_id;

        bool exiting;           /* SIGTERM: cancel work, exit when it has stopped */
        sd_event_source *hotplug; /* hotplug.c: looking for drives that come and go */
        uint32_t hotplug_rejected; /* /dev/srN nodes that are not usable drives, by N */

        PolkitQuery *polkit_queries;    /* polkit.c: authorization checks in flight */
        P2PServer *p2p;                 /* p2p.c: the socket-activated peer-to-peer server */
        Inhibitor *inhibitor;           /* inhibit.c: logind's sleep/shutdown lock during burns */
};

int daemon_new(sd_event *event, const Config *config, Daemon **ret);
Daemon *daemon_free(Daemon *d);

/* Finds the recorders: the hardware scan (unless disabled) and the configured addresses. */
int daemon_add_recorders(Daemon *d);
Recorder *daemon_find_recorder_by_path(Daemon *d, const char *path);
/* Adds a recorder for a libburn address; -EBUSY when another process holds the drive. */
int daemon_add_address(Daemon *d, const char *address);

/* SIGTERM/SIGINT: cancels running jobs and staging, and leaves the event loop once they have
 * stopped and cleaned up. daemon_check_exit() is called whenever such work ends. */
void daemon_request_exit(Daemon *d);
void daemon_check_exit(Daemon *d);

/* Serves every object on a connection. */
int daemon_attach_bus(Daemon *d, sd_bus *bus);
void daemon_detach_bus(Daemon *d, sd_bus *bus);

/* Emits on every connection. NULL-terminated property names. */
void daemon_emit_properties_changed(Daemon *d, const char *path, const char *interface, ...)
        __attribute__((sentinel));
void daemon_emit_object_added(Daemon *d, const char *path);
void daemon_emit_object_removed(Daemon *d, const char *path);

/* Clients: whoever holds a recorder, a disc master or a job. Identified by their unique name
 * on a bus, or by their connection on a peer-to-peer socket. */
struct Client {
        Daemon *daemon;
        sd_bus *bus;
        char *name;             /* unique bus name; NULL for a peer-to-peer connection */
        sd_bus_track *track;
        uid_t uid;
        char *description;      /* for logs and ExclusiveOwner: name or "uid 1000 (peer)" */
};

/* The client that sent m; created (and tracked until it goes away) when create is set. */
int daemon_get_client(Daemon *d, sd_bus_message *m, bool create, Client **ret, sd_bus_error *error);
/* Called when a client disappears: releases what it held, then frees it. */
void daemon_client_gone(Daemon *d, Client *c);
/* Drops the client of a closed peer-to-peer connection. */
void daemon_peer_gone(Daemon *d, sd_bus *bus);
