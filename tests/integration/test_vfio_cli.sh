# groups, check, bind and release from the command line, on the fake hosts
# (the vfio helper is the test build with the kernel model).
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS" amd-apu
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
g = json.load(open(sys.argv[1]))
assert len(g) == 12, len(g)
d = [x for grp in g for x in grp["devices"] if x["address"] == "0000:08:00.0"][0]
assert d["verdict"] == "alone" and d["driver"] == "amdgpu" and d["ids"] == "1002:1638", d
' "$WORK/groups.json"

add_snippet "$CONFIG" ok.xml '<passthrough vm="win11"><pci address="08:00.0" vendor="1002" product="1638"/></passthrough>'
add_snippet "$CONFIG" bad.xml '<passthrough vm="router"><pci address="03:00.0"/><pci address="05:00.0" vendor="1002" product="1638"/></passthrough>'
cli check win11 > "$WORK/check-ok" 2>&1
check "check passes for a good VM" test $? -eq 0
contains "and says so" "$WORK/check-ok" "every device passes every check"
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
cli release 08:00.0 > "$WORK/release" 2>&1
check "release succeeds" test $? -eq 0
contains "and reports the driver" "$WORK/release" "released 0000:08:00.0 driver=amdgpu"
cli bind zz:00.0 > "$WORK/bind-bad" 2>&1
check "a bad address is a usage error" test $? -eq 2

OFF=$WORK/off
make_sysfs "$OFF" iommu-off
SYNOPASSTHRU_SYSFS_ROOT=$OFF cli groups > "$WORK/off-groups" 2>&1
check "groups on a host with the IOMMU off fails" test $? -eq 1
contains "and says why" "$WORK/off-groups" "the IOMMU is off"
SYNOPASSTHRU_SYSFS_ROOT=$OFF cli bind 08:00.0 > "$WORK/off-bind" 2>&1
check "bind with the IOMMU off is refused" test $? -eq 1
contains "with its own error" "$WORK/off-bind" "the IOMMU is off"
check "and nothing changed" test "$(driver_of "$OFF" 0000:08:00.0)" = amdgpu
