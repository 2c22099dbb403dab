#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Burns the contents of a folder to a disc through imapid's D-Bus API, showing progress;
Ctrl-C cancels the burn. A starting point for desktop applications: only GLib's GDBus (Gio,
from PyGObject), and the calls in the order docs/writing-a-client.md explains them.

    burn-folder.py [--recorder=ID] [--speed-kbps=N] FOLDER

It talks to imapid on the system bus, or on the bus in $IMAPI_BUS_ADDRESS. Exit status: 0 the
burn succeeded, 1 it failed, 5 it was cancelled.
"""

import argparse
import os
import sys

from gi.repository import Gio, GLib

BUS_NAME = "org.imapid.Imapi1"
MANAGER = "/org/imapid/Imapi1/Manager"
IFACE = "org.imapid.Imapi1."
USERABORT = 0x8004020D
# dbus-daemon passes at most 16 file descriptors in one message by default.
BATCH = 16


def connect():
    address = os.environ.get("IMAPI_BUS_ADDRESS")
    if not address:
        return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
    return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)


def call(bus, path, interface, method, args, reply="()", fds=None):
    """A method call; a D-Bus error raises GLib.Error (see fail())."""
    result, _ = bus.call_with_unix_fd_list_sync(BUS_NAME, path, IFACE + interface, method, args,
                                                GLib.VariantType(reply), Gio.DBusCallFlags.NONE, -1, fds, None)
    return result.unpack()


def fail(what, error):
    """imapid's errors are named after the IMAPI HRESULT; the message starts with it in hex."""
    name = Gio.DBusError.get_remote_error(error) or error.domain
    # GDBus puts the name in front of the message ("GDBus.Error:<name>: 0x8004021D: ...").
    message = error.message.removeprefix(f"GDBus.Error:{name}: ")
    sys.exit(f"burn-folder: {what}: {name}: {message}")


def entries(folder):
    """(name on the disc, local path) for every file, and every folder that holds nothing."""
    for top, dirs, files in os.walk(folder):
        rel = os.path.relpath(top, folder)
        for f in sorted(files):
            if os.path.isfile(os.path.join(top, f)) and not os.path.islink(os.path.join(top, f)):
                yield (f if rel == "." else f"{rel}/{f}"), os.path.join(top, f)
        if not dirs and not files and rel != ".":
            yield rel, top


def add_data(bus, master, batch):
    """One AddData: the files travel as file descriptors, which imapid copies into its stash."""
    fds = Gio.UnixFDList()
    items = []
    for name, path in batch:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECTORY if os.path.isdir(path) else 0))
        items.append((name, fds.append(fd)))
        os.close(fd)  # the list holds its own copy
    call(bus, master, "JolietDiscMaster", "AddData", GLib.Variant("(a(sh)ba{sv})", (items, False, {})),
         fds=fds)


def main():
    parser = argparse.ArgumentParser(description="Burn a folder to disc with imapid.")
    parser.add_argument("--recorder", help="the recorder's id (sr0, stdio0); default: the first")
    parser.add_argument("--speed-kbps", type=int, help="write speed in kB/s")
    parser.add_argument("folder")
    args = parser.parse_args()

    bus = connect()
    step = "CreateDiscMaster"
    try:
        # A disc master of our own; imapid closes it and frees its stash if we go away.
        (master,) = call(bus, MANAGER, "Manager", "CreateDiscMaster", GLib.Variant("(a{sv})", ({},)), "(o)")
        step = "Open"
        call(bus, master, "DiscMaster", "Open", GLib.Variant("(a{sv})", ({},)))
        step = "SetActiveDiscMasterFormat"
        call(bus, master, "DiscMaster", "SetActiveDiscMasterFormat", GLib.Variant("(sa{sv})", ("joliet", {})))
        step = "EnumDiscRecorders"
        (recorders,) = call(bus, master, "DiscMaster", "EnumDiscRecorders", None, "(ao)")
        chosen = [r for r in recorders if args.recorder is None or r.rsplit("/", 1)[1] == args.recorder]
        if not chosen:
            sys.exit(f"burn-folder: no recorder {args.recorder or ''} (imapid has {len(recorders)})")
        step = "SetActiveDiscRecorder"
        call(bus, master, "DiscMaster", "SetActiveDiscRecorder", GLib.Variant("(oa{sv})", (chosen[0], {})))
        step = "AddData"
        todo = list(entries(args.folder))
        for i in range(0, len(todo), BATCH):
            add_data(bus, master, todo[i:i + BATCH])
            print(f"staged {min(i + BATCH, len(todo))}/{len(todo)}", flush=True)
    except GLib.Error as e:
        fail(step, e)
    except KeyboardInterrupt:
        # Our connection closes on exit, and with it the disc master and what was staged.
        print("Interrupted; nothing was burned.")
        return 5

    loop = GLib.MainLoop()
    state = {"job": None, "status": 1, "interrupts": 0, "phase": "", "progress": 0.0}

    def on_properties(conn, sender, path, iface, signal, params):
        changed = params.unpack()[1]
        if path != state["job"] or "Progress" not in changed and "Phase" not in changed:
            return
        state["phase"] = changed.get("Phase", state["phase"])
        state["progress"] = changed.get("Progress", state["progress"])
        print(f"{state['phase']:<9} {state['progress'] * 100:5.1f}%", flush=True)

    def on_completed(conn, sender, path, iface, signal, params):
        if path != state["job"]:
            return
        success, message = params.unpack()
        print(("Done: " if success else "Failed: ") + message, flush=True)
        # The message starts with the HRESULT: 0x8004020D is IMAPI_E_USERABORT.
        state["status"] = 0 if success else 5 if message.startswith(f"0x{USERABORT:08X}") else 1
        loop.quit()

    def on_sigint():
        state["interrupts"] += 1
        if state["interrupts"] > 1:
            loop.quit()  # stop waiting; imapid finishes the cancellation by itself
            return GLib.SOURCE_REMOVE
        print("Cancelling (Ctrl-C again to stop waiting)...", flush=True)
        bus.call(BUS_NAME, state["job"], IFACE + "Job", "Cancel", GLib.Variant("(a{sv})", ({},)), None,
                 Gio.DBusCallFlags.NONE, -1, None, None, None)
        return GLib.SOURCE_CONTINUE

    # Subscribe before the job starts: it may end before we would otherwise listen.
    bus.signal_subscribe(BUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", None,
                         IFACE + "Job", Gio.DBusSignalFlags.NONE, on_properties)
    bus.signal_subscribe(BUS_NAME, IFACE + "Job", "Completed", None, None, Gio.DBusSignalFlags.NONE,
                         on_completed)
    options = {"write_speed_kbps": GLib.Variant("u", args.speed_kbps)} if args.speed_kbps else {}
    try:
        (state["job"],) = call(bus, master, "DiscMaster", "RecordDisc",
                               GLib.Variant("(bba{sv})", (False, False, options)), "(o)")
    except GLib.Error as e:
        fail("RecordDisc", e)
    print(f"Job {state['job']}", flush=True)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 2, on_sigint)  # SIGINT
    loop.run()

    # Closing deletes what was staged (after the job, if it still runs).
    try:
        call(bus, master, "DiscMaster", "Close", GLib.Variant("(a{sv})", ({},)))
    except GLib.Error as e:
        fail("Close", e)
    return 5 if state["interrupts"] > 1 else state["status"]


if __name__ == "__main__":
    sys.exit(main())
