# The release's binaries load on DSM 7.2 and later: nothing newer than
# glibc 2.36, nothing but glibc and libxml2 (and the helper: glibc alone),
# only the interposed functions exported, no rpath; and they run on a root
# file system made only of Debian's libc6, libxml2 and libxml2's own
# dependencies (unpacked with dpkg -x), installed there by install.sh.
. "$(dirname "$0")/lib.sh"

DIST=$SP_BUILD/dist
TARBALL=$(ls "$DIST"/synopassthru-*-x86_64.tar.gz 2>/dev/null | head -1)
SPK=$(ls "$DIST"/SynoPassthru-*-x86_64.spk 2>/dev/null | head -1)
check "make dist wrote the tarball" test -f "$TARBALL"
check "make spk wrote the package" test -f "$SPK"
tar -xzf "$TARBALL" -C "$WORK"
REL=$WORK/$(basename "$TARBALL" .tar.gz)
BINARIES="bin/synopassthru bin/synopassthru-virsh lib/synopassthru/libsynopassthru.so
libexec/synopassthru/synopassthru-vfio"

# glibc_needed FILE: the highest GLIBC_ version FILE asks for.
glibc_needed() {
    objdump -T "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1
}
version_at_most() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" = "$2" ]; }
for f in $BINARIES; do
    v=$(glibc_needed "$REL/$f")
    check "$f needs glibc $v at most 2.36 (DSM 7.2)" version_at_most "$v" 2.36
    echo "MEASURE glibc $f $v"
done
check "(the version check refuses a newer one)" sh -c '! version_at_most 2.38 2.36'
xml_v=$(objdump -T "$REL/lib/synopassthru/libsynopassthru.so" | grep -o 'LIBXML2_[0-9][0-9.]*' | sed 's/LIBXML2_//' | sort -V | tail -1)
echo "MEASURE libxml2 symbol version needed by the shim: $xml_v"
check "the shim asks libxml2 for nothing newer than 2.9 ($xml_v)" version_at_most "$xml_v" 2.9.0

# needed FILE: its DT_NEEDED libraries, one per line.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort; }
only_from() {
    local file=$1 allowed=$2 lib
    for lib in $(needed "$file"); do
        case " $allowed " in *" $lib "*) ;; *) echo "$file needs $lib"; return 1 ;; esac
    done
}
GLIBC_LIBS="libc.so.6 libm.so.6 ld-linux-x86-64.so.2"
check "the shim needs only libc and libxml2 ($(needed "$REL/lib/synopassthru/libsynopassthru.so" | tr '\n' ' '))" \
    only_from "$REL/lib/synopassthru/libsynopassthru.so" "$GLIBC_LIBS libxml2.so.2"
check "the CLI needs only libc and libxml2 ($(needed "$REL/bin/synopassthru" | tr '\n' ' '))" \
    only_from "$REL/bin/synopassthru" "$GLIBC_LIBS libxml2.so.2"
check "the vfio helper needs only libc ($(needed "$REL/libexec/synopassthru/synopassthru-vfio" | tr '\n' ' '))" \
    only_from "$REL/libexec/synopassthru/synopassthru-vfio" "$GLIBC_LIBS"
check "synopassthru-virsh needs only libc" only_from "$REL/bin/synopassthru-virsh" "$GLIBC_LIBS"
if only_from "$REL/bin/synopassthru" "libc.so.6" > /dev/null; then
    fail "(the check refuses an extra library): it accepted libxml2 where only libc was allowed"
else
    pass "(the check refuses an extra library)"
fi
for f in $BINARIES; do
    check "$f has no rpath" sh -c "! readelf -d '$REL/$f' | grep -Eq 'RPATH|RUNPATH'"
done
nm -D --defined-only "$REL/lib/synopassthru/libsynopassthru.so" | awk '{print $3}' | sort > "$WORK/exports"
interposed_functions > "$WORK/expected-exports"
check "the released shim exports exactly the interposed functions" diff -u "$WORK/expected-exports" "$WORK/exports"
for f in lib/synopassthru/libsynopassthru.so libexec/synopassthru/synopassthru-vfio; do
    check "the released $(basename "$f") names no test hook ($(test_hook_names "$REL/$f" | tr '\n' ' '))" \
        test -z "$(test_hook_names "$REL/$f")"
done
check "no test build of the shim is released" sh -c "! tar -tzf '$TARBALL' | grep -q 'libsynopassthru-test'"
for f in $BINARIES; do
    echo "MEASURE size $f $(stat -c %s "$REL/$f")"
done
check "pci.ids is in the release" grep -q '^1002  Advanced Micro Devices' "$REL/share/synopassthru/pci.ids"
(cd "$REL" && sha256sum -c --quiet SHA256SUMS) > "$WORK/sums" 2>&1
check "SHA256SUMS covers the release and matches" test $? -eq 0 -a "$(wc -l < "$REL/SHA256SUMS")" -ge 8

# The same payload in both release files.
mkdir -p "$WORK/spk" "$WORK/spk-target"
tar -xf "$SPK" -C "$WORK/spk" && tar -xzf "$WORK/spk/package.tgz" -C "$WORK/spk-target"
for f in $BINARIES share/synopassthru/pci.ids; do
    check "the package carries the same $f" cmp -s "$REL/$f" "$WORK/spk-target/$f"
done

# A root file system of libc6, libxml2 and what libxml2 depends on, from
# Debian's own packages, and nothing else: no shell, no libjansson, no libpci.
CHROOT=$WORK/minimal-root
minimal_root "$CHROOT"
check "Debian's packages for the minimal root were unpacked" test -e "$CHROOT/lib64/ld-linux-x86-64.so.2"
check "the minimal root has no shell" test ! -e "$CHROOT/bin/sh" -a ! -e "$CHROOT/usr/bin/sh"
check "nor libjansson" sh -c "! find '$CHROOT' -name 'libjansson*' | grep -q ."
check "nor libpci" sh -c "! find '$CHROOT' -name 'libpci*' | grep -q ."
# A Virtualization package start script, as on DSM, for setup to find.
HOOK=$CHROOT/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
mkdir -p "$(dirname "$HOOK")" && printf '#!/bin/sh\nexit 0\n' > "$HOOK" && chmod 755 "$HOOK"
sh "$REL/install.sh" --root "$CHROOT" > "$WORK/install.log" 2>&1
check "install.sh installs into the minimal root" test $? -eq 0
in_root() { chroot "$CHROOT" "$@"; }
in_root /usr/local/bin/synopassthru --version > "$WORK/version" 2>&1
check "the CLI runs there: --version" test $? -eq 0
contains "and says its version" "$WORK/version" "synopassthru 0."
make_sysfs "$CHROOT/fake-sysfs"
SYNOPASSTHRU_SYSFS_ROOT=/fake-sysfs in_root /usr/local/bin/synopassthru groups --json > "$WORK/groups.json" 2> "$WORK/groups.err"
check "groups --json runs there on a fake sysfs" test $? -eq 0
check "and prints JSON" python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$WORK/groups.json"
contains "with names from the shipped pci.ids" "$WORK/groups.json" "Advanced Micro Devices, Inc. [AMD/ATI]"
in_root /usr/local/libexec/synopassthru/synopassthru-vfio check --root /fake-sysfs 0000:08:00.0 > "$WORK/helper" 2>&1
check "the vfio helper runs there" test $? -le 1
check "and is not killed by the loader" sh -c "! grep -q 'error while loading' '$WORK/helper'"
echo '<domain><name>x</name></domain>' > "$CHROOT/d.xml"
in_root /usr/local/bin/synopassthru preview /d.xml > "$WORK/preview" 2>&1
check "preview runs there" test $? -eq 0
in_root /usr/local/bin/synopassthru inject systemd --unit pkg-libvirtd > "$WORK/proof" 2>&1
check "and the shim is proven to load there, with that root's libraries alone" test $? -eq 0
