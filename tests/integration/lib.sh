# Shared by the integration tests: checks that count, temporary config dirs
# and fake sysfs trees, and a private libvirtd started and stopped by pid.
# Source it; it sets `set -u` and cleans up on exit.
set -u

SP_SRC=${SP_SRC:-$(pwd)}
SP_BUILD=${SP_BUILD:-$SP_SRC/build}
SHIM=$SP_BUILD/libsynopassthru.so
# The shim with the test hooks (common/testhooks.h), for fault injection;
# start_daemon preloads it instead of $SHIM when SP_SHIM names it.
TEST_SHIM=$SP_BUILD/tests/libsynopassthru-test.so
# SP_PRELOAD_FIRST: preloaded into the test daemon before the shim (libasan.so
# when the shim is a sanitizer build).
# SP_PRELOAD_AFTER: preloaded after it (the shim's RTLD_NEXT finds it first:
# tests/tools/slowstart.c makes the real starts slow for the race tests).
CLI=$SP_BUILD/synopassthru
CHECKS_PASSED=0
CHECKS_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sp-it-XXXXXX")
chmod 755 "$WORK"
# Never this machine's /sys: every test works on a fake tree, and the
# default points at one even before a test builds it. The CLI honours this;
# the shim does not, and reads its fake tree from the config (make_config).
export SYNOPASSTHRU_SYSFS_ROOT=$WORK/sysfs
DAEMON_PID=

pass() { CHECKS_PASSED=$((CHECKS_PASSED + 1)); echo "ok: $*"; }
fail() { CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "FAILED: $*"; }

# check "what" command...: passes when the command exits 0.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# contains "what" FILE PATTERN [COUNT]: grep -F; with COUNT, exactly that many lines.
contains() {
    local what=$1 file=$2 pattern=$3 want=${4:-}
    local n
    n=$(grep -cF -- "$pattern" "$file" || true)
    if [ -z "$want" ] && [ "$n" -gt 0 ]; then pass "$what"
    elif [ -n "$want" ] && [ "$n" -eq "$want" ]; then pass "$what"
    else
        fail "$what (found '$pattern' $n times${want:+, want $want}) in $file:"
        sed 's/^/    | /' "$file" | head -60
    fi
}

# expect_exit CODE "what" command...: the exit code, and exactly one line on
# stderr when it is not 0 (output in $WORK/stdout and $WORK/stderr).
expect_exit() {
    local want=$1 what=$2
    shift 2
    "$@" > "$WORK/stdout" 2> "$WORK/stderr"
    local rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "$what: exit $rc, want $want"; sed 's/^/    | /' "$WORK/stderr"; return
    fi
    if [ "$want" -ne 0 ] && [ "$(wc -l < "$WORK/stderr")" -ne 1 ]; then
        fail "$what: want one line on stderr, got:"; sed 's/^/    | /' "$WORK/stderr"; return
    fi
    pass "$what (exit $rc)"
}

finish() {
    local rc=$?
    stop_daemon
    rm -rf "$WORK"
    echo "checks: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
    if [ "$CHECKS_FAILED" -gt 0 ] || [ "$CHECKS_PASSED" -eq 0 ]; then exit 1; fi
    exit $rc
}
trap finish EXIT

# make_sysfs DIR [HOST [PROC]]: a fake host from tests/data/hosts/HOST.txt
# (default amd-apu), with the kernel model's files; with PROC, its fake /proc
# (mounts, swaps, mdstat, net/route ...) there.
make_sysfs() {
    "$SP_BUILD/tests/mkfakesysfs" "$1" "$SP_SRC/tests/data/hosts/${2:-amd-apu}.txt" ${3:+"$3"}
}

# make_config DIR [SYSFS [PROC]]: an empty config dir; audit log and device state inside
# DIR; the vfio helper is the test build with the kernel model in it, and reads
# a fake /proc (default $WORK/proc), never this machine's.
make_config() {
    local dir=$1
    mkdir -p "$dir/vm.d" "$dir/rom"
    chmod 755 "$dir" "$dir/vm.d" "$dir/rom"
    cat > "$dir/synopassthru.conf" <<CONF
audit_log = $dir/audit.log
sysfs_root = ${2:-$WORK/sysfs}
proc_root = ${3:-$WORK/proc}
state_dir = $dir/state
vfio_helper = $SP_BUILD/tests/synopassthru-vfio-model
helper_timeout_ms = ${HELPER_TIMEOUT_MS:-10000}
CONF
    chmod 644 "$dir/synopassthru.conf"
}

# test_hook_names FILE: the test hooks (common/testhooks.h) whose variable
# names are in FILE's strings, one a line; "unreadable" when it cannot be read.
test_hook_names() {
    local h
    [ -r "$1" ] || { echo unreadable; return; }
    for h in SYNOPASSTHRU_SYSFS_ROOT SYNOPASSTHRU_PROC_ROOT SYNOPASSTHRU_TRUSTED_UID \
        SYNOPASSTHRU_TEST_FAULT_FILE SYNOPASSTHRU_TEST_WATCH_FAULT; do
        strings "$1" | grep -qxF "$h" && echo "$h"
    done
}

# interposed_functions: what the shim must export, one a line, sorted (kept
# here, apart from shim/exports.map, so that a change to the map shows).
interposed_functions() {
    printf "%s\n" virDomainCreate virDomainCreateWithFiles virDomainCreateWithFlags \
        virDomainCreateXML virDomainCreateXMLWithFiles virDomainDefineXML \
        virDomainDefineXMLFlags virDomainSetAutostart virDomainUndefine virDomainUndefineFlags |
        sort
}

# driver_of SYSFS ADDR: the driver a fake device is bound to ("" when none).
driver_of() {
    basename "$(readlink "$1/bus/pci/devices/$2/driver" 2>/dev/null)" 2>/dev/null || true
}

# add_rom DIR NAME [KIND]: a generated option ROM in DIR/rom, mode 0644
# (KIND as mkrom knows it; legacy is a valid x86 image for 1002:1638).
add_rom() {
    "$SP_BUILD/tests/mkrom" "${3:-legacy}" "$1/rom/$2"
    chmod 644 "$1/rom/$2"
}

# matches_golden FILE GOLDEN: FILE, with $WORK written as @WORK@ and $SP_BUILD
# as @BUILD@, is the file GOLDEN (SYNOPASSTHRU_REGENERATE=1 writes it).
matches_golden() {
    local text
    text=$(< "$1")
    text=${text//"$WORK"/@WORK@}
    printf '%s\n' "${text//"$SP_BUILD"/@BUILD@}" > "$WORK/normalized"
    if [ -n "${SYNOPASSTHRU_REGENERATE:-}" ]; then
        cp "$WORK/normalized" "$2" && pass "regenerated ${2#"$SP_SRC"/}"
    elif diff -u "$2" "$WORK/normalized"; then
        pass "output matches ${2#"$SP_SRC"/}"
    else
        fail "output differs from ${2#"$SP_SRC"/}"
    fi
}

# add_snippet DIR NAME TEXT
add_snippet() {
    printf '%s\n' "$3" > "$1/vm.d/$2"
    chmod 644 "$1/vm.d/$2"
}

# test_domain NAME [TITLE]: a domain for libvirt's test driver.
test_domain() {
    local title=${2:+<title>$2</title>}
    cat <<XML
<domain type='test'>
  <name>$1</name>
  $title
  <memory unit='KiB'>65536</memory>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
  </devices>
</domain>
XML
}

# start_daemon CONFIG SYSFS: a private libvirtd with the shim ($SP_SHIM,
# default $SHIM) preloaded; CONFIG's sysfs_root must be the fake tree SYSFS,
# as the shim takes its roots from the config alone.
# Only the test driver (built into libvirt) is available: LIBVIRT_DRIVER_DIR
# points at an empty dir, so no driver touches /var, /run or /sys. It runs in
# a mount namespace of its own with a tmpfs on /var/log: a shim that falls
# back to its default settings (a test of an unreadable config) writes its
# audit record there, never into this machine's /var/log. unshare and sh
# exec, so $! is libvirtd's pid.
start_daemon() {
    local config=$1 sysfs=$2
    if ! grep -qxF "sysfs_root = $sysfs" "$config/synopassthru.conf"; then
        fail "start_daemon: $config/synopassthru.conf does not name the fake tree $sysfs"
        return 1
    fi
    DAEMON_DIR=$WORK/daemon
    mkdir -p "$DAEMON_DIR/sock" "$DAEMON_DIR/drivers"
    cat > "$DAEMON_DIR/libvirtd.conf" <<CONF
unix_sock_dir = "$DAEMON_DIR/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_rw_perms = "0700"
log_outputs = "3:stderr"
CONF
    unshare -m sh -c 'mount -t tmpfs -o mode=755 tmpfs /var/log && exec "$@"' sh \
        env LIBVIRT_DRIVER_DIR="$DAEMON_DIR/drivers" SYNOPASSTHRU_CONFIG_DIR="$config" \
        LD_PRELOAD="${SP_PRELOAD_FIRST:+$SP_PRELOAD_FIRST }${SP_SHIM:-$SHIM}${SP_PRELOAD_AFTER:+ $SP_PRELOAD_AFTER}" \
        libvirtd --config "$DAEMON_DIR/libvirtd.conf" --pid-file "$DAEMON_DIR/libvirtd.pid" \
        > "$DAEMON_DIR/libvirtd.log" 2>&1 &
    DAEMON_PID=$!
    DAEMON_URI="test+unix:///default?socket=$DAEMON_DIR/sock/libvirt-sock"
    local i
    for i in $(seq 1 100); do
        if [ -S "$DAEMON_DIR/sock/libvirt-sock" ] && virsh -q -c "$DAEMON_URI" version >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "libvirtd did not come up; its log:"
    sed 's/^/    | /' "$DAEMON_DIR/libvirtd.log"
    return 1
}

# session SECONDS OUT COMMANDS: one virsh session on the test's daemon (the
# test driver forgets its domains when the last client leaves), its output
# in OUT, cut off after SECONDS (exit 124): a hang fails the test.
session() {
    local seconds=$1 out=$2
    shift 2
    timeout "$seconds" virsh -c "$DAEMON_URI" "$@" > "$out" 2>&1
}

daemon_alive() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

# hold_session COUNT COMMAND...: one virsh client on the test's daemon that
# stays connected (the test driver keeps its domains while one does), fed
# the virsh COMMANDs, until the daemon lists COUNT domains; its pid in
# HOLDER, its input on fd 3. end_session lets it go.
hold_session() {
    local count=$1 i
    shift
    mkfifo "$WORK/virsh.in"
    virsh -c "$DAEMON_URI" < "$WORK/virsh.in" > "$WORK/virsh.log" 2>&1 &
    HOLDER=$!
    exec 3> "$WORK/virsh.in"
    printf '%s\n' "$@" >&3
    for i in $(seq 1 50); do
        [ "$(virsh -q -c "$DAEMON_URI" list --all --name 2>/dev/null | grep -c .)" -ge "$count" ] && break
        sleep 0.1
    done
}

end_session() {
    echo quit >&3
    exec 3>&-
    wait "$HOLDER" 2>/dev/null
}

# stop_daemon: by the pid we started, never by name.
stop_daemon() {
    [ -n "$DAEMON_PID" ] || return 0
    if kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID"
        local i
        for i in $(seq 1 50); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$DAEMON_PID" 2>/dev/null && kill -KILL "$DAEMON_PID"
    fi
    wait "$DAEMON_PID" 2>/dev/null || true
    DAEMON_PID=
}

# unloadable_shim PATH missing-lib|missing-version: a library at PATH that
# the dynamic loader refuses: it needs a library that is not there, or a
# symbol version its library does not have (as a shim built against a newer
# glibc than the box's would).
unloadable_shim() {
    local path=$1 kind=$2 dir
    dir=$(mktemp -d "$WORK/unloadable-XXXXXX")
    echo 'int sp_dep(void) { return 1; }' > "$dir/dep.c"
    echo 'int sp_dep(void); int virDomainCreateXML(void) { return sp_dep(); }' > "$dir/shim.c"
    printf 'SP_DEP_2 { global: sp_dep; local: *; };\n' > "$dir/dep.map"
    cc -shared -fPIC -o "$dir/libspdep.so" "$dir/dep.c" -Wl,--version-script="$dir/dep.map"
    mkdir -p "$(dirname "$path")"
    cc -shared -fPIC -o "$path" "$dir/shim.c" -L"$dir" -lspdep -Wl,-rpath,"$dir"
    if [ "$kind" = missing-lib ]; then
        rm "$dir/libspdep.so"
    else
        printf 'SP_DEP_1 { global: sp_dep; local: *; };\n' > "$dir/dep.map"
        cc -shared -fPIC -o "$dir/libspdep.so" "$dir/dep.c" -Wl,--version-script="$dir/dep.map"
    fi
}

# minimal_root DIR: Debian's libc6, libxml2 and libxml2's own dependencies
# (as installed here), fetched with apt-get download into $SP_BUILD/debs once
# and unpacked with dpkg -x: a root file system with glibc and libxml2 and
# nothing else (no shell). Fails the test when a package cannot be had.
minimal_root() {
    local dir=$1 debs=$SP_BUILD/debs todo="libc6 libxml2" pkgs="" p deb
    while [ -n "$todo" ]; do
        set -- $todo; p=$1; shift; todo="$*"
        case " $pkgs " in *" $p "*) continue ;; esac
        pkgs="$pkgs $p"
        todo="$todo $(dpkg-query -W -f='${Pre-Depends}, ${Depends}\n' "$p" 2>/dev/null | tr ',' '\n' |
            sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' | grep -v '^$' | tr '\n' ' ')"
    done
    echo "minimal root:$pkgs"
    mkdir -p "$debs" "$dir"
    for p in $pkgs; do
        deb=$(ls "$debs/${p}"_*.deb 2>/dev/null | head -1)
        if [ -z "$deb" ]; then
            (cd "$debs" && apt-get download -q "$p") > "$debs/download-$p.log" 2>&1
            deb=$(ls "$debs/${p}"_*.deb 2>/dev/null | head -1)
        fi
        if [ -z "$deb" ]; then
            fail "cannot fetch Debian's $p for the minimal root (see $debs/download-$p.log)"
            return 1
        fi
        dpkg -x "$deb" "$dir"
    done
}
