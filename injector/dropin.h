/* dropin: the systemd drop-in that preloads the shim into the libvirt
 * daemon's unit (on DSM the VM manager's daemon runs as pkg-libvirtd), and
 * `systemctl daemon-reload`. Writes only its own file; never one that would
 * preload a shim the load proof has not passed. */
#ifndef SP_DROPIN_H
#define SP_DROPIN_H

#include "../common/err.h"

#define SP_DROPIN_NAME "50-synopassthru.conf"

/* What a put or take did. */
enum sp_change { SP_UNCHANGED = 0, SP_CHANGED = 1 };

/* A systemd unit name without ".service": letters, digits, ":_.@-". */
int sp_unit_name_ok(const char *unit);

/* ROOT/etc/systemd/system/UNIT.service.d (malloc'd). */
char *sp_dropin_dir(const char *root, const char *unit);
/* ROOT/etc/systemd/system/UNIT.service.d/50-synopassthru.conf (malloc'd). */
char *sp_dropin_path(const char *root, const char *unit);

/* The drop-in's text for the daemon: LD_PRELOAD=shim and the config dir,
 * quoted for systemd. NULL (err set) when a value cannot be carried. */
char *sp_dropin_text(const char *shim, const char *config_dir, struct sp_err *err);

/* Writes text to the drop-in (creating its directory) unless it is there
 * already with exactly that text. */
int sp_dropin_put(const char *root, const char *unit, const char *text, enum sp_change *change,
                  struct sp_err *err);

/* Deletes the drop-in, and its directory when that leaves it empty. */
int sp_dropin_take(const char *root, const char *unit, enum sp_change *change,
                   struct sp_err *err);

/* `systemctl daemon-reload`, as a child with a deadline (no shell). */
int sp_systemd_reload(struct sp_err *err);

#endif
