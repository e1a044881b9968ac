# The DSM package as a NAS meets it. Its structure (INFO, package.tgz,
# scripts, conf/privilege, icons); then DSM's part played on a stand-in root
# file system (glibc, libxml2 and busybox, as on DSM): package.tgz unpacked
# into the package's target dir owned by the package's own user, its
# scripts run as that user with DSM's environment; the one root step
# (`setup`) run from the package; a reboot that took /etc away; an update;
# and the uninstall, after which the exact command the package names puts
# the tree back as it was.
. "$(dirname "$0")/lib.sh"

SPK=$(ls "$SP_BUILD"/dist/SynoPassthru-*-x86_64.spk 2>/dev/null | head -1)
check "make spk wrote the package" test -f "$SPK"
X=$WORK/spk
mkdir -p "$X" && tar -xf "$SPK" -C "$X"
for m in INFO package.tgz scripts/preinst scripts/postinst scripts/preuninst scripts/postuninst \
         scripts/preupgrade scripts/postupgrade scripts/start-stop-status conf/privilege \
         PACKAGE_ICON.PNG PACKAGE_ICON_256.PNG; do
    check "the package holds $m" test -f "$X/$m"
done
check "the outer file is a plain tar (not compressed)" sh -c "tar -tf '$SPK' > /dev/null && ! gzip -t '$SPK' 2> /dev/null"
info() { sed -n "s/^$1=\"\\(.*\\)\"\$/\\1/p" "$X/INFO"; }
for key in package version os_min_ver description arch maintainer displayname; do
    check "INFO has $key" test -n "$(info "$key")"
done
check "INFO: package is SynoPassthru" test "$(info package)" = SynoPassthru
check "INFO: the version is numbers with . and - only ($(info version))" \
    sh -c "echo '$(info version)' | grep -Eq '^[0-9]+(\.[0-9]+)*-[0-9]+\$'"
check "INFO: DSM 7.2 at least ($(info os_min_ver))" test "$(info os_min_ver)" = 7.2-64570
check "INFO: for x86_64" sh -c "echo ' $(info arch) ' | grep -q ' x86_64 '"
check "INFO: depends on the Virtualization package" test "$(info install_dep_packages)" = Virtualization
check "INFO: no service to start or stop" test "$(info ctl_stop)" = no
check "INFO: the checksum is package.tgz's MD5" test "$(info checksum)" = "$(md5sum < "$X/package.tgz" | cut -d' ' -f1)"
check "conf/privilege runs everything as the package's own user" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
sys.exit(0 if p == {"defaults": {"run-as": "package"}} else 1)' "$X/conf/privilege"
png_size() { python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read(24)
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR"
print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
check "PACKAGE_ICON.PNG is a 64x64 PNG" test "$(png_size "$X/PACKAGE_ICON.PNG")" = 64x64
check "PACKAGE_ICON_256.PNG is a 256x256 PNG" test "$(png_size "$X/PACKAGE_ICON_256.PNG")" = 256x256
check "the icons decode (zlib stream and CRCs)" python3 -c '
import sys, zlib, struct
for path in sys.argv[1:]:
    d = open(path, "rb").read(); i = 8; idat = b""
    while i < len(d):
        n, = struct.unpack(">I", d[i:i+4]); t = d[i+4:i+8]; body = d[i+8:i+8+n]
        assert zlib.crc32(t + body) == struct.unpack(">I", d[i+8+n:i+12+n])[0]
        if t == b"IDAT": idat += body
        i += 12 + n
    w, = struct.unpack(">I", d[16:20])
    assert len(zlib.decompress(idat)) == w * (1 + 4 * w)' "$X/PACKAGE_ICON.PNG" "$X/PACKAGE_ICON_256.PNG"
for s in "$X"/scripts/*; do
    check "$(basename "$s") is POSIX sh (dash and busybox parse it)" sh -c "dash -n '$s' && busybox sh -n '$s'"
done
tar -tzf "$X/package.tgz" | sed 's|^\./||' | grep -v '/$' | grep -v '^$' | sort > "$WORK/payload-list"
printf '%s\n' bin/synopassthru bin/synopassthru-virsh lib/synopassthru/libsynopassthru.so \
    libexec/synopassthru/synopassthru-vfio share/synopassthru/pci.ids \
    share/man/man1/synopassthru.1 share/man/man5/synopassthru.conf.5 \
    share/man/man5/synopassthru-snippet.5 share/bash-completion/completions/synopassthru |
    sort > "$WORK/payload-want"
check "package.tgz holds the programs, pci.ids, the manual pages and the completion" diff -u "$WORK/payload-want" "$WORK/payload-list"

# DSM's part. A stand-in root: glibc and libxml2 from Debian, busybox for
# the shell, a systemctl that notes what it is asked, the Virtualization
# package's start script, and the VM manager's daemon unit.
ROOT=$WORK/nas
minimal_root "$ROOT"
mkdir -p "$ROOT/bin" "$ROOT/tmp" "$ROOT/usr/local/bin" "$ROOT/usr/local/lib" "$ROOT/usr/local/etc" \
    "$ROOT/etc/systemd/system" "$ROOT/var/packages/Virtualization/conf/systemd" "$ROOT/volume1/@appstore"
chmod 1777 "$ROOT/tmp"
mkdir -p "$ROOT/dev" && mknod -m 666 "$ROOT/dev/null" c 1 3
check "the stand-in root has a /dev/null" test -c "$ROOT/dev/null"
cp "$(command -v busybox)" "$ROOT/bin/busybox"
chroot "$ROOT" /bin/busybox --install -s /bin
rm -f "$ROOT/bin/systemctl"
printf '#!/bin/sh\necho "$*" >> /tmp/systemctl.log\n' > "$ROOT/bin/systemctl" && chmod 755 "$ROOT/bin/systemctl"
printf '[Unit]\nDescription=libvirt of the VM manager\n[Service]\nExecStart=/bin/true\n' \
    > "$ROOT/etc/systemd/system/pkg-libvirtd.service"
VHOOK=/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
printf '#!/bin/sh\n# load the KVM modules\ninsmod kvm.ko 2>/dev/null\nexit 0\n' > "$ROOT$VHOOK"
chmod 755 "$ROOT$VHOOK"
cp "$ROOT$VHOOK" "$WORK/vhook.orig"
# snapshot: the tree without /tmp (where the stand-in systemctl writes).
snapshot() {
    (cd "$ROOT" && find . -path ./tmp -prune -o -printf '%p %y %m %u:%g\n' | LC_ALL=C sort &&
        find . -path ./tmp -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
snapshot > "$WORK/before"

PKGUSER=1234
TARGET=/volume1/@appstore/SynoPassthru
PKGDIR=/var/packages/SynoPassthru
# as_package STATUS SCRIPT [ARGS]: a package script run as DSM runs it.
as_package() {
    local status=$1 script=$2
    shift 2
    : > "$ROOT/tmp/messages"
    chmod 666 "$ROOT/tmp/messages"
    env -i PATH=/bin SYNOPKG_PKGNAME=SynoPassthru SYNOPKG_PKGVER="$(info version)" \
        SYNOPKG_PKGDEST="$TARGET" SYNOPKG_PKGDEST_VOL=/volume1 SYNOPKG_PKG_STATUS="$status" \
        SYNOPKG_TEMP_LOGFILE=/tmp/messages SYNOPKG_DSM_VERSION_MAJOR=7 SYNOPKG_DSM_VERSION_MINOR=2 \
        "$(command -v chroot)" --userspec=$PKGUSER:$PKGUSER "$ROOT" /bin/sh "$PKGDIR/scripts/$script" "$@"
}
dsm_install() {
    mkdir -p "$ROOT$TARGET" "$ROOT$PKGDIR"
    ln -sfn "$TARGET" "$ROOT$PKGDIR/target"
    tar -xzf "$X/package.tgz" -C "$ROOT$TARGET"
    cp -a "$X/INFO" "$X/scripts" "$X/conf" "$ROOT$PKGDIR/"
    chown -hR $PKGUSER:$PKGUSER "$ROOT$TARGET"
}
dsm_uninstall() { rm -rf "$ROOT$TARGET" "$ROOT$PKGDIR"; }

dsm_install
as_package INSTALL preinst
check "preinst passes" test $? -eq 0
as_package INSTALL postinst
check "postinst passes" test $? -eq 0
cp "$ROOT/tmp/messages" "$WORK/postinst-message"
contains "its message gives the one root step" "$WORK/postinst-message" "sudo /var/packages/SynoPassthru/target/bin/synopassthru setup"
contains "and the way without SSH" "$WORK/postinst-message" "Task Scheduler"
contains "and says to delete that task after" "$WORK/postinst-message" "then delete"
as_package "" start-stop-status status
check "start-stop-status status: 0" test $? -eq 0
as_package "" start-stop-status log
check "start-stop-status of something else: 1" test $? -eq 1
as_package UNINSTALL postuninst
check "before setup, an uninstall has nothing to ask of root" test ! -s "$ROOT/tmp/messages"
check "the package's files belong to the package's user" test "$(stat -c %u "$ROOT$TARGET/lib/synopassthru/libsynopassthru.so")" = $PKGUSER

# The root step, exactly as the message gives it (inside the stand-in root).
chroot "$ROOT" /var/packages/SynoPassthru/target/bin/synopassthru setup > "$WORK/setup.out" 2>&1
check "setup from the package succeeds" test $? -eq 0 || sed 's/^/    | /' "$WORK/setup.out"
contains "proving the shim loads with this root's libraries" "$WORK/setup.out" "proved: /usr/local/lib/synopassthru/libsynopassthru.so loads"
contains "systemd was reloaded" "$ROOT/tmp/systemctl.log" "daemon-reload"
for f in bin/synopassthru lib/synopassthru/libsynopassthru.so libexec/synopassthru/synopassthru-vfio; do
    check "/usr/local/$f is root's, 0755" test "$(stat -c '%u %a' "$ROOT/usr/local/$f")" = "0 755"
    check "and the package's own $f byte for byte" cmp -s "$ROOT$TARGET/$f" "$ROOT/usr/local/$f"
done
as_user() { chroot --userspec=$PKGUSER:$PKGUSER "$ROOT" /bin/sh -c "$1" > /dev/null 2>&1; }
if as_user 'echo x >> /usr/local/lib/synopassthru/libsynopassthru.so'; then
    fail "the package's user could write the shim root loads"
else
    pass "the package's user cannot write the shim root loads"
fi
if as_user 'mv /usr/local/lib/synopassthru /tmp/moved'; then
    fail "the package's user could move the shim's directory"
else
    pass "nor move its directory"
fi
if as_user 'echo x > /usr/local/bin/synopassthru-new && mv /usr/local/bin/synopassthru-new /usr/local/bin/synopassthru'; then
    fail "the package's user could replace the CLI the start hook runs as root"
else
    pass "nor replace the CLI the start hook runs as root"
fi
contains "the start hook has the block" "$ROOT$VHOOK" "# synopassthru: begin"
DROPIN=/etc/systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf
check "the drop-in is there" test -f "$ROOT$DROPIN"

# A reboot takes /etc/systemd away; the VM manager's start runs its hook
# (as root, before the daemon), which proves the shim and puts it back.
rm -rf "$ROOT/etc/systemd/system/pkg-libvirtd.service.d"
: > "$ROOT/tmp/systemctl.log"
chroot "$ROOT" /bin/sh "$VHOOK" > "$WORK/hook.out" 2>&1
check "the start hook runs (exit $?)" test $? -eq 0
check "and has put the drop-in back" test -f "$ROOT$DROPIN"
contains "and reloaded systemd before the daemon starts" "$ROOT/tmp/systemctl.log" "daemon-reload"
: > "$ROOT/tmp/systemctl.log"
chroot "$ROOT" /bin/sh "$VHOOK" > "$WORK/hook2.out" 2>&1
check "at the next start it has nothing to do" test ! -s "$ROOT/tmp/systemctl.log"
check "and says nothing" test ! -s "$WORK/hook2.out"

# An update: DSM replaces the package's files and runs the new scripts.
as_package UPGRADE postuninst
check "an update says nothing about removing the root part" test ! -s "$ROOT/tmp/messages"
dsm_uninstall && dsm_install
as_package UPGRADE postinst
contains "the updated package asks for setup again" "$ROOT/tmp/messages" "was updated"
contains "with the same command" "$ROOT/tmp/messages" "sudo /var/packages/SynoPassthru/target/bin/synopassthru setup"
chroot "$ROOT" /var/packages/SynoPassthru/target/bin/synopassthru setup > "$WORK/setup2.out" 2>&1
contains "setup again changes nothing when nothing changed" "$WORK/setup2.out" "unchanged: /usr/local/lib/synopassthru/libsynopassthru.so"

# Uninstalling the package: its scripts cannot do root's part, so they say
# exactly what to run; running that puts the tree back.
as_package UNINSTALL preuninst
check "preuninst passes" test $? -eq 0
as_package UNINSTALL postuninst
check "postuninst passes" test $? -eq 0
cp "$ROOT/tmp/messages" "$WORK/postuninst-message"
contains "its message names the exact command" "$WORK/postuninst-message" "sudo /usr/local/bin/synopassthru setup --remove"
dsm_uninstall
cmd=$(sed -n 's/^ *sudo \(\/usr\/local\/bin\/synopassthru setup --remove\)$/\1/p' "$WORK/postuninst-message")
check "(the command is on a line of its own)" test -n "$cmd"
chroot "$ROOT" $cmd --purge > "$WORK/remove.out" 2>&1
check "that command, with --purge, succeeds" test $? -eq 0 || sed 's/^/    | /' "$WORK/remove.out"
check "the start hook is as it was, byte for byte" cmp -s "$WORK/vhook.orig" "$ROOT$VHOOK"
snapshot > "$WORK/after"
check "the whole tree is as before the package came" diff -u "$WORK/before" "$WORK/after"
