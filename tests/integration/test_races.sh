# Races a running daemon meets, with their windows opened on purpose: a
# library preloaded after the shim makes libvirt's real starts slow
# (tests/tools/slowstart.c), and a wrapper around the vfio helper makes the
# release after a stop slow. Each case failed before starts, defines,
# undefines and stop-releases of a VM were put in order (core/launch.h).
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS" amd-apu
# Every helper run is logged; a release after a stop first waits 2 s.
cat > "$WORK/slow-helper" <<EOF
#!/bin/sh
echo "\$*" >> "$WORK/helper-calls"
[ "\$1" = release-stopped ] && sleep 2
exec "$SP_BUILD/tests/synopassthru-vfio-model" "\$@"
EOF
chmod 755 "$WORK/slow-helper"
sed -i "s|^vfio_helper = .*|vfio_helper = $WORK/slow-helper|" "$CONFIG/synopassthru.conf"
add_snippet "$CONFIG" pers.xml '<passthrough vm="pers"><pci address="06:00.0"/></passthrough>'
add_snippet "$CONFIG" rel.xml '<passthrough vm="rel" release="yes"><pci address="08:00.3"/></passthrough>'

export SP_SLOW_START_MS=1500
SP_PRELOAD_AFTER=$SP_BUILD/tests/libslowstart.so start_daemon "$CONFIG" "$SYSFS" || exit 1
remote() { virsh -q -c "$DAEMON_URI" "$@"; }
# The test driver forgets its VMs when its last connection closes: one
# connection stays open (a virsh reading from a FIFO) while separate
# clients race.
mkfifo "$WORK/keep"
virsh -q -c "$DAEMON_URI" < "$WORK/keep" > /dev/null 2>&1 &
exec 7> "$WORK/keep"

# 1. A define while the VM starts: the start's put-back must not undo it.
test_domain pers > "$WORK/pers.xml"
remote define "$WORK/pers.xml" > /dev/null
remote dumpxml --inactive pers | sed 's/>65536</>131072</' > "$WORK/pers-bigger.xml"
remote start pers > "$WORK/s1-start" 2>&1 &
starting=$!
sleep 0.5
remote define "$WORK/pers-bigger.xml" > "$WORK/s1-define" 2>&1
check "the define during the start succeeds" test $? -eq 0
wait $starting
check "the start succeeds" test $? -eq 0
remote dumpxml --inactive pers > "$WORK/s1-inactive"
contains "the stored definition is the one defined during the start" "$WORK/s1-inactive" \
    "<memory unit='KiB'>131072</memory>" 1
contains "without the device" "$WORK/s1-inactive" "<hostdev" 0
contains "and without the shim's marker" "$WORK/s1-inactive" "synopassthru" 0
remote dumpxml pers > "$WORK/s1-live"
contains "the running VM has its device" "$WORK/s1-live" "<hostdev" 1

# 2. An undefine while the VM starts: the put-back must not define it again.
remote destroy pers > /dev/null
remote start pers > "$WORK/s2-start" 2>&1 &
starting=$!
sleep 0.5
remote undefine pers > "$WORK/s2-undefine" 2>&1
check "the undefine during the start succeeds" test $? -eq 0
wait $starting
check "the start succeeds" test $? -eq 0
remote destroy pers > /dev/null 2>&1
remote list --all --name > "$WORK/s2-list"
contains "once stopped, the undefined VM is gone" "$WORK/s2-list" "pers" 0

# 3. A stop's release that comes late, while the VM starts again: the VM
# must run with its device on vfio-pci.
test_domain rel > "$WORK/rel.xml"
remote create "$WORK/rel.xml" > /dev/null 2>&1
check "rel runs with its USB controller on vfio-pci" \
    test "$(driver_of "$SYSFS" 0000:08:00.3)" = vfio-pci
remote destroy rel > /dev/null
remote create "$WORK/rel.xml" > "$WORK/s3-create" 2>&1
check "rel starts again" test $? -eq 0
sleep 3 # the late release has run by now, whichever came first
remote list --name > "$WORK/s3-list"
contains "rel runs" "$WORK/s3-list" "rel" 1
check "its device is still on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.3)" = vfio-pci
remote destroy rel > /dev/null
for i in $(seq 1 50); do
    [ "$(driver_of "$SYSFS" 0000:08:00.3)" = xhci_hcd ] && break
    sleep 0.1
done
check "once rel stops for good, xhci_hcd has it back" \
    test "$(driver_of "$SYSFS" 0000:08:00.3)" = xhci_hcd

# 4. The stop of a VM that holds no device runs no helper.
test_domain plain > "$WORK/plain.xml"
remote create "$WORK/plain.xml" > /dev/null
remote destroy plain > /dev/null
sleep 0.5
contains "no helper ran for plain's stop" "$WORK/helper-calls" "--vm plain" 0
contains "but one did for rel's (the check can fail)" "$WORK/helper-calls" "release-stopped --root"

check "libvirtd is alive" daemon_alive
exec 7>&-
