# The injector: a systemd drop-in (checked by systemd-analyze verify),
# added idempotently and removed exactly; synopassthru-virsh preloading the
# shim into a real virsh.
. "$(dirname "$0")/lib.sh"

ROOT=$WORK/root
UNITDIR=$ROOT/etc/systemd/system
mkdir -p "$UNITDIR/pkg-libvirtd.service.d"
echo "[Service]" > "$UNITDIR/pkg-libvirtd.service.d/10-other.conf"
printf '[Unit]\nDescription=test unit\n[Service]\nExecStart=/bin/true\n' > "$UNITDIR/pkg-libvirtd.service"
inject() { "$CLI" --config /usr/local/etc/synopassthru inject systemd --unit pkg-libvirtd --root "$ROOT" "$@"; }

inject > "$WORK/add1" 2>&1
check "inject writes the drop-in" test $? -eq 0
DROPIN=$UNITDIR/pkg-libvirtd.service.d/50-synopassthru.conf
contains "it preloads the installed shim" "$DROPIN" "Environment=LD_PRELOAD=/usr/local/lib/synopassthru/libsynopassthru.so"
contains "and names the config dir" "$DROPIN" "Environment=SYNOPASSTHRU_CONFIG_DIR=/usr/local/etc/synopassthru"
cp "$DROPIN" "$WORK/first"
inject > "$WORK/add2" 2>&1
contains "a second inject changes nothing" "$WORK/add2" "is already in place"
check "the file is the same" cmp -s "$WORK/first" "$DROPIN"
if command -v systemd-analyze > /dev/null; then
    (cd "$UNITDIR" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no "$UNITDIR/pkg-libvirtd.service") \
        > "$WORK/verify" 2>&1
    check "systemd-analyze verify accepts the unit with the drop-in" test $? -eq 0
    contains "and has nothing to say about our file" "$WORK/verify" "50-synopassthru" 0
else
    fail "systemd-analyze is not installed"
fi
inject --remove > "$WORK/rm" 2>&1
check "remove succeeds" test $? -eq 0
check "our drop-in is gone" test ! -e "$DROPIN"
check "the other drop-in stays" test -e "$UNITDIR/pkg-libvirtd.service.d/10-other.conf"
inject --root "$WORK/empty-root" > /dev/null 2>&1 && inject --root "$WORK/empty-root" --remove > /dev/null 2>&1
check "a drop-in dir we made is removed with our file" test ! -e "$WORK/empty-root/etc/systemd/system/pkg-libvirtd.service.d"
"$CLI" inject systemd --unit ../x > /dev/null 2>&1
check "a unit name with a slash is refused" test $? -eq 2
inject --reload > "$WORK/reload-root" 2>&1
check "--reload with --root is refused (it tells the running systemd)" test $? -eq 2
contains "saying why" "$WORK/reload-root" "no --root"
check "and wrote nothing" test ! -e "$DROPIN"

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

# DSM: a marked block in the Virtualization package's start hook.
HOOK=$ROOT/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
mkdir -p "$(dirname "$HOOK")"
printf '#!/bin/sh\n# loads the KVM modules\ninsmod /lib/modules/kvm.ko\n' > "$HOOK"
chmod 750 "$HOOK"
cp "$HOOK" "$WORK/hook.orig"
"$CLI" inject dsm --root "$ROOT" > "$WORK/dsm1" 2>&1
check "inject dsm succeeds" test $? -eq 0
contains "the block re-creates the drop-in for pkg-libvirtd" "$HOOK" "inject systemd --unit pkg-libvirtd"
contains "between our markers" "$HOOK" "# synopassthru: begin" 1
contains "and reloads systemd when it wrote the drop-in" "$HOOK" "--unit pkg-libvirtd --reload >" 1
check "the hook keeps its mode" test "$(stat -c %a "$HOOK")" = 750
"$CLI" inject dsm --root "$ROOT" > "$WORK/dsm2" 2>&1
contains "a second inject changes nothing" "$WORK/dsm2" "nothing to change"
contains "the block is there once" "$HOOK" "# synopassthru: begin" 1
"$CLI" inject dsm --root "$ROOT" --remove > "$WORK/dsm3" 2>&1
check "remove restores the hook byte for byte" cmp -s "$WORK/hook.orig" "$HOOK"
"$CLI" inject dsm --root "$WORK/no-dsm" > "$WORK/dsm4" 2>&1
check "without the Virtualization package it says so" test $? -eq 3
contains "naming the file" "$WORK/dsm4" "insert_libvirtd_ko.sh"
