# Shared by the integration tests: checks that count, temporary config dirs
# and fake sysfs trees, and a private libvirtd started and stopped by pid.
# Source it; it sets `set -u` and cleans up on exit.
set -u

SP_SRC=${SP_SRC:-$(pwd)}
SP_BUILD=${SP_BUILD:-$SP_SRC/build}
SHIM=$SP_BUILD/libsynopassthru.so
CLI=$SP_BUILD/synopassthru
CHECKS_PASSED=0
CHECKS_FAILED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sp-it-XXXXXX")
chmod 755 "$WORK"
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

finish() {
    local rc=$?
    stop_daemon
    rm -rf "$WORK"
    echo "checks: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
    if [ "$CHECKS_FAILED" -gt 0 ] || [ "$CHECKS_PASSED" -eq 0 ]; then exit 1; fi
    exit $rc
}
trap finish EXIT

# make_sysfs DIR: the fake host of tests/data/sysfs.txt.
make_sysfs() {
    "$SP_BUILD/tests/mkfakesysfs" "$1" "$SP_SRC/tests/data/sysfs.txt"
}

# make_config DIR: an empty config dir with an audit log inside $WORK.
make_config() {
    local dir=$1
    mkdir -p "$dir/vm.d" "$dir/rom"
    chmod 755 "$dir" "$dir/vm.d" "$dir/rom"
    printf 'audit_log = %s/audit.log\n' "$dir" > "$dir/synopassthru.conf"
    chmod 644 "$dir/synopassthru.conf"
}

# add_rom DIR NAME: a small ROM file in DIR/rom, mode 0644.
add_rom() {
    printf '\x55\xaaROM' > "$1/rom/$2"
    chmod 644 "$1/rom/$2"
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

# start_daemon CONFIG SYSFS: a private libvirtd with the shim preloaded.
# Only the test driver (built into libvirt) is available: LIBVIRT_DRIVER_DIR
# points at an empty dir, so no driver touches /var, /run or /sys.
start_daemon() {
    local config=$1 sysfs=$2
    DAEMON_DIR=$WORK/daemon
    mkdir -p "$DAEMON_DIR/sock" "$DAEMON_DIR/drivers"
    cat > "$DAEMON_DIR/libvirtd.conf" <<CONF
unix_sock_dir = "$DAEMON_DIR/sock"
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_rw_perms = "0700"
log_outputs = "3:stderr"
CONF
    env LIBVIRT_DRIVER_DIR="$DAEMON_DIR/drivers" SYNOPASSTHRU_CONFIG_DIR="$config" \
        SYNOPASSTHRU_SYSFS_ROOT="$sysfs" SYNOPASSTHRU_TRUSTED_UID="$(id -u)" \
        LD_PRELOAD="$SHIM" \
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

daemon_alive() { [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; }

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
