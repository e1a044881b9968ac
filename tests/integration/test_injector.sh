# The injector: the systemd drop-in (checked by systemd-analyze verify)
# written only for a shim proven to load, added idempotently and removed
# exactly; the DSM start-hook block; synopassthru-virsh preloading the shim
# into a real virsh.
. "$(dirname "$0")/lib.sh"

ROOT=$WORK/root
UNITDIR=$ROOT/etc/systemd/system
mkdir -p "$UNITDIR/pkg-libvirtd.service.d"
echo "[Service]" > "$UNITDIR/pkg-libvirtd.service.d/10-other.conf"
printf '[Unit]\nDescription=test unit\n[Service]\nExecStart=/bin/true\n' > "$UNITDIR/pkg-libvirtd.service"
ROOT_SHIM=$ROOT/usr/local/lib/synopassthru/libsynopassthru.so
mkdir -p "$(dirname "$ROOT_SHIM")"
cp "$SHIM" "$ROOT_SHIM"
inject() { "$CLI" --config /usr/local/etc/synopassthru inject systemd --unit pkg-libvirtd --root "$ROOT" "$@"; }

inject > "$WORK/add1" 2>&1
check "inject writes the drop-in" test $? -eq 0
DROPIN=$UNITDIR/pkg-libvirtd.service.d/50-synopassthru.conf
contains "it preloads the installed shim" "$DROPIN" 'Environment="LD_PRELOAD=/usr/local/lib/synopassthru/libsynopassthru.so"'
contains "and names the config dir" "$DROPIN" 'Environment="SYNOPASSTHRU_CONFIG_DIR=/usr/local/etc/synopassthru"'
cp "$DROPIN" "$WORK/first"
inject > "$WORK/add2" 2>&1
contains "a second inject changes nothing" "$WORK/add2" "is already in place"
check "the file is the same" cmp -s "$WORK/first" "$DROPIN"
verify_unit() {
    (cd "$UNITDIR" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$UNITDIR/pkg-libvirtd.service") \
        > "$WORK/verify" 2>&1
}
if command -v systemd-analyze > /dev/null; then
    verify_unit
    check "systemd-analyze verify accepts the unit with the drop-in" test $? -eq 0
    contains "and has nothing to say about our file" "$WORK/verify" "50-synopassthru" 0
else
    fail "systemd-analyze is not installed"
fi
# A config dir with quotes, spaces and a % in its name survives systemd's parsing.
"$CLI" --config '/srv/my "conf" 100%' inject systemd --unit pkg-libvirtd --root "$ROOT" > /dev/null 2>&1
verify_unit
check "systemd-analyze accepts a quoted config dir" test $? -eq 0
systemd-analyze --version > /dev/null 2>&1 && \
    (cd "$UNITDIR" && SYSTEMD_LOG_LEVEL=err systemd-analyze cat-config --root="$ROOT" "systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf") > /dev/null 2>&1
inject > /dev/null 2>&1
inject --remove > "$WORK/rm" 2>&1
check "remove succeeds" test $? -eq 0
check "our drop-in is gone" test ! -e "$DROPIN"
check "the other drop-in stays" test -e "$UNITDIR/pkg-libvirtd.service.d/10-other.conf"
mkdir -p "$WORK/empty-root/usr/local/lib/synopassthru"
cp "$SHIM" "$WORK/empty-root/usr/local/lib/synopassthru/"
inject --root "$WORK/empty-root" > /dev/null 2>&1 && inject --root "$WORK/empty-root" --remove > /dev/null 2>&1
check "a drop-in dir we made is removed with our file" test ! -e "$WORK/empty-root/etc/systemd/system/pkg-libvirtd.service.d"
"$CLI" inject systemd --unit ../x > /dev/null 2>&1
check "a unit name with a slash is refused" test $? -eq 2
inject --reload > "$WORK/reload-root" 2>&1
check "--reload with --root is refused (it tells the running systemd)" test $? -eq 2
contains "saying why" "$WORK/reload-root" "no --root"
check "and wrote nothing" test ! -e "$DROPIN"

# The load proof. First, what it guards against: a daemon with a shim that
# the loader refuses does not start at all.
for kind in missing-lib missing-version; do
    unloadable_shim "$WORK/$kind/libsynopassthru.so" "$kind"
    LD_PRELOAD="$WORK/$kind/libsynopassthru.so" libvirtd --version > "$WORK/daemon-$kind" 2>&1
    rc=$?
    check "a libvirtd with an unloadable shim ($kind) dies at start (exit $rc)" test "$rc" -ne 0
    contains "the loader killed it before it did anything" "$WORK/daemon-$kind" "libspdep.so"
    contains "(it never printed its version)" "$WORK/daemon-$kind" "libvirtd (libvirt)" 0
done
inject > /dev/null 2>&1
check "(a drop-in is in place)" test -e "$DROPIN"
cp "$WORK/missing-lib/libsynopassthru.so" "$ROOT_SHIM"
expect_exit 1 "inject refuses a shim whose library is missing" inject
contains "with the loader's own message" "$WORK/stderr" "libspdep.so: cannot open shared object file"
contains "naming the shim" "$WORK/stderr" "$ROOT_SHIM does not load"
check "and takes the drop-in out, so the daemon starts without it" test ! -e "$DROPIN"
contains "saying so" "$WORK/stdout" "took out $DROPIN"
cp "$WORK/missing-version/libsynopassthru.so" "$ROOT_SHIM"
expect_exit 1 "inject refuses a shim that needs a symbol version the box lacks" inject
contains "with the loader's message" "$WORK/stderr" "version \`SP_DEP_2' not found"
check "and writes no drop-in" test ! -e "$DROPIN"
rm "$ROOT_SHIM"
expect_exit 1 "inject refuses a shim that is not there" inject
contains "saying so" "$WORK/stderr" "cannot open shared object file"
echo 'int x;' > "$WORK/plain.c" && cc -shared -fPIC -o "$ROOT_SHIM" "$WORK/plain.c"
expect_exit 1 "inject refuses a library that loads but is not the shim" inject
contains "saying the shim was not in the test process" "$WORK/stderr" "not loaded into the test process"
mkdir -p "$WORK/sp ace/usr/local/lib/synopassthru" && cp "$SHIM" "$WORK/sp ace/usr/local/lib/synopassthru/"
expect_exit 1 "a shim path LD_PRELOAD cannot carry is refused" inject --root "$WORK/sp ace"
contains "saying why" "$WORK/stderr" "space or a colon"
cp "$SHIM" "$ROOT_SHIM"

# synopassthru-virsh: a real virsh with the shim in it.
CONFIG=$WORK/config
make_config "$CONFIG"
make_sysfs "$WORK/sysfs"
add_snippet "$CONFIG" a.xml '<passthrough vm="wrapped"><pci address="06:00.0"/></passthrough>'
test_domain wrapped > "$WORK/wrapped.xml"
SYNOPASSTHRU_SHIM=$SHIM SYNOPASSTHRU_CONFIG_DIR=$CONFIG SYNOPASSTHRU_TRUSTED_UID=$(id -u) \
    "$SP_BUILD/synopassthru-virsh" -c test:///default "create $WORK/wrapped.xml; dumpxml wrapped" \
    > "$WORK/wrapped.out" 2>&1
check "synopassthru-virsh runs virsh" test $? -eq 0
contains "with the shim: the device is injected" "$WORK/wrapped.out" "bus='0x06' slot='0x00' function='0x0'/>" 1

# It fails closed: with a shim that is missing or does not load, a plain
# virsh would start VMs without their devices, so it does not run virsh.
printf '#!/bin/sh\necho ran > "%s/virsh-ran"\n' "$WORK" > "$WORK/fake-virsh" && chmod 755 "$WORK/fake-virsh"
for shim in "$WORK/no-such-shim.so" "$WORK/missing-lib/libsynopassthru.so" "$WORK/plain-lib.so"; do
    [ "$shim" = "$WORK/plain-lib.so" ] && cc -shared -fPIC -o "$shim" "$WORK/plain.c"
    rm -f "$WORK/virsh-ran"
    expect_exit 1 "synopassthru-virsh refuses $(basename "$shim")" \
        env SYNOPASSTHRU_SHIM="$shim" SYNOPASSTHRU_VIRSH="$WORK/fake-virsh" "$SP_BUILD/synopassthru-virsh" list
    contains "saying why" "$WORK/stderr" "does not load, so virsh would start VMs without their devices"
    check "and does not run virsh" test ! -e "$WORK/virsh-ran"
done
contains "(with the loader's reason)" "$WORK/stderr" "no virDomainCreateXML"
env SYNOPASSTHRU_SHIM="$SHIM" SYNOPASSTHRU_VIRSH="$WORK/fake-virsh" "$SP_BUILD/synopassthru-virsh" list > /dev/null 2>&1
check "with the real shim it runs virsh" test -e "$WORK/virsh-ran"

# DSM: a marked block in the Virtualization package's start hook, right
# after its first line, so that the script's own `exit` cannot skip it.
HOOK=$ROOT/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
mkdir -p "$(dirname "$HOOK")"
printf '#!/bin/sh\n# loads the KVM modules\ninsmod /lib/modules/kvm.ko\nexit 0\n' > "$HOOK"
chmod 750 "$HOOK"
cp "$HOOK" "$WORK/hook.orig"
"$CLI" inject dsm --root "$ROOT" > "$WORK/dsm1" 2>&1
check "inject dsm succeeds" test $? -eq 0
contains "the block re-creates the drop-in for pkg-libvirtd" "$HOOK" "inject systemd --unit 'pkg-libvirtd' --reload"
contains "with the CLI's path quoted" "$HOOK" "if [ -x '/usr/local/bin/synopassthru' ]; then '/usr/local/bin/synopassthru' --config '/usr/local/etc/synopassthru'"
contains "between our markers" "$HOOK" "# synopassthru: begin" 1
check "right after the #! line" test "$(sed -n 2p "$HOOK" | cut -c1-21)" = "# synopassthru: begin"
check "the hook keeps its mode" test "$(stat -c %a "$HOOK")" = 750
check "the hook is still valid shell" sh -n "$HOOK"
"$CLI" inject dsm --root "$ROOT" > "$WORK/dsm2" 2>&1
contains "a second inject changes nothing" "$WORK/dsm2" "nothing to change"
contains "the block is there once" "$HOOK" "# synopassthru: begin" 1
"$CLI" inject dsm --root "$ROOT" --remove > "$WORK/dsm3" 2>&1
check "remove restores the hook byte for byte" cmp -s "$WORK/hook.orig" "$HOOK"
"$CLI" inject dsm --root "$WORK/no-dsm" > "$WORK/dsm4" 2>&1
check "without the Virtualization package it says so" test $? -eq 3
contains "naming the file" "$WORK/dsm4" "insert_libvirtd_ko.sh"
