/* launch: a VM start carried out, for both ways libvirt starts a VM: from
 * XML in hand (virDomainCreateXML: the patched XML is what libvirt gets)
 * and from a definition (virDomainCreate: the patched definition is stored,
 * marked with the original, for the moment of the start, and the original
 * is put back). Also the define, undefine and stop of a VM, which must not
 * interleave with its start. Decides through core/start, binds through
 * core/binder, records through core/audit, and reaches libvirt only
 * through the function tables below, so the whole sequence is unit-tested
 * without libvirt.
 *
 * Order: the start, define, undefine and stop-release of one VM name run
 * under that name's lock, held across the real libvirt call by design. A
 * define during a start waits for the put-back (which would otherwise
 * overwrite it); a stop's release waits for a start of the same VM and then
 * finds it running again (and leaves its devices where they are). */
#ifndef SP_LAUNCH_H
#define SP_LAUNCH_H

#include "../common/err.h"

/* The host process (libvirtd), as a launch needs it. Every member is set. */
struct sp_launch_host {
    void (*log)(const char *line);           /* one line in the daemon's log */
    void (*report)(const char *message);     /* the calling thread's libvirt error */
    const char *(*last_error)(void);         /* libvirt's message for the last failure, or NULL */
    void *(*save_error)(void);               /* the thread's error, kept across a call */
    void (*restore_error)(void *saved);      /* sets it again and frees it (NULL: nothing) */
    void (*watch_stops)(void *dom);          /* a VM with release="yes" devices started */
};

/* A defined domain. The table reaches libvirt's real functions. */
struct sp_launch_domain {
    void *dom;
    const char *name;                          /* libvirt's name of it */
    char *(*inactive_xml)(void *dom);          /* its stored definition, malloc'd; NULL: failed */
    int (*define)(void *dom, const char *xml); /* stores xml as its definition: 0, or -1 */
    int (*is_active)(void *dom);               /* 1 running, 0 not, -1 unknown */
};

/* The real libvirt call. A NULL function means the process has none: the
 * launch reports that before anything else happens. */
typedef void *(*sp_launch_xml_fn)(const char *xml, void *ctx);
typedef int (*sp_launch_start_fn)(void *dom, void *ctx);
typedef int (*sp_launch_call_fn)(void *ctx);

struct sp_launcher;

/* Logs and reports that the process has no real libvirt function api. */
void sp_launch_report_missing(const struct sp_launch_host *host, const char *api);

/* A launcher reading config_dir (NULL: SYNOPASSTHRU_CONFIG_DIR or the
 * default). host is kept, not copied. NULL when memory runs out. */
struct sp_launcher *sp_launcher_new(const char *config_dir, const struct sp_launch_host *host);
void sp_launcher_free(struct sp_launcher *l);

/* virDomainCreateXML and its kin: decide, bind, call create with the XML
 * libvirt should get, record. Returns what create returned (NULL when
 * refused, with the reason reported). api names the call in records. */
void *sp_launch_create(struct sp_launcher *l, const char *api, const char *xml,
                       sp_launch_xml_fn create, void *ctx);

/* virDomainCreate and its kin: a defined domain starts with its devices;
 * its stored definition is the original again when this returns. */
int sp_launch_start_defined(struct sp_launcher *l, const char *api,
                            const struct sp_launch_domain *d, sp_launch_start_fn start,
                            void *ctx);

/* virDomainDefineXML and its kin: the XML without anything the shim added
 * (a definition written back from live XML), stored through define under
 * its VM's lock. */
void *sp_launch_define(struct sp_launcher *l, const char *api, const char *xml,
                       sp_launch_xml_fn define, void *ctx);

/* Any other call that changes VM vm's definition (undefine), made under
 * its lock. Returns what call returned. */
int sp_launch_locked(struct sp_launcher *l, const char *api, const char *vm,
                     sp_launch_call_fn call, void *ctx);

/* VM vm stopped: its release="yes" devices go back to their host drivers,
 * unless running(vm, ctx) says it runs again (a start came first). No
 * helper runs for a VM that holds no device. */
void sp_launch_stopped(struct sp_launcher *l, const char *vm,
                       int (*running)(const char *vm, void *ctx), void *ctx);

/* libvirt's own autostart starts VMs at boot without the public API, so
 * without their devices: -1 (reported) for a definition a snippet names,
 * 0 to go on. */
int sp_launch_check_autostart(struct sp_launcher *l, const char *inactive_xml);

#endif
