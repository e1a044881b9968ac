/* events: notices, inside the host process, that a VM stopped, so that its
 * release="yes" devices go back to their host drivers. The shim opens a
 * connection of its own to the same URI (in libvirtd that is the daemon's
 * own driver, in process) and registers a lifecycle callback on it; the
 * release runs in a thread of its own, never in the event loop. */
#ifndef SP_EVENTS_H
#define SP_EVENTS_H

#include <libvirt/libvirt.h>

/* Starts watching the driver behind conn (once per URI). */
void sp_events_watch(virConnectPtr conn);

#endif
