# synopassthru vms, and a VM named by its name, UUID or title: against a
# real libvirtd the test starts (its test driver holds the domains while one
# client stays connected). Snippets name one VM by name, one by UUID, one by
# title and one no VM at all; a URI that is down lists the config alone; a
# root without libvirt.so.0 says so and lists the config too.
. "$(dirname "$0")/lib.sh"

CONFIG=$WORK/config SYSFS=$WORK/sysfs
make_config "$CONFIG"
make_sysfs "$SYSFS"
export SYNOPASSTHRU_PROC_ROOT=$WORK/proc
# The daemon's own config names no VM: defining the domains changes nothing.
make_config "$WORK/daemon-config"
UUID_N=11111111-2222-4333-8444-555555555555
UUID_U=0b6a1e43-3c39-4d0c-9b47-2f0c8d1e5a77
UUID_T=591328d9-88d5-42aa-9551-bb793c3330cf
UUID_P=22222222-3333-4444-8555-666666666666
add_snippet "$CONFIG" by-name.xml '<passthrough vm="named-vm"><pci address="08:00.3" vendor="1022" product="1639"/><pci address="0a:00.0"/></passthrough>'
add_snippet "$CONFIG" by-uuid.xml "<passthrough vm=\"$(echo "$UUID_U" | tr a-f A-F)\"><pci address=\"05:00.0\"/></passthrough>"
add_snippet "$CONFIG" by-title.xml '<passthrough vm="Living room"><pci address="08:00.0" vendor="1002" product="1638"/></passthrough>'
add_snippet "$CONFIG" ghost.xml '<passthrough vm="ghost"><pci address="08:00.1"/></passthrough>'

# domain NAME UUID [TITLE]: a test-driver domain with a fixed UUID.
domain() { test_domain "$1" "${3:-}" | sed "s|</name>|</name><uuid>$2</uuid>|"; }
domain named-vm "$UUID_N" Office > "$WORK/d-named.xml"
domain uuid-vm "$UUID_U" > "$WORK/d-uuid.xml"
domain "$UUID_T" "$UUID_T" "Living room" > "$WORK/d-title.xml"
domain plain "$UUID_P" > "$WORK/d-plain.xml"

start_daemon "$WORK/daemon-config" "$SYSFS" || exit 1
hold_session 5 "define $WORK/d-named.xml" "define $WORK/d-uuid.xml" "define $WORK/d-title.xml" \
    "define $WORK/d-plain.xml" "start named-vm"
check "the daemon holds the four domains and its own" \
    test "$(virsh -q -c "$DAEMON_URI" list --all --name | grep -c .)" -eq 5

# Golden files (tests/data/cli-vms) have @WORK@ for the work dir and @UUID@
# for the test driver's own domain's UUID (set by libvirt, not by us).
# SYNOPASSTHRU_REGENERATE=1 rewrites them instead (review the diff).
TEST_UUID=$(virsh -q -c "$DAEMON_URI" domuuid test)
golden() {
    sed -e "s|$WORK|@WORK@|g" -e "s|$TEST_UUID|@UUID@|g" -e "s|$DAEMON_URI|@URI@|g" "$1" > "$WORK/normalised"
    if [ -n "${SYNOPASSTHRU_REGENERATE:-}" ]; then
        cp "$WORK/normalised" "$SP_SRC/tests/data/cli-vms/$2" && pass "regenerated $2"
    else
        check "$3 (tests/data/cli-vms/$2)" diff -u "$SP_SRC/tests/data/cli-vms/$2" "$WORK/normalised"
    fi
}

expect_exit 0 "vms --connect URI" "$CLI" --config "$CONFIG" vms --connect "$DAEMON_URI"
golden "$WORK/stdout" vms.txt "every VM: title, name, UUID, state, snippets, devices; the ghost"
check "nothing on stderr" test ! -s "$WORK/stderr"
contains "the VM named by its title is found" "$WORK/stdout" "Living room (name $UUID_T)  $UUID_T  shut off" 1
contains "its snippet is listed under it" "$WORK/stdout" "  snippet $CONFIG/vm.d/by-title.xml" 1
contains "the VM named by its UUID (in capitals) is found" "$WORK/stdout" "uuid-vm  $UUID_U  shut off" 1
contains "  with its snippet" "$WORK/stdout" "  snippet $CONFIG/vm.d/by-uuid.xml" 1
contains "the VM named by name runs" "$WORK/stdout" "Office (name named-vm)  $UUID_N  running" 1
contains "a snippet naming no VM is said" "$WORK/stdout" "no such VM: 'ghost' ($CONFIG/vm.d/ghost.xml)" 1

LIBVIRT_DEFAULT_URI=$DAEMON_URI "$CLI" --config "$CONFIG" vms --json > "$WORK/vms.json" 2> "$WORK/err"
check "vms --json, the URI from LIBVIRT_DEFAULT_URI" test $? -eq 0
golden "$WORK/vms.json" vms.json "the same as JSON"
check "schema 1 first" test "$(jq -c 'keys_unsorted[0], .schema' "$WORK/vms.json" | tr '\n' ' ')" = '"schema" 1 '
check "libvirt reachable, its URI" test "$(jq -r '.libvirt | "\(.reachable) \(.uri)"' "$WORK/vms.json")" = "true $DAEMON_URI"
check "five VMs" test "$(jq '.vms | length' "$WORK/vms.json")" -eq 5
check "the title's VM has its snippet and device" \
    test "$(jq -r ".vms[] | select(.uuid == \"$UUID_T\") | \"\(.title) \(.snippets | length) \(.devices[0].address)\"" "$WORK/vms.json")" = "Living room 1 0000:08:00.0"
check "unknown: the ghost" test "$(jq -c '.unknown | map(.vm)' "$WORK/vms.json")" = '["ghost"]'

"$CLI" --config "$CONFIG" vms --names --connect "$DAEMON_URI" > "$WORK/names" 2> "$WORK/err"
check "vms --names: names and titles, one a line" \
    test "$(sort "$WORK/names" | tr '\n' ' ')" = "$(printf '%s\n' "$UUID_T" "Living room" named-vm Office plain test uuid-vm | sort | tr '\n' ' ')"
check "vms --names says nothing on stderr" test ! -s "$WORK/err"

# check VM by name, UUID or title, through libvirt.
expect_exit 0 "check by UUID (the snippet names the title)" "$CLI" --config "$CONFIG" check "$UUID_T" --connect "$DAEMON_URI"
contains "the title's device is checked" "$WORK/stdout" "0000:08:00.0 [1002:1638]" 1
expect_exit 0 "check by title (the snippet names the title)" "$CLI" --config "$CONFIG" check "Living room" --connect "$DAEMON_URI"
expect_exit 0 "check by name of a VM whose snippet names its UUID" "$CLI" --config "$CONFIG" check uuid-vm --connect "$DAEMON_URI" --json
check "its snippet was found (05:00.0 is checked)" test "$(jq -r '.devices[0].address' "$WORK/stdout")" = 0000:05:00.0
"$CLI" --config "$CONFIG" check Office --connect "$DAEMON_URI" --json > "$WORK/stdout" 2> /dev/null
check "check by title of a VM whose snippet names its name: refused (exit 1)" test $? -eq 1
check "its snippet was found (08:00.3 passes, 0a:00.0 is missing)" \
    test "$(jq -c '[.devices[0].address, (.problems | map(test("0000:0a:00.0 not found")) | all)]' "$WORK/stdout")" = '["0000:08:00.3",true]'
expect_exit 1 "without libvirt, check by UUID finds no snippet (as before)" "$CLI" --config "$CONFIG" check "$UUID_T" --connect "test+unix:///default?socket=$WORK/none"
contains "and says which VM" "$WORK/stderr" "no snippet in $CONFIG/vm.d names VM '$UUID_T'" 1
contains "and that libvirt, which could tell its title, was not reached" "$WORK/stderr" \
    "(libvirt, which could tell its other names, was not reached: cannot connect to test+unix" 1

# A URI that is down: the config alone, said on stderr, exit 0.
DOWN="test+unix:///default?socket=$WORK/no-such-sock"
expect_exit 0 "vms --connect DOWN" "$CLI" --config "$CONFIG" vms --connect "$DOWN"
golden "$WORK/stdout" vms-down.txt "the config's VMs alone"
contains "a warning says libvirt is not reachable" "$WORK/stderr" "synopassthru: vms: warning: cannot connect to $DOWN:" 1
check "one line on stderr: libvirt's own error printer is quiet" test "$(wc -l < "$WORK/stderr")" -eq 1
"$CLI" --config "$CONFIG" vms --json --connect "$DOWN" > "$WORK/down.json" 2> /dev/null
check "--json: reachable false, the error, no unknown" \
    test "$(jq -c '[.libvirt.reachable, (.libvirt.error | test("cannot connect")), (.unknown | length), (.vms | length)]' "$WORK/down.json")" = '[false,true,0,4]'
"$CLI" --config "$CONFIG" vms --names --connect "$DOWN" > "$WORK/names" 2> "$WORK/err"
check "--names: the snippets' vm=" test "$(tr '\n' ' ' < "$WORK/names")" = "$UUID_U Living room ghost named-vm "

end_session

# A root with glibc and libxml2 alone: no libvirt.so.0 to load.
ROOT=$WORK/minimal-root
minimal_root "$ROOT" || exit 1
check "the minimal root has no libvirt" sh -c "! find '$ROOT' -name 'libvirt.so*' | grep -q ."
mkdir -p "$ROOT/bin" && cp "$CLI" "$ROOT/bin/synopassthru"
cp -r "$CONFIG" "$ROOT/config"
sed -i "s|$WORK|/|" "$ROOT/config/synopassthru.conf"
make_sysfs "$ROOT/sysfs"
SYNOPASSTHRU_SYSFS_ROOT=/sysfs SYNOPASSTHRU_PROC_ROOT=/proc chroot "$ROOT" /bin/synopassthru --config /config vms \
    > "$WORK/stdout" 2> "$WORK/stderr"
check "vms without libvirt.so.0 exits 0" test $? -eq 0
contains "it says the library is not installed" "$WORK/stderr" \
    "synopassthru: vms: warning: libvirt's client library (libvirt.so.0) is not installed: dlopen: libvirt.so.0: cannot open shared object file" 1
contains "and lists the config's VMs" "$WORK/stdout" "Living room  (from the config)" 1

expect_exit 2 "vms --connect without a URI" "$CLI" --config "$CONFIG" vms --connect
contains "says it needs one" "$WORK/stderr" "vms: --connect needs a URI" 1
expect_exit 2 "check VM --connect without a URI" "$CLI" --config "$CONFIG" check named-vm --connect
contains "says it needs one" "$WORK/stderr" "check: --connect needs a URI" 1
