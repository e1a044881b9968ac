# The README's walk ("A walk: an AMD APU's iGPU, its HDMI audio and its
# vBIOS in a Windows VM"), replayed on the fake AMD APU host: each step's
# command runs as the README gives it (with --config, --root and the fake
# roots of this test) and its output is compared with the README's block for
# that step, the fenced block after the step's marker `<!-- walk:NAME -->`.
#
# The fake NAS is one directory, $NAS, laid out as the box is: the package
# under var/packages, the config dir setup makes, sys/ and proc/, the audit
# log in var/log. Its path is the one thing taken out of the output, so the
# README shows the box's own paths. Also normalised, in the output and the
# README alike: the version after "the shim", and the time a log line starts
# with. In a README block a line `...` stands for any number of lines, and
# `...` inside a line for any text.
. "$(dirname "$0")/lib.sh"

README=$SP_SRC/README.md
NAS=$WORK/nas
CONF=$NAS/usr/local/etc/synopassthru
PKG=$NAS/var/packages/SynoPassthru/target
HOOK=$NAS/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
UUID=591328d9-88d5-42aa-9551-bb793c3330cf
UBUNTU_UUID=0e7c43a2-5d1b-4f3e-8a2c-6b9d0f1e2a34
DAEMON_PID_ON_NAS=14302
export SYNOPASSTHRU_SYSFS_ROOT=$NAS/sys SYNOPASSTHRU_PROC_ROOT=$NAS/proc TZ=UTC

# walk_block NAME: the README's fenced block after `<!-- walk:NAME -->`,
# without the indent of its list item.
walk_block() {
    awk -v marker="<!-- walk:$1 -->" '
        index($0, marker) { armed = 1; next }
        armed && !inside && /^ *```/ { inside = 1; match($0, /^ */); indent = RLENGTH; next }
        inside && /^ *```/ { exit }
        inside { print substr($0, indent + 1) }' "$README"
}

# normalise: what varies from run to run, in a transcript or a README block.
normalise() {
    sed -E -e "s|$NAS||g" -e 's/the shim [0-9]+\.[0-9]+\.[0-9]+([-+~][^ ]*)? /the shim VERSION /' \
        -e 's/^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}  /TIME  /'
}

# like EXPECTED ACTUAL: the actual lines are those of the README's block,
# `...` lines and `...` within a line standing for what the README left out.
like() {
    awk '
        function matches(a, e,    n, parts, i, at) {
            n = split(e, parts, /\.\.\./)
            if (n == 1) return a == e
            if (substr(a, 1, length(parts[1])) != parts[1]) return 0
            at = length(parts[1]) + 1
            for (i = 2; i < n; i++) {
                p = index(substr(a, at), parts[i])
                if (!p) return 0
                at += p - 1 + length(parts[i])
            }
            return length(a) - at + 1 >= length(parts[n]) &&
                   substr(a, length(a) - length(parts[n]) + 1) == parts[n]
        }
        NR == FNR { want[++nw] = $0; next }
        { got[++ng] = $0 }
        END {
            j = 1
            for (i = 1; i <= nw; i++) {
                if (want[i] == "...") {
                    if (i == nw) { j = ng + 1; break }
                    while (j <= ng && !matches(got[j], want[i + 1])) j++
                    if (j > ng) { print "no line like: " want[i + 1]; exit 1 }
                    continue
                }
                if (j > ng || !matches(got[j], want[i])) {
                    print "README line " i ": " want[i]; print "output line " j ": " got[j]; exit 1
                }
                j++
            }
            if (j <= ng) { print "output goes on: " got[j]; exit 1 }
        }' "$1" "$2"
}

# step NAME SHOWN command...: runs the command (stdout and stderr together,
# as a terminal shows them) and compares "$ SHOWN" and its output with the
# README's block NAME, which may hold several steps (each call adds one).
step() {
    local name=$1 shown=$2
    shift 2
    { printf '$ %s\n' "$shown"; "$@" 2>&1; } >> "$WORK/walk-$name.out"
    echo $? > "$WORK/walk-$name.rc"
}
compare() {
    local name=$1
    walk_block "$name" | normalise > "$WORK/want-$name"
    normalise < "$WORK/walk-$name.out" > "$WORK/got-$name"
    if [ ! -s "$WORK/want-$name" ]; then
        fail "README.md has no block after <!-- walk:$name -->; the output, normalised:"
        sed 's/^/    > /' "$WORK/got-$name"
    elif like "$WORK/want-$name" "$WORK/got-$name" > "$WORK/like-$name"; then
        pass "the README's $name block is what the commands print"
    else
        fail "the README's $name block is not what the commands print:"
        sed 's/^/    | /' "$WORK/like-$name"
        echo "    the output, normalised:"
        sed 's/^/    > /' "$WORK/got-$name"
    fi
}

# The config dir by the variable (--config would show in add's hints), and
# libvirt by its default URI: the test's daemon once it runs.
cli() {
    SYNOPASSTHRU_CONFIG_DIR=$CONF LIBVIRT_DEFAULT_URI=${DAEMON_URI:-test+unix:///default?socket=$WORK/none} \
        "$CLI" "$@"
}

# ---- the box: DSM with the Virtualization package, the APU host's devices ----
mkdir -p "$NAS/etc/systemd/system" "$NAS/usr/local/bin" "$NAS/usr/local/lib" \
    "$NAS/usr/local/libexec" "$NAS/usr/local/share/man" "$NAS/usr/local/etc" "$NAS/var/log" "$NAS/run" \
    "$(dirname "$HOOK")" "$PKG"
printf '#!/bin/sh\ninsmod kvm.ko 2>/dev/null\nexit 0\n' > "$HOOK"
chmod 755 "$HOOK"
make_sysfs "$NAS/sys" amd-apu "$NAS/proc"
mkdir -p "$NAS/sys/firmware/acpi/tables"
"$SP_BUILD/tests/mkrom" vfct-one "$NAS/sys/firmware/acpi/tables/VFCT"
SPK=$(ls "$SP_BUILD"/dist/SynoPassthru-*-x86_64.spk 2>/dev/null | head -1)
check "make spk wrote the package" test -f "$SPK"
mkdir -p "$WORK/spk"
tar -xf "$SPK" -C "$WORK/spk" && tar -xzf "$WORK/spk/package.tgz" -C "$PKG"

# 1. Install: the root step, as Package Center's message gives it.
step setup "sudo /var/packages/SynoPassthru/target/bin/synopassthru setup" \
    "$PKG/bin/synopassthru" setup --root "$NAS"
check "setup: exit 0" test "$(cat "$WORK/walk-setup.rc")" -eq 0
compare setup

# The settings a test needs on top of the fresh install: the fake roots (the
# shim takes them from here), the vfio helper with the kernel model, the
# audit log and the holds inside the box.
cat > "$CONF/synopassthru.conf" <<CONF
sysfs_root = $NAS/sys
proc_root = $NAS/proc
audit_log = $NAS/var/log/synopassthru-audit.log
state_dir = $NAS/run/synopassthru
vfio_helper = $SP_BUILD/tests/synopassthru-vfio-model
CONF
chmod 644 "$CONF/synopassthru.conf"

# The daemon, restarted with the shim: a real libvirtd with the shim this
# test built, and in the box's /proc the process doctor looks at.
start_daemon "$CONF" "$NAS/sys" || exit 1
mkdir -p "$NAS/proc/$DAEMON_PID_ON_NAS"
echo libvirtd > "$NAS/proc/$DAEMON_PID_ON_NAS/comm"
printf '7f00-7f01 r-xp 0 fd:01 1 %s\n' /usr/lib/libvirt.so.0 \
    "$NAS/usr/local/lib/synopassthru/libsynopassthru.so" > "$NAS/proc/$DAEMON_PID_ON_NAS/maps"
printf '%s\0' PATH=/bin "SYNOPASSTHRU_CONFIG_DIR=$CONF" > "$NAS/proc/$DAEMON_PID_ON_NAS/environ"

# 2. The doctor.
step doctor "synopassthru doctor" cli doctor --root "$NAS"
check "doctor: exit 0" test "$(cat "$WORK/walk-doctor.rc")" -eq 0
compare doctor

# The VM manager's two VMs: "Windows 11" as VMM makes it, and a running
# Ubuntu. One client holds the connection (the test driver keeps its
# domains while one stays); the driver's own "test" domain goes.
sed 's|<title>.*</title>|<title>Windows 11</title>|' \
    "$SP_SRC/tests/data/vmm-igpu-i440fx/domain.xml" > "$WORK/win11-vmm.xml"
test_domain "$UBUNTU_UUID" Ubuntu | sed "s|</name>|</name><uuid>$UBUNTU_UUID</uuid>|" > "$WORK/ubuntu.xml"
mkfifo "$WORK/virsh.in"
virsh -c "$DAEMON_URI" < "$WORK/virsh.in" > "$WORK/virsh.log" 2>&1 &
HOLDER=$!
exec 3> "$WORK/virsh.in"
echo "destroy test" >&3
echo "undefine test" >&3
echo "define $WORK/win11-vmm.xml" >&3
echo "define $WORK/ubuntu.xml" >&3
echo "start $UBUNTU_UUID" >&3
for _ in $(seq 1 50); do
    [ "$(virsh -q -c "$DAEMON_URI" list --name 2>/dev/null | grep -c .)" -eq 1 ] &&
        [ "$(virsh -q -c "$DAEMON_URI" list --all --name 2>/dev/null | grep -c .)" -eq 2 ] && break
    sleep 0.1
done
check "the daemon holds the two VMs, Ubuntu running" \
    test "$(virsh -q -c "$DAEMON_URI" list --all --name | sort | tr '\n' ' ')" = "$UBUNTU_UUID $UUID "

# 3. The VMs.
step vms "synopassthru vms" cli vms
check "vms: exit 0" test "$(cat "$WORK/walk-vms.rc")" -eq 0
compare vms

# 4. The groups.
step groups "synopassthru groups" cli groups
check "groups: exit 0" test "$(cat "$WORK/walk-groups.rc")" -eq 0
compare groups

# 5. The vBIOS (rom info reads a bare name from rom/).
step rom "synopassthru rom extract --vfct" cli rom extract --vfct
check "rom extract: exit 0" test "$(cat "$WORK/walk-rom.rc")" -eq 0
step rom "synopassthru rom info vbios_1002_1638.bin --for 08:00.0" \
    cli rom info vbios_1002_1638.bin --for 08:00.0
check "rom info: exit 0" test "$(cat "$WORK/walk-rom.rc")" -eq 0
compare rom

# 6. The devices: the iGPU with its vBIOS (the hint names its audio), then
# the audio; then the two attributes added by hand.
step add "synopassthru add \"Windows 11\" 08:00.0 --rom vbios_1002_1638.bin" \
    cli add "Windows 11" 08:00.0 --rom vbios_1002_1638.bin
check "add the iGPU: exit 0" test "$(cat "$WORK/walk-add.rc")" -eq 0
step add "synopassthru add \"Windows 11\" 08:00.1" cli add "Windows 11" 08:00.1
check "add its audio: exit 0" test "$(cat "$WORK/walk-add.rc")" -eq 0
step add "cat /usr/local/etc/synopassthru/vm.d/Windows-11.xml" cat "$CONF/vm.d/Windows-11.xml"
compare add
sed -i 's|<passthrough vm="Windows 11">|<passthrough vm="Windows 11" video="none" hypervisor="hidden">|' \
    "$CONF/vm.d/Windows-11.xml"
step snippet "cat /usr/local/etc/synopassthru/vm.d/Windows-11.xml" cat "$CONF/vm.d/Windows-11.xml"
compare snippet

# 7. The checks, with the VM's domain. The VM manager's libvirt keeps the
# qemu:commandline of its disks, the test driver does not: the dump is the
# VM manager's domain as published (tests/data/vmm-igpu-i440fx), titled.
cd "$WORK" || exit 1
step check "virsh dumpxml $UUID > win11.xml" cp "$WORK/win11-vmm.xml" win11.xml
step check "synopassthru check \"Windows 11\" --domain win11.xml" \
    cli check "Windows 11" --domain win11.xml
check "check: exit 0" test "$(cat "$WORK/walk-check.rc")" -eq 0
compare check
step preview "synopassthru preview win11.xml" cli preview win11.xml
check "preview: exit 0" test "$(cat "$WORK/walk-preview.rc")" -eq 0
compare preview

# 8. The start, as the VM manager asks the daemon for it.
echo "start $UUID" >&3
for _ in $(seq 1 50); do
    grep -q '"event":"start"' "$NAS/var/log/synopassthru-audit.log" 2>/dev/null && break
    sleep 0.1
done
check "the VM started" test "$(virsh -q -c "$DAEMON_URI" domstate "$UUID")" = running

# 9. The log.
step log "synopassthru log \"Windows 11\"" cli log "Windows 11"
check "log: exit 0" test "$(cat "$WORK/walk-log.rc")" -eq 0
compare log

# To undo (the VM shut down): one device shown, then the VM's snippet taken out.
echo "destroy $UUID" >&3
for _ in $(seq 1 50); do
    [ "$(virsh -q -c "$DAEMON_URI" domstate "$UUID")" = "shut off" ] && break
    sleep 0.1
done
step remove "synopassthru remove \"Windows 11\" 08:00.1 --dry-run" cli remove "Windows 11" 08:00.1 --dry-run
check "remove a device --dry-run: exit 0" test "$(cat "$WORK/walk-remove.rc")" -eq 0
step remove "synopassthru remove \"Windows 11\"" cli remove "Windows 11"
check "remove the VM's snippet: exit 0" test "$(cat "$WORK/walk-remove.rc")" -eq 0
compare remove
check "vm.d/ is empty again" test -z "$(ls -A "$CONF/vm.d")"

echo "quit" >&3
exec 3>&-
wait "$HOLDER" 2>/dev/null
