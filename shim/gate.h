/* gate: the one decide-and-forward path every interposed function takes.
 * Asks core/start what to do with the XML, forwards the original or the
 * patched XML to the real function, reports a refusal through libvirt's
 * error machinery, and writes the audit record. Holds no lock across the
 * real call. */
#ifndef SP_GATE_H
#define SP_GATE_H

#include <libvirt/libvirt.h>

/* Calls the real libvirt function with the XML it should receive. */
typedef virDomainPtr (*sp_forward_fn)(const char *xml, void *ctx);

virDomainPtr sp_gate_create(const char *api, const char *xml, sp_forward_fn forward, void *ctx);

/* Starts a defined domain: int-returning forward (0 ok, -1 failed). */
typedef int (*sp_start_fn)(virDomainPtr dom, void *ctx);

/* The persistent path: the stored definition is patched for the moment of
 * the start (marked, under a per-domain lock) and then put back. */
int sp_gate_start_defined(const char *api, virDomainPtr dom, sp_start_fn start, void *ctx);

/* The XML a define should store: without anything the shim added. NULL
 * when xml is fine as it is; else malloc'd. */
char *sp_gate_clean_define(const char *xml);

/* libvirt's own autostart starts VMs at boot without the public API, so
 * without their devices: refused (-1, error set) for VMs a snippet names;
 * 0 means go on. */
int sp_gate_check_autostart(virDomainPtr dom, int autostart);

/* A VM stopped: gives back its release="yes" devices (from events.c). */
void sp_gate_release_stopped(const char *vm);

/* One line in the host process's log (stderr). */
void sp_gate_log(const char *message);

/* Reports a message as the libvirt error of the calling thread. */
void sp_gate_report(const char *message);

#endif
