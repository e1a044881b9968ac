# groups, check, bind, release and holds from the command line, on the fake
# hosts (the vfio helper is the test build with the kernel model), with a
# fake proc tree where a VM's QEMU process is looked for; how each device
# resets, in groups, check and the record of a start libvirt fails.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS" amd-apu
grep -q '^proc_root' "$CONFIG/synopassthru.conf" || echo "proc_root = $WORK/proc" >> "$CONFIG/synopassthru.conf"
PROC=$(sed -n 's/^proc_root = //p' "$CONFIG/synopassthru.conf")
mkdir -p "$PROC"
# fake_qemu PID VM: a QEMU process as libvirt starts one, under the fake proc root.
fake_qemu() {
    mkdir -p "$PROC/$1"
    printf 'qemu-system-x86_64\0-name\0guest=%s,debug-threads=on\0-S\0' "$2" > "$PROC/$1/cmdline"
}
export SYNOPASSTHRU_SYSFS_ROOT=$SYSFS SYNOPASSTHRU_TRUSTED_UID=$(id -u)
cli() { "$CLI" --config "$CONFIG" "$@"; }

cli groups > "$WORK/groups" 2>&1
check "groups succeeds" test $? -eq 0
contains "lists group 4 (the iGPU)" "$WORK/groups" "IOMMU group 4"
contains "names devices from pci.ids" "$WORK/groups" "0000:08:00.0 [1002:1638] VGA compatible controller: Advanced Micro Devices"
contains "the iGPU can go alone" "$WORK/groups" "verdict: alone (alone in its group (apart from bridges))"
contains "the chipset NIC only with its group" "$WORK/groups" "verdict: with-group (shares group 2 with 0000:02:00.0"
contains "bridges stay with the host" "$WORK/groups" "verdict: no (a bridge: it stays with the host)"
cli groups --json > "$WORK/groups.json"
check "groups --json is JSON with 12 groups" python3 -c '
import json, sys
top = json.load(open(sys.argv[1]))
assert list(top) == ["schema", "groups"] and top["schema"] == 1, list(top)
g = top["groups"]
assert len(g) == 12, len(g)
d = [x for grp in g for x in grp["devices"] if x["address"] == "0000:08:00.0"][0]
assert d["verdict"] == "alone" and d["driver"] == "amdgpu" and d["ids"] == "1002:1638", d
' "$WORK/groups.json"

# Resets, as DSM's kernel (before 5.15) shows them: the iGPU has no method,
# the 10 GbE NIC advertises FLR, the rest have a method the kernel does not name.
contains "groups: the NIC can be reset, with FLR" "$WORK/groups" \
    "reset: yes (this kernel does not name its methods); FLR advertised"
contains "the iGPU cannot" "$WORK/groups" "reset: none (no reset_method or reset file); no FLR"
contains "and says what that means, once" "$WORK/groups" \
    "    warning: the kernel cannot reset it (no reset_method or reset file); the VM may start only once per host boot; shut it down from inside the guest rather than forcing it off" 1
check "groups --json carries each device's reset" python3 -c '
import json, sys
d = {x["address"]: x for grp in json.load(open(sys.argv[1]))["groups"] for x in grp["devices"]}
gpu, nic, usb = d["0000:08:00.0"]["reset"], d["0000:05:00.0"]["reset"], d["0000:08:00.3"]["reset"]
assert gpu["methods"] is None and gpu["available"] is False and gpu["flr"] is False, gpu
assert gpu["warning"].startswith("the kernel cannot reset it (no reset_method or reset file); the VM may start only once"), gpu
assert nic == {"methods": None, "available": True, "flr": True, "warning": None}, nic
assert usb == {"methods": None, "available": True, "flr": None, "warning": None}, usb
' "$WORK/groups.json"

add_snippet "$CONFIG" ok.xml '<passthrough vm="win11"><pci address="08:00.0" vendor="1002" product="1638"/></passthrough>'
add_snippet "$CONFIG" bad.xml '<passthrough vm="router"><pci address="03:00.0"/><pci address="05:00.0" vendor="1002" product="1638"/></passthrough>'
cli check win11 > "$WORK/check-ok" 2>&1
check "check passes for a good VM" test $? -eq 0
contains "and says so" "$WORK/check-ok" "every device passes every check, with 1 warning(s) above"
contains "with how the iGPU resets" "$WORK/check-ok" "    reset: none (no reset_method or reset file); no FLR"
contains "and the start's warning" "$WORK/check-ok" \
    "warning: device 0000:08:00.0: the kernel cannot reset it (no reset_method or reset file); the VM may start only once per host boot; shut it down from inside the guest rather than forcing it off"
cli check win11 --json > "$WORK/check-ok.json" 2>&1
check "check --json: the warning, and the device's reset" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert list(r)[:2] == ["schema", "vm"] and r["schema"] == 1, list(r)
assert r["ok"] is True and r["problems"] == [], r
assert len(r["warnings"]) == 1 and r["warnings"][0].startswith("device 0000:08:00.0: the kernel cannot reset it"), r
reset = r["devices"][0]["reset"]
assert reset["available"] is False and reset["flr"] is False and reset["warning"] == r["warnings"][0], reset
' "$WORK/check-ok.json"
cli check router > "$WORK/check-bad" 2>&1
check "check fails for a bad VM" test $? -eq 1
contains "naming the wrong IDs" "$WORK/check-bad" "device 0000:05:00.0 is 8086:10fb"
contains "and the group" "$WORK/check-bad" "IOMMU group 2 is not viable"
cli check router --json > "$WORK/check.json" 2>&1
check "check --json lists both problems" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False and r["vm"] == "router", r
assert any("8086:10fb" in p for p in r["problems"]) and any("group 2" in p for p in r["problems"]), r
' "$WORK/check.json"
cli check nobody > "$WORK/check-none" 2>&1
check "check of an unknown VM fails" test $? -eq 1
check "nothing was bound by check" test "$(driver_of "$SYSFS" 0000:08:00.0)" = amdgpu

cli bind 08:00.0 > "$WORK/bind" 2>&1
check "bind succeeds" test $? -eq 0
contains "and reports the old driver" "$WORK/bind" "bound 0000:08:00.0 was=amdgpu"
check "the iGPU is on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.0)" = vfio-pci
# A fresh hold counts as a start getting its QEMU running.
expect_exit 1 "release right after a bind is refused" cli release 08:00.0
contains "naming the holder and why" "$WORK/stderr" \
    "device 0000:08:00.0 is held by VM '(manual)', which still counts as running (it was bound "
contains "and the way out" "$WORK/stderr" "stop the VM first, or release --force"
check "the iGPU stays on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.0)" = vfio-pci
cli release --force 08:00.0 > "$WORK/release" 2>&1
check "release --force succeeds" test $? -eq 0
contains "and reports the driver" "$WORK/release" "released 0000:08:00.0 driver=amdgpu"
cli bind zz:00.0 > "$WORK/bind-bad" 2>&1
check "a bad address is a usage error" test $? -eq 2

# holds: every hold, as text and as JSON.
expect_exit 0 "holds with nothing held" cli holds
contains "says there is nothing" "$WORK/stdout" "no holds in $CONFIG/state"
cli bind --vm win11 08:00.0 > /dev/null 2>&1
cli bind --vm frigate 06:00.0 > /dev/null 2>&1
fake_qemu 4242 win11
expect_exit 0 "holds lists two" cli holds
contains "the iGPU: win11's, running, on vfio-pci, amdgpu before" "$WORK/stdout" \
    " was=amdgpu release=no running=yes vfio-pci=yes"
contains "held by win11 since a UTC time" "$WORK/stdout" "0000:08:00.0 vm=win11 since=$(date -u +%Y-)"
contains "the TPU: frigate's, not running, no driver before" "$WORK/stdout" \
    "0000:06:00.0 vm=frigate since="
contains "with its flags" "$WORK/stdout" " was=none release=no running=no vfio-pci=yes"
cli holds --json > "$WORK/holds.json"
check "holds --json lists both holds" python3 -c '
import datetime, json, sys
top = json.load(open(sys.argv[1]))
assert list(top) == ["schema", "holds"] and top["schema"] == 1, list(top)
h = top["holds"]
assert [x["address"] for x in h] == ["0000:06:00.0", "0000:08:00.0"], h
tpu, gpu = h
assert gpu["vm"] == "win11" and gpu["original_driver"] == "amdgpu", gpu
assert gpu["release"] is False and gpu["running"] is True and gpu["on_vfio_pci"] is True, gpu
datetime.datetime.strptime(gpu["since"], "%Y-%m-%dT%H:%M:%SZ")
assert tpu["vm"] == "frigate" and tpu["original_driver"] is None and tpu["running"] is False, tpu
' "$WORK/holds.json"
expect_exit 2 "holds rejects an unknown option" cli holds --all
expect_exit 0 "holds --help" cli holds --help
contains "prints its usage" "$WORK/stdout" "Usage: synopassthru [--config DIR] holds [--json]"

# check VM: a device that another live VM holds is a problem.
add_snippet "$CONFIG" nvr.xml '<passthrough vm="nvr"><pci address="06:00.0"/></passthrough>'
cli check nvr > "$WORK/check-held" 2>&1
check "check fails for a device another VM holds" test $? -eq 1
contains "naming that VM" "$WORK/check-held" "device 0000:06:00.0 is held by VM 'frigate' (it was bound "

# release: refused while the holder runs, by force, and when nobody holds it.
expect_exit 1 "release of a device whose VM runs is refused" cli release 08:00.0
contains "naming the VM and why" "$WORK/stderr" \
    "device 0000:08:00.0 is held by VM 'win11', which still counts as running (its QEMU runs)"
check "the iGPU stays on vfio-pci" test "$(driver_of "$SYSFS" 0000:08:00.0)" = vfio-pci
check "and win11 still holds it" grep -qx 'vm=win11' "$CONFIG/state/0000:08:00.0.hold"
expect_exit 0 "release --force gives it back" cli release --force 08:00.0
contains "to amdgpu" "$WORK/stdout" "released 0000:08:00.0 driver=amdgpu"
check "and the hold is gone" test ! -e "$CONFIG/state/0000:08:00.0.hold"
expect_exit 0 "release of a device nobody holds succeeds" cli release 08:00.0
contains "and says so" "$WORK/stdout" "unheld 0000:08:00.0 driver=amdgpu (nobody holds it and it is not on vfio-pci"
sed -i 's/^since=.*/since=1000/' "$CONFIG/state/0000:06:00.0.hold"
expect_exit 0 "holds shows an old hold's time" cli holds
contains "in UTC" "$WORK/stdout" "0000:06:00.0 vm=frigate since=1970-01-01T00:16:40Z"
expect_exit 0 "release of an old hold whose VM does not run needs no force" cli release 06:00.0
contains "and gives it back" "$WORK/stdout" "released 0000:06:00.0 driver=none"
expect_exit 2 "release rejects an unknown option" cli release --now 06:00.0
expect_exit 0 "release --help" cli release --help
contains "prints its usage" "$WORK/stdout" "release [--vm NAME] [--force] ADDR..."

OFF=$WORK/off
make_sysfs "$OFF" iommu-off
SYNOPASSTHRU_SYSFS_ROOT=$OFF cli groups > "$WORK/off-groups" 2>&1
check "groups on a host with the IOMMU off fails" test $? -eq 1
contains "and says why" "$WORK/off-groups" "the IOMMU is off"
SYNOPASSTHRU_SYSFS_ROOT=$OFF cli bind 08:00.0 > "$WORK/off-bind" 2>&1
check "bind with the IOMMU off is refused" test $? -eq 1
contains "with its own error" "$WORK/off-bind" "the IOMMU is off"
check "and nothing changed" test "$(driver_of "$OFF" 0000:08:00.0)" = amdgpu

# A kernel from 5.15 on names the methods (reset_method). A device that can
# only be reset with its whole bus cannot count on it while the bus holds
# devices its VM does not get: neither the kernel nor QEMU resets that bus.
NEW=$WORK/new-kernel
cat > "$WORK/new-kernel.txt" <<'HOST'
0000:00:08.1 1022 1635 0x060400 pcieport 3
0000:08:00.0 1002 1638 0x030000 amdgpu 4
0000:08:00.1 1002 1637 0x040300 snd_hda_intel 5
0000:08:00.2 1022 15df 0x108000 ccp 6
0000:05:00.0 8086 10fb 0x020000 ixgbe 10
!reset 0000:00:08.1 pm
!reset 0000:08:00.0 bus
!reset 0000:08:00.1 pm bus
!reset 0000:08:00.2 -
!reset 0000:05:00.0 flr bus
!pcie 0000:05:00.0 flr
HOST
"$SP_BUILD/tests/mkfakesysfs" "$NEW" "$WORK/new-kernel.txt"
NEWCONF=$WORK/new-config
make_config "$NEWCONF" "$NEW"
new_cli() { SYNOPASSTHRU_SYSFS_ROOT=$NEW "$CLI" --config "$NEWCONF" "$@"; }
new_cli groups > "$WORK/new-groups" 2>&1
check "groups on a kernel that names the methods" test $? -eq 0
contains "lists the NIC's" "$WORK/new-groups" "    reset: flr bus; FLR advertised"
contains "and a bus-only one's, with why a VM cannot count on it" "$WORK/new-groups" \
    "    warning: the kernel can reset it only with its whole bus (reset_method: bus), and that bus also holds 0000:08:00.1, 0000:08:00.2: neither the kernel nor QEMU resets a bus under devices the VM does not have; the VM may start only once per host boot"
contains "and one whose methods are all turned off" "$WORK/new-groups" "    reset: none (reset_method is empty)"
new_cli groups --json > "$WORK/new-groups.json"
check "groups --json lists the methods in the kernel's order" python3 -c '
import json, sys
d = {x["address"]: x["reset"] for grp in json.load(open(sys.argv[1]))["groups"] for x in grp["devices"]}
assert d["0000:05:00.0"] == {"methods": ["flr", "bus"], "available": True, "flr": True, "warning": None}, d
assert d["0000:08:00.2"]["methods"] == [] and d["0000:08:00.2"]["available"] is False, d
assert d["0000:08:00.0"]["methods"] == ["bus"] and "whole bus" in d["0000:08:00.0"]["warning"], d
assert d["0000:08:00.1"]["warning"] is None, d
' "$WORK/new-groups.json"
add_snippet "$NEWCONF" alone.xml '<passthrough vm="alone"><pci address="08:00.0"/></passthrough>'
add_snippet "$NEWCONF" whole.xml '<passthrough vm="whole"><pci address="08:00.0"/><pci address="08:00.1"/><pci address="08:00.2"/></passthrough>'
new_cli check alone > "$WORK/new-alone" 2>&1
check "check of a VM with a bus-only device passes" test $? -eq 0
contains "with a warning naming what stays on its bus" "$WORK/new-alone" \
    "warning: device 0000:08:00.0: the kernel can reset it only with its whole bus (reset_method: bus), and that bus also holds 0000:08:00.1, 0000:08:00.2:"
new_cli check whole > "$WORK/new-whole" 2>&1
check "check of a VM that gets the whole bus passes" test $? -eq 0
contains "with no bus warning" "$WORK/new-whole" "whole bus" 0
contains "but the device whose methods are off still has one" "$WORK/new-whole" \
    "warning: device 0000:08:00.2: the kernel cannot reset it (reset_method is empty); the VM may start only once per host boot" 1


# Through a real libvirtd with the shim: the start of a VM with the iGPU
# warns in its record, and when libvirt fails the start, the record's note
# names the device the kernel cannot reset.
DCONF=$WORK/daemon-config
make_config "$DCONF" "$SYSFS" "$PROC"
add_snippet "$DCONF" gpu.xml '<passthrough vm="badgpu"><pci address="08:00.0"/></passthrough>'
start_daemon "$DCONF" "$SYSFS" || exit 1
printf "<domain type='test'><name>badgpu</name><memory>lots</memory><os><type>hvm</type></os></domain>" > "$WORK/badgpu.xml"
virsh -c "$DAEMON_URI" "create $WORK/badgpu.xml" > "$WORK/badgpu.out" 2>&1
check "libvirt fails the start" test $? -ne 0
check "its record warns and notes the iGPU" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if "\"event\":\"start\"" in l][-1]
assert r["warnings"][0].startswith("device 0000:08:00.0: the kernel cannot reset it"), r
assert r["libvirt"]["ok"] is False and r["libvirt"]["error"], r
assert r["libvirt"]["note"].startswith("the kernel cannot reset 0000:08:00.0: a device that ran in a VM since the host booted"), r
' "$DCONF/audit.log"
check "and the iGPU is back on its driver" test "$(driver_of "$SYSFS" 0000:08:00.0)" = amdgpu
stop_daemon
