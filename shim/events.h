/* events: notices, inside the host process, that a VM stopped, so that its
 * release="yes" devices go back to their host drivers. The shim opens a
 * connection of its own to the same URI (in libvirtd that is the daemon's
 * own driver, in process) and registers a lifecycle callback on it; the
 * stop callback runs in a thread of its own, never in the event loop. */
#ifndef SP_EVENTS_H
#define SP_EVENTS_H

#include <libvirt/libvirt.h>

/* VM vm stopped; own is the watching connection, open for the life of the
 * process (to ask whether vm runs again). */
typedef void (*sp_events_stop_fn)(const char *vm, virConnectPtr own);

/* Starts watching the driver behind conn (once per URI); on_stop runs for
 * every VM that stops there; log takes a line when watching fails. */
void sp_events_watch(virConnectPtr conn, sp_events_stop_fn on_stop, void (*log)(const char *));

#endif
