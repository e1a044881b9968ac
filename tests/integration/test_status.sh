# `synopassthru status`: against a fake proc tree, and against the libvirtd
# this test starts with the shim preloaded.
. "$(dirname "$0")/lib.sh"

PROC=$WORK/proc
fake_process() { # PID COMM MAPS-LIBS... (environ from $ENVIRON)
    local pid=$1 comm=$2
    shift 2
    mkdir -p "$PROC/$pid"
    echo "$comm" > "$PROC/$pid/comm"
    : > "$PROC/$pid/maps"
    for lib in "$@"; do
        echo "7f0000000000-7f0000001000 r-xp 00000000 fd:01 1234   $lib" >> "$PROC/$pid/maps"
    done
    printf '%s\0' ${ENVIRON:-PATH=/usr/bin} > "$PROC/$pid/environ"
}
LIBVIRT=/usr/lib/x86_64-linux-gnu/libvirt.so.0.9000.0
ENVIRON="PATH=/bin SYNOPASSTHRU_CONFIG_DIR=/volume1/sp" fake_process 100 libvirtd "$LIBVIRT" "$SHIM"
fake_process 200 libvirtd "$LIBVIRT"
fake_process 300 virsh "$LIBVIRT" /usr/lib/x86_64-linux-gnu/libxml2.so.2
fake_process 400 bash /usr/lib/x86_64-linux-gnu/libc.so.6

SYNOPASSTHRU_PROC_ROOT=$PROC "$CLI" status > "$WORK/out" 2> "$WORK/err"
check "a libvirt daemon without the shim makes status fail" test $? -eq 1
contains "the daemon with the shim, its version and config dir" "$WORK/out" \
    "100      libvirtd         shim $SHIM (version 0.1.0, config /volume1/sp)"
contains "the daemon without it" "$WORK/out" "200      libvirtd         NO SHIM: VMs started here get no passthrough devices"
contains "a client without it" "$WORK/out" "300      virsh            NO SHIM"
contains "no line for a process without libvirt" "$WORK/out" "bash" 0
contains "stderr says how many daemons lack it" "$WORK/err" "1 libvirt daemon(s) run without the shim"
SYNOPASSTHRU_PROC_ROOT=$PROC "$CLI" status --json > "$WORK/json" 2> /dev/null
check "--json lists the three processes" python3 -c '
import json, sys
top = json.load(open(sys.argv[1]))
assert list(top) == ["schema", "processes"] and top["schema"] == 1, list(top)
procs = {p["pid"]: p for p in top["processes"]}
assert sorted(procs) == [100, 200, 300], procs
assert procs[100]["shim"] and procs[100]["version"] == "0.1.0" and procs[100]["config_dir"] == "/volume1/sp"
assert procs[200]["daemon"] and not procs[200]["shim"]
assert not procs[300]["daemon"]
' "$WORK/json"
rm -rf "${PROC:?}/200"
SYNOPASSTHRU_PROC_ROOT=$PROC "$CLI" status > /dev/null 2>&1
check "with every daemon covered, status succeeds" test $? -eq 0

CONFIG=$WORK/config
make_config "$CONFIG"
make_sysfs "$WORK/sysfs"
start_daemon "$CONFIG" "$WORK/sysfs" || exit 1
"$CLI" status > "$WORK/real" 2>&1
contains "the real daemon shows the shim and its config dir" "$WORK/real" \
    "$(printf '%-8d %-16s shim %s (version 0.1.0, config %s)' "$DAEMON_PID" libvirtd "$SHIM" "$CONFIG")"
