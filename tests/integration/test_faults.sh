# Faults of the machine around a start, through a real libvirtd with the
# shim preloaded (private socket, fake sysfs with the kernel model, stopped
# by its pid), each class with what the README promises:
#   1. the config dir: not root's, world-writable, reached through a symlink
#      that moves or dangles, missing, unreadable;
#   2. what is not a regular file (a socket, a character device, a symlink
#      to /dev/null, a huge sparse file) as synopassthru.conf, a snippet, a
#      ROM, the audit log, in the state dir, and as a sysfs file the vfio
#      helper reads or writes (FIFOs in vm.d, as the conf and as a ROM are in
#      test_untrusted_files.sh);
#   3. the vfio helper missing, crashing, hanging, killed, and dying after
#      it bound devices;
#   4. the audit log's dir missing, the log not writable, the disk full;
#   5. the shim in a process without libvirt: the real function is missing.
# Every virsh call runs under `timeout 20`: a hang fails the test. After
# each fault the daemon must still be alive and start VMs.
# (A device vanishing from sysfs mid-check and allocation failures in the
# patch path are in tests/unit/test_faults.c.)
. "$(dirname "$0")/lib.sh"

SYSFS=$WORK/sysfs
CONFIG=$WORK/config
LINK=$WORK/config-link # the daemon's config dir: a symlink to $CONFIG
MODEL=$SP_BUILD/tests/synopassthru-vfio-model
make_sysfs "$SYSFS"
mkdir -p "$WORK/proc"
make_config "$CONFIG"
ln -s "$CONFIG" "$LINK"
add_rom "$CONFIG" good.bin
add_snippet "$CONFIG" win11.xml '<passthrough vm="win11"><pci address="08:00.3" vendor="1022" product="1639"/></passthrough>'
add_snippet "$CONFIG" snip.xml '<passthrough vm="snip"><pci address="08:00.4" vendor="1022" product="1639"/></passthrough>'
add_snippet "$CONFIG" rom.xml '<passthrough vm="romvm"><pci address="08:00.0" vendor="1002" product="1638" rom="good.bin"/></passthrough>'
for name in win11 snip romvm plain hvm pair coral nvme audio; do
    test_domain "$name" > "$WORK/$name.xml"
done

# remote OUT COMMANDS: one virsh session, cut off after 20 s.
remote() { session 20 "$@"; }
alive() {
    check "$1: libvirtd is alive" daemon_alive
    check "$1: and answers" sh -c "timeout 5 virsh -q -c '$DAEMON_URI' version > /dev/null"
}
# refused "what" VM MESSAGE: the start of VM ends on its own, fails, and the
# client is told MESSAGE.
refused() {
    remote "$WORK/out" "create $WORK/$2.xml"
    local rc=$?
    check "$1: did not hang" test $rc -ne 124
    check "$1: refused" test $rc -ne 0
    contains "$1: the client is told why" "$WORK/out" "$3"
}
# starts "what" VM [COUNT]: VM starts with COUNT (default 1) hostdevs.
starts() {
    remote "$WORK/out" "create $WORK/$2.xml; dumpxml $2"
    local rc=$?
    check "$1: $2 starts" test $rc -eq 0
    contains "$1: $2 has its devices" "$WORK/out" "<hostdev mode='subsystem' type='pci'" "${3:-1}"
}
# untouched "what" VM: VM starts, and as it came (no hostdev).
untouched() {
    remote "$WORK/out" "create $WORK/$2.xml; dumpxml $2"
    local rc=$?
    check "$1: $2 starts" test $rc -eq 0
    contains "$1: $2 as it came" "$WORK/out" "<hostdev" 0
}
# mark_log: logged looks only at what the daemon logs from here on.
LOG_MARK=0
mark_log() { LOG_MARK=$(stat -c %s "$DAEMON_DIR/libvirtd.log"); }
# logged "what" TEXT: the daemon's log has TEXT since the mark.
logged() {
    tail -c +$((LOG_MARK + 1)) "$DAEMON_DIR/libvirtd.log" > "$WORK/log.new"
    contains "$1: the daemon's log says so" "$WORK/log.new" "$2"
}
set_conf() { sed -i "s|^$1 = .*|$1 = $2|" "$CONFIG/synopassthru.conf"; }
# swap PATH KIND: PATH becomes a FIFO, a socket, a character device
# (mknod c 1 3, /dev/null's numbers), a symlink to /dev/null, a directory, or
# a 64 GiB sparse file; the original is kept in PATH.saved.
swap() {
    mv "$1" "$1.saved"
    case $2 in
    fifo) mkfifo "$1" ;;
    socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1" ;;
    chardev) mknod "$1" c 1 3 ;;
    devnull) ln -s /dev/null "$1" ;;
    dir) mkdir "$1" ;;
    huge) cp "$1.saved" "$1" && truncate -s 64G "$1" ;;
    esac
}
unswap() { rm -rf "$1" && mv "$1.saved" "$1"; }
drivers() { for a in "$@"; do printf '%s=%s ' "$a" "$(driver_of "$SYSFS" "$a")"; done; }
no_hold() { check "$1: no hold on $2" test ! -e "$CONFIG/state/$2.hold"; }
# json_lines FILE: FILE is whole JSON records, one a line, each ended by
# its newline (a part of a record at the end counts as broken).
json_lines() {
    python3 -c '
import json, sys
text = open(sys.argv[1], "rb").read()
if text and not text.endswith(b"\n"):
    sys.exit("the last line has no newline: %r" % text[-120:])
for n, line in enumerate(text.split(b"\n")[:-1], 1):
    try: json.loads(line)
    except ValueError: sys.exit("line %d is not JSON: %r" % (n, line[:120]))' "$1"
}

start_daemon "$LINK" "$SYSFS" || exit 1

# ---- 0. As configured, every VM starts with its devices.
starts "baseline" win11
starts "baseline" snip
starts "baseline" romvm
untouched "baseline" plain

# ---- 1. The config dir. A problem refuses every VM a snippet names, with
# the dir and the cause; others start untouched.
chown 65534 "$CONFIG"
refused "config dir not root's" win11 \
    "synopassthru: VM 'win11': config dir $LINK is owned by uid 65534, not root"
untouched "config dir not root's" plain
chown 0 "$CONFIG"
chmod 0777 "$CONFIG"
refused "config dir world-writable" win11 \
    "synopassthru: VM 'win11': config dir $LINK is world-writable (mode 0777)"
untouched "config dir world-writable" plain
chmod 0755 "$CONFIG"
starts "config dir fixed" win11

# The dir is judged where the symlink leads: a copy in a world-writable
# (not sticky) dir is refused, naming that dir.
mkdir -p "$WORK/pub" && cp -a "$CONFIG" "$WORK/pub/config" && chmod 0777 "$WORK/pub"
ln -sfn "$WORK/pub/config" "$LINK"
refused "config dir linked under a world-writable dir" win11 \
    "parent directory $WORK/pub is world-writable (mode 0777)"
ln -sfn "$CONFIG" "$LINK"
starts "config link back" win11

# Missing (the link dangles): nothing names any VM; every start goes on as
# it came, and the log says why.
ln -sfn "$WORK/nowhere" "$LINK"
mark_log
untouched "config dir missing" win11
untouched "config dir missing" plain
logged "config dir missing" "config dir $LINK does not exist: no VM gets passthrough devices"
ln -sfn "$CONFIG" "$LINK"
starts "config dir back" win11
alive "after the config dir faults"

# ---- 2. Files that are not what they seem.
# config_file_cause NAME KIND: what a refusal says of a file of the config
# dir swapped for KIND (as `swap` makes it).
config_file_cause() {
    case $2 in
    socket) echo "$1: is a socket, not a regular file" ;;
    chardev) echo "$1: is a character device, not a regular file" ;;
    devnull) echo "$1: outside the config dir" ;;
    huge) echo "$1: file too large (limit 1048576 bytes)" ;;
    esac
}
# synopassthru.conf: refuses every VM a snippet names.
conf=$CONFIG/synopassthru.conf
for kind in socket chardev devnull huge; do
    swap "$conf" $kind
    why=$(config_file_cause synopassthru.conf $kind)
    refused "the conf as a $kind" win11 "synopassthru: VM 'win11': $LINK/synopassthru.conf: "
    contains "the conf as a $kind: the cause" "$WORK/out" "$why"
    untouched "the conf as a $kind" plain
    unswap "$conf"
done
starts "the conf back" win11

# A snippet: refuses the VM it named.
snippet=$CONFIG/vm.d/snip.xml
for kind in socket chardev devnull huge; do
    swap "$snippet" $kind
    why=$(config_file_cause snip.xml $kind)
    refused "a snippet as a $kind" snip "synopassthru: VM 'snip': $LINK/vm.d/snip.xml: "
    contains "a snippet as a $kind: the cause" "$WORK/out" "$why"
    starts "a snippet as a $kind: another VM" win11
    unswap "$snippet"
done
starts "the snippet back" snip

# A ROM: refuses its VM, naming the ROM and the device.
rom=$CONFIG/rom/good.bin
for kind in socket chardev devnull huge; do
    swap "$rom" $kind
    case $kind in
    socket) why="good.bin: is a socket, not a regular file" ;;
    chardev) why="good.bin: is a character device, not a regular file" ;;
    devnull) why="outside the ROM dir" ;;
    huge) why="larger than any option ROM (limit 16 MiB)" ;;
    esac
    refused "a ROM as a $kind" romvm "synopassthru: VM 'romvm': ROM $LINK/rom/good.bin for 0000:08:00.0: "
    contains "a ROM as a $kind: the cause" "$WORK/out" "$why"
    unswap "$rom"
done
starts "the ROM back" romvm
alive "after the files"

# The audit log: the start goes on; the record is not written, and the
# daemon's log says which file and why.
log=$CONFIG/audit.log
for kind in fifo socket chardev devnull dir; do
    swap "$log" $kind
    case $kind in
    fifo) why="is a FIFO, not a regular file" ;;
    socket) why="is a socket, not a regular file" ;;
    chardev) why="is a character device, not a regular file" ;;
    devnull) why="is a symbolic link, not a regular file" ;;
    dir) why="is a directory, not a regular file" ;;
    esac
    mark_log
    starts "the audit log as a $kind" win11
    logged "the audit log as a $kind" "synopassthru: audit log"
    logged "the audit log as a $kind: the file and the cause" "$CONFIG/audit.log: $why"
    unswap "$log"
done
# A huge sparse log is appended to, never read: the record lands at its end.
truncate -s 64G "$log"
starts "a 64 GiB sparse audit log" win11
check "a 64 GiB sparse audit log: the record is its last line, whole" \
    sh -c "tail -c 4096 '$log' | tr -d '\\000' | tail -n 1 > '$WORK/last' && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$WORK/last'"
truncate -s 0 "$log"
alive "after the audit log files"

# The state dir (the helper's): refused, naming the file and the cause;
# nothing is bound.
hold=$CONFIG/state/0000:05:00.0.hold
add_snippet "$CONFIG" hvm.xml '<passthrough vm="hvm"><pci address="05:00.0" vendor="8086" product="10fb"/></passthrough>'
for kind in fifo socket chardev; do
    case $kind in fifo) mkfifo "$hold" ;; socket) python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$hold" ;; chardev) mknod "$hold" c 1 3 ;; esac
    case $kind in
    fifo) why="is a FIFO, not a regular file" ;;
    socket) why="is a socket, not a regular file" ;;
    chardev) why="is a character device, not a regular file" ;;
    esac
    refused "a hold as a $kind" hvm "synopassthru: VM 'hvm': hold: $hold: $why"
    check "a hold as a $kind: the NIC keeps its driver" test "$(driver_of "$SYSFS" 0000:05:00.0)" = ixgbe
    rm -f "$hold"
done
rm -f "$CONFIG/state/lock" && mknod "$CONFIG/state/lock" c 1 3
refused "the state lock as a character device" hvm "synopassthru: VM 'hvm': state lock"
contains "the state lock as a character device: the cause" "$WORK/out" "$CONFIG/state/lock: is a character device, not a regular file"
check "the state lock as a character device: the NIC keeps its driver" test "$(driver_of "$SYSFS" 0000:05:00.0)" = ixgbe
rm -f "$CONFIG/state/lock"
for kind in fifo file; do
    case $kind in fifo) mkfifo "$WORK/state-$kind" ;; file) : > "$WORK/state-$kind" ;; esac
    set_conf state_dir "$WORK/state-$kind"
    refused "the state dir as a $kind" hvm "synopassthru: VM 'hvm': state dir $WORK/state-$kind"
    check "the state dir as a $kind: the NIC keeps its driver" test "$(driver_of "$SYSFS" 0000:05:00.0)" = ixgbe
done
set_conf state_dir "$CONFIG/state"
alive "after the state dir faults"

# sysfs files the helper reads (a device's class, a group member's IDs) or
# writes (driver_override): refused at once, naming the file; the helper's
# timeout (10 s) is never what ends it.
dev=$SYSFS/devices/pci0000:00
add_snippet "$CONFIG" coral.xml '<passthrough vm="coral"><pci address="06:00.0" vendor="1ac1" product="089a"/></passthrough>'
add_snippet "$CONFIG" nvme.xml '<passthrough vm="nvme"><pci address="01:00.0" vendor="144d" product="a808"/></passthrough>'
add_snippet "$CONFIG" audio.xml '<passthrough vm="audio"><pci address="08:00.6" vendor="1022" product="15e3"/></passthrough>'
swap "$dev/0000:06:00.0/class" fifo
t0=$EPOCHREALTIME
refused "a device's class as a FIFO" coral "synopassthru: VM 'coral': "
contains "a device's class as a FIFO: the file and the cause" "$WORK/out" "0000:06:00.0/class: is a FIFO, not a regular file"
check "a device's class as a FIFO: within 5 s" awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 5) }'
unswap "$dev/0000:06:00.0/class"
swap "$dev/0000:00:01.1/vendor" fifo
refused "a group member's vendor as a FIFO" nvme "0000:00:01.1/vendor: is a FIFO, not a regular file"
check "a group member's vendor as a FIFO: the disk keeps its driver" test "$(driver_of "$SYSFS" 0000:01:00.0)" = nvme
unswap "$dev/0000:00:01.1/vendor"
for kind in fifo chardev; do
    swap "$dev/0000:08:00.6/driver_override" $kind
    t0=$EPOCHREALTIME
    refused "driver_override as a $kind" audio "0000:08:00.6/driver_override: is a"
    check "driver_override as a $kind: within 5 s" awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 5) }'
    check "driver_override as a $kind: the audio keeps its driver" test "$(driver_of "$SYSFS" 0000:08:00.6)" = snd_hda_intel
    no_hold "driver_override as a $kind" 0000:08:00.6
    unswap "$dev/0000:08:00.6/driver_override"
done
starts "the sysfs files back" coral
alive "after the sysfs files"

# ---- 3. The vfio helper. The start is refused with the reason, no device
# is left on vfio-pci, no hold is left, and the daemon goes on.
helper_case() {
    local what=$1 why=$2
    refused "$what" hvm "synopassthru: VM 'hvm': $why"
    check "$what: the NIC keeps its driver" test "$(driver_of "$SYSFS" 0000:05:00.0)" = ixgbe
    no_hold "$what" 0000:05:00.0
    alive "$what"
}
set_conf vfio_helper "$WORK/no-such-helper"
helper_case "the helper missing" ""
contains "the helper missing: the file and the cause" "$WORK/out" "$WORK/no-such-helper: No such file or directory"
printf '#!/bin/sh\nkill -SEGV $$\n' > "$WORK/crash.sh"
printf '#!/bin/sh\nkill -KILL $$\n' > "$WORK/killed.sh"
printf '#!/bin/sh\nexec sleep 60\n' > "$WORK/hang.sh"
chmod 755 "$WORK/crash.sh" "$WORK/killed.sh" "$WORK/hang.sh"
set_conf vfio_helper "$WORK/crash.sh"
helper_case "the helper crashing" "the vfio helper was killed by signal 11"
set_conf vfio_helper "$WORK/killed.sh"
helper_case "the helper killed" "the vfio helper was killed by signal 9"
set_conf vfio_helper "$WORK/hang.sh"
set_conf helper_timeout_ms 500
t0=$EPOCHREALTIME
helper_case "the helper hanging" "the vfio helper did not finish within 500 ms and was killed"
check "the helper hanging: cut off within 5 s" awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { exit !(b - a < 5) }'
# Killed in the middle of a bind: the first device is on vfio-pci, the
# second one's driver hangs in unbind, the timeout kills the helper. The
# first must not be left on vfio-pci, held by a VM that never started.
set_conf vfio_helper "$MODEL"
set_conf helper_timeout_ms 1500
add_snippet "$CONFIG" pair.xml '<passthrough vm="pair"><pci address="08:00.1" vendor="1002" product="1637"/><pci address="08:00.2" vendor="1022" product="15df"/></passthrough>'
touch "$SYSFS/bus/pci/drivers/ccp/.hang-unbind"
refused "the helper killed mid-bind" pair "the vfio helper did not finish within 1500 ms and was killed"
check "the helper killed mid-bind: the first device is back on its driver" \
    test "$(driver_of "$SYSFS" 0000:08:00.1)" = snd_hda_intel
no_hold "the helper killed mid-bind" 0000:08:00.1
alive "the helper killed mid-bind"
rm -f "$SYSFS/bus/pci/drivers/ccp/.hang-unbind"
# Dying after it bound the devices (before it could say so): the same.
printf '#!/bin/sh\n"%s" "$@" >/dev/null\nkill -SEGV $$\n' "$MODEL" > "$WORK/bind-then-crash.sh"
chmod 755 "$WORK/bind-then-crash.sh"
set_conf vfio_helper "$WORK/bind-then-crash.sh"
set_conf helper_timeout_ms 10000
helper_case "the helper crashing after the bind" "the vfio helper was killed by signal 11"
set_conf vfio_helper "$MODEL"
starts "the helper back" hvm

# ---- 4. The audit log's dir and disk: the start goes on, the log says
# why, and the file holds only whole records.
set_conf audit_log "$WORK/no-such-dir/audit.log"
mark_log
starts "the audit dir missing" win11
logged "the audit dir missing" "synopassthru: audit log $WORK/no-such-dir/audit.log"
logged "the audit dir missing: the cause" "$WORK/no-such-dir: No such file or directory"
AUD=$WORK/aud
mkdir -p "$AUD" && chmod 755 "$AUD"
set_conf audit_log "$AUD/audit.log"
# In the daemon's own mount namespace: a read-only tmpfs, then a full one.
in_daemon() { nsenter -t "$DAEMON_PID" -m -- "$@"; }
in_daemon mount -t tmpfs -o ro,mode=755 tmpfs "$AUD"
mark_log
starts "the audit log on a read-only file system" win11
logged "the audit log on a read-only file system" "$AUD/audit.log: Read-only file system"
in_daemon umount "$AUD"
in_daemon mount -t tmpfs -o size=16k,mode=755 tmpfs "$AUD"
starts "the audit log on a small disk" win11
# Fill the disk: the log's last page with a record of padding up to 100
# bytes before its end, every other page with a file. The next record fits
# only in part.
size=$(in_daemon stat -c %s "$AUD/audit.log")
printf '{"padding":"%s"}\n' "$(head -c $((4096 - 100 - size - 15)) /dev/zero | tr '\000' x)" > "$WORK/pad"
in_daemon sh -c "cat '$WORK/pad' >> '$AUD/audit.log'"
in_daemon sh -c "dd if=/dev/zero of='$AUD/fill' bs=4096 2>/dev/null; true"
in_daemon cat "$AUD/audit.log" > "$WORK/audit.before"
mark_log
starts "the audit disk full" win11
logged "the audit disk full" "audit log $AUD/audit.log: No space left on device (the record was not written)"
in_daemon cat "$AUD/audit.log" > "$WORK/audit.full"
check "the audit disk full: no part of a record is left" cmp -s "$WORK/audit.before" "$WORK/audit.full"
check "the audit disk full: the log is whole JSON lines" json_lines "$WORK/audit.full"
in_daemon rm "$AUD/fill"
starts "the audit disk with room again" win11
in_daemon cat "$AUD/audit.log" > "$WORK/audit.after"
check "the audit disk with room again: records are written" \
    test "$(wc -l < "$WORK/audit.after")" -gt "$(wc -l < "$WORK/audit.full")"
check "the audit disk with room again: the log is whole JSON lines" json_lines "$WORK/audit.after"
in_daemon umount "$AUD"
set_conf audit_log "$CONFIG/audit.log"
alive "after the audit faults"
check "every audit record written here is whole JSON" json_lines "$CONFIG/audit.log"
stop_daemon

# ---- 1b. The config dir unreadable: a daemon without CAP_DAC_OVERRIDE
# (as root on a NAS with a locked-down service), the dir mode 0000. A VM
# the config named when it was last read is refused, naming the dir and the
# cause; a config never read is said in the log, and VMs start as they came.
mkdir -p "$WORK/nocap"
cat > "$WORK/nocap/libvirtd" <<SH
#!/bin/sh
exec setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search $(command -v libvirtd) "\$@"
SH
chmod 755 "$WORK/nocap/libvirtd"
ln -sfn "$CONFIG" "$LINK"
PATH=$WORK/nocap:$PATH start_daemon "$LINK" "$SYSFS" || exit 1
# CAP_DAC_OVERRIDE is bit 1 of the effective set.
no_dac_override() {
    local eff
    eff=$(awk '/^CapEff:/ { print $2 }' "/proc/$DAEMON_PID/status")
    [ -n "$eff" ] && [ $(( (0x$eff >> 1) & 1 )) -eq 0 ]
}
check "the daemon runs without CAP_DAC_OVERRIDE" no_dac_override
starts "readable" win11
chmod 0000 "$CONFIG/vm.d"
refused "vm.d unreadable" win11 "synopassthru: VM 'win11': "
contains "vm.d unreadable: naming it and the cause" "$WORK/out" "vm.d: cannot list it: Permission denied"
untouched "vm.d unreadable" plain
chmod 0755 "$CONFIG/vm.d"
chmod 0000 "$CONFIG"
refused "config dir unreadable" win11 "synopassthru: VM 'win11': "
contains "config dir unreadable: naming it and the cause" "$WORK/out" ": Permission denied"
untouched "config dir unreadable" plain
alive "config dir unreadable"
stop_daemon
# Unreadable from the daemon's start: nothing can name a VM.
PATH=$WORK/nocap:$PATH start_daemon "$LINK" "$SYSFS" || exit 1
mark_log
untouched "config dir unreadable from the start" win11
logged "config dir unreadable from the start" "$LINK"
logged "config dir unreadable from the start: the cause" "Permission denied"
alive "config dir unreadable from the start"
stop_daemon
chmod 0755 "$CONFIG"

# ---- 5. The real libvirt function missing: the shim in a process without
# libvirt, whose virDomainCreateXML is called for a VM a snippet names. It
# must fail, say why, and neither run the helper nor bind anything.
"$CLI" --config "$CONFIG" release --force 0000:08:00.4 > /dev/null 2>&1
check "no libvirt: 08:00.4 starts on its host driver" test "$(driver_of "$SYSFS" 0000:08:00.4)" = xhci_hcd
printf '#!/bin/sh\ntouch "%s"\nexec "%s" "$@"\n' "$WORK/helper-ran" "$MODEL" > "$WORK/marking-helper.sh"
chmod 755 "$WORK/marking-helper.sh"
set_conf vfio_helper "$WORK/marking-helper.sh"
add_snippet "$CONFIG" lonely.xml '<passthrough vm="lonely"><pci address="08:00.4" vendor="1022" product="1639"/></passthrough>'
cat > "$WORK/nolibvirt.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    void *shim = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!shim) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    void *(*create)(void *, const char *, unsigned) = (void *(*)(void *, const char *, unsigned))
        dlsym(shim, "virDomainCreateXML");
    if (!create)
        return 3;
    void *dom = create(NULL, argv[2], 0);
    printf("%s\n", dom ? "a domain" : "NULL");
    return dom ? 1 : 0;
}
C
cc -o "$WORK/nolibvirt" "$WORK/nolibvirt.c" -ldl
check "no libvirt: the test program is not linked with libvirt" sh -c "! ldd '$WORK/nolibvirt' | grep -q libvirt"
audit_before=$(grep -c '"event":"bind"' "$CONFIG/audit.log" || true)
timeout 20 env SYNOPASSTHRU_CONFIG_DIR="$CONFIG" "$WORK/nolibvirt" "$SHIM" \
    "$(test_domain lonely)" > "$WORK/nolibvirt.out" 2> "$WORK/nolibvirt.err"
rc=$?
check "no libvirt: the call returns" test $rc -ne 124
check "no libvirt: it fails (NULL, exit 0; got exit $rc)" test $rc -eq 0
contains "no libvirt: NULL" "$WORK/nolibvirt.out" "NULL" 1
contains "no libvirt: it says which function is missing" "$WORK/nolibvirt.err" "virDomainCreateXML"
check "no libvirt: the helper never ran" test ! -e "$WORK/helper-ran"
check "no libvirt: no bind was recorded" test "$(grep -c '"event":"bind"' "$CONFIG/audit.log" || true)" -eq "$audit_before"
check "no libvirt: 08:00.4 stays on its host driver" test "$(driver_of "$SYSFS" 0000:08:00.4)" = xhci_hcd
no_hold "no libvirt" 0000:08:00.4
