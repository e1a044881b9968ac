/* gate: the shim's adapter between the interposed libvirt functions and
 * core/launch, which carries out every start, define, undefine and stop.
 * Builds the two tables launch needs from the real libvirt functions (the
 * host: log, the thread's libvirt error, the stop watch; a defined domain:
 * its stored definition, define, is-active), once per process. The launch
 * holds a per-VM-name lock across the real call (see core/launch.h). */
#ifndef SP_GATE_H
#define SP_GATE_H

#include <libvirt/libvirt.h>

#include "../core/launch.h"

/* Each takes the real libvirt call as launch.h's function types (domains
 * as void *), NULL when the process has none: then the caller gets that
 * error and nothing else happens. */

/* A start from XML (virDomainCreateXML and kin). */
virDomainPtr sp_gate_create(const char *api, const char *xml, sp_launch_xml_fn create, void *ctx);

/* A defined domain starts with its devices (virDomainCreate and kin). */
int sp_gate_start_defined(const char *api, virDomainPtr dom, sp_launch_start_fn start, void *ctx);

/* A definition stored without anything the shim added, in order with the
 * VM's starts (virDomainDefineXML and kin). */
virDomainPtr sp_gate_define(const char *api, const char *xml, sp_launch_xml_fn define, void *ctx);

/* A call that changes dom's definition (undefine), in order with its starts. */
int sp_gate_locked(const char *api, virDomainPtr dom, sp_launch_call_fn call, void *ctx);

/* libvirt's own autostart bypasses the shim: refused (-1, error set) for
 * VMs a snippet names; 0 means go on. */
int sp_gate_check_autostart(virDomainPtr dom, int autostart);

/* Reports a message as the libvirt error of the calling thread. */
void sp_gate_report(const char *message);

#endif
