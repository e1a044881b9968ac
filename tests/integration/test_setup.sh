# The tarball as a user meets it: unpacked, install.sh into a fake DSM tree
# (dry run, twice, refusals that leave the tree as it was), then
# uninstall.sh restoring every file byte for byte, leaving alone what
# someone else changed, and keeping the user's snippets unless --purge.
. "$(dirname "$0")/lib.sh"

TARBALL=$(ls "$SP_BUILD"/dist/synopassthru-*-x86_64.tar.gz 2>/dev/null | head -1)
check "make dist wrote the tarball" test -f "$TARBALL"
tar -xzf "$TARBALL" -C "$WORK"
REL=$WORK/$(basename "$TARBALL" .tar.gz)

# A tree shaped like DSM's, with the Virtualization package's start script.
new_dsm_tree() {
    local root=$1
    mkdir -p "$root/usr/local/bin" "$root/usr/local/lib" "$root/usr/local/etc" \
        "$root/etc/systemd/system" "$root/var/packages/Virtualization/conf/systemd" "$root/var/log"
    printf '[Unit]\nDescription=libvirt of the VM manager\n[Service]\nExecStart=/bin/true\n' \
        > "$root/etc/systemd/system/pkg-libvirtd.service"
    printf '#!/bin/sh\n# Virtualization: load the KVM modules\ninsmod kvm.ko 2>/dev/null\nexit 0\n' \
        > "$root/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"
    chmod 755 "$root/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"
}
# snapshot ROOT [EXCLUDE]: every path with its type, mode, owner and digest.
snapshot() {
    (cd "$1" && find . ${2:+-path "./${2#/}" -prune -o} -printf '%p %y %m %u:%g\n' | LC_ALL=C sort &&
        find . ${2:+-path "./${2#/}" -prune -o} -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
}
ROOT=$WORK/dsm
HOOK=$ROOT/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh
DROPIN=$ROOT/etc/systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf
CONF=/usr/local/etc/synopassthru
new_dsm_tree "$ROOT"
snapshot "$ROOT" > "$WORK/before"
cp "$HOOK" "$WORK/hook.orig"

expect_exit 0 "install.sh --dry-run" sh "$REL/install.sh" --root "$ROOT" --dry-run
contains "it says what it would install" "$WORK/stdout" "would install /usr/local/lib/synopassthru/libsynopassthru.so (new)"
contains "and which drop-in it would write" "$WORK/stdout" "would write the drop-in /etc/systemd/system/pkg-libvirtd.service.d/50-synopassthru.conf"
contains "and the hook block" "$WORK/stdout" "would add the start-hook block to"
snapshot "$ROOT" > "$WORK/after-dry"
check "and changes nothing" diff -u "$WORK/before" "$WORK/after-dry"

expect_exit 0 "install.sh installs" sh "$REL/install.sh" --root "$ROOT"
cp "$WORK/stdout" "$WORK/install1.out"
contains "it proves the shim loads first" "$WORK/install1.out" "proved: $REL/lib/synopassthru/libsynopassthru.so loads"
contains "and the installed copy too" "$WORK/install1.out" "proved: $ROOT/usr/local/lib/synopassthru/libsynopassthru.so loads"
contains "and gives the next step" "$WORK/install1.out" "synopassthru status"
for f in bin/synopassthru bin/synopassthru-virsh lib/synopassthru/libsynopassthru.so \
         libexec/synopassthru/synopassthru-vfio; do
    check "$f is installed, root-owned 0755" test "$(stat -c '%U %a' "$ROOT/usr/local/$f")" = "root 755"
    check "and is the release's file" cmp -s "$REL/$f" "$ROOT/usr/local/$f"
done
check "pci.ids is installed 0644" test "$(stat -c %a "$ROOT/usr/local/share/synopassthru/pci.ids")" = 644
for d in "" /vm.d /rom; do
    check "the config dir$d exists, root-owned 0755" test "$(stat -c '%U %a' "$ROOT$CONF$d")" = "root 755"
done
contains "the drop-in preloads the installed shim" "$DROPIN" 'Environment="LD_PRELOAD=/usr/local/lib/synopassthru/libsynopassthru.so"'
(cd "$ROOT/etc/systemd/system" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no \
    "$ROOT/etc/systemd/system/pkg-libvirtd.service") > "$WORK/verify" 2>&1
check "systemd-analyze verify accepts the unit with it" test $? -eq 0
check "the hook block comes right after the #! line" test "$(sed -n 2p "$HOOK" | cut -c1-21)" = "# synopassthru: begin"
check "the hook keeps its mode" test "$(stat -c %a "$HOOK")" = 755
MANIFEST=$ROOT/usr/local/lib/synopassthru/setup/manifest
contains "the manifest records the installed shim" "$MANIFEST" "created"
contains "and the hook as changed" "$MANIFEST" "changed"
check "with a backup of the hook as it was" cmp -s "$WORK/hook.orig" "$ROOT/usr/local/lib/synopassthru/setup/backup/1"
grep -P '^file\tcreated\t([0-9a-f]{64})\t' "$MANIFEST" | while IFS="$(printf '\t')" read -r _ _ sha _ _ _ _ _ path; do
    echo "$sha  $ROOT$path"
done > "$WORK/manifest-sums"
check "every digest in the manifest is sha256sum's" sha256sum -c --quiet "$WORK/manifest-sums"

snapshot "$ROOT" > "$WORK/installed"
expect_exit 0 "a second install.sh" sh "$REL/install.sh" --root "$ROOT"
contains "changes nothing" "$WORK/stdout" "unchanged: /usr/local/lib/synopassthru/libsynopassthru.so"
snapshot "$ROOT" > "$WORK/installed2"
check "the tree is the same to the byte" diff -u "$WORK/installed" "$WORK/installed2"

add_snippet "$ROOT$CONF" mine.xml '<passthrough vm="x"><pci address="06:00.0"/></passthrough>'
expect_exit 0 "uninstall.sh" sh "$REL/uninstall.sh" --root "$ROOT"
contains "it restores the hook" "$WORK/stdout" "as before setup, byte for byte: /var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"
contains "keeps the user's snippets" "$WORK/stdout" "kept: $CONF/vm.d"
check "the hook is as it was, byte for byte" cmp -s "$WORK/hook.orig" "$HOOK"
check "the snippet is still there" test -f "$ROOT$CONF/vm.d/mine.xml"
snapshot "$ROOT" "$CONF" > "$WORK/after-uninstall"
check "everything but the kept config dir is as before install" diff -u "$WORK/before" "$WORK/after-uninstall"

expect_exit 0 "install again" sh "$REL/install.sh" --root "$ROOT"
expect_exit 0 "uninstall.sh --purge" sh "$REL/uninstall.sh" --root "$ROOT" --purge
snapshot "$ROOT" > "$WORK/after-purge"
check "--purge leaves the tree exactly as before install" diff -u "$WORK/before" "$WORK/after-purge"

# Someone else changes files after install: uninstall says so and leaves them.
sh "$REL/install.sh" --root "$ROOT" > /dev/null 2>&1
echo "insmod vhost.ko # added later by another tool" >> "$HOOK"
echo "# a local addition" >> "$ROOT/usr/local/share/synopassthru/pci.ids"
expect_exit 1 "uninstall.sh after changes by someone else" sh "$REL/uninstall.sh" --root "$ROOT" --purge
contains "names the changed pci.ids" "$WORK/stdout" "left as it is: /usr/local/share/synopassthru/pci.ids was changed by someone else since setup"
contains "and the hook" "$WORK/stdout" "left as it is: /var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"
check "the changed pci.ids is still there" grep -q "a local addition" "$ROOT/usr/local/share/synopassthru/pci.ids"
check "our block is out of the hook" sh -c "! grep -q synopassthru '$HOOK'"
check "the other tool's line stays" grep -q "added later by another tool" "$HOOK"
check "the rest of the install is gone" test ! -e "$ROOT/usr/local/lib/synopassthru/libsynopassthru.so" -a ! -e "$DROPIN"
rm -rf "$ROOT" && new_dsm_tree "$ROOT"

# A file that was there before (an older build installed by hand) is backed
# up, replaced, and put back byte for byte.
printf 'an older synopassthru\n' > "$ROOT/usr/local/bin/synopassthru" && chmod 700 "$ROOT/usr/local/bin/synopassthru"
snapshot "$ROOT" > "$WORK/before-old"
expect_exit 0 "install over an older copy" sh "$REL/install.sh" --root "$ROOT"
contains "it keeps a backup" "$WORK/stdout" "kept a backup of /usr/local/bin/synopassthru"
# An update: the release's pci.ids differs; install replaces it.
cp -a "$REL" "$WORK/rel2"
echo "# a newer list" >> "$WORK/rel2/share/synopassthru/pci.ids"
(cd "$WORK/rel2" && sed '/SHA256SUMS/d' SHA256SUMS | cut -c67- | xargs sha256sum > SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
expect_exit 0 "an update installs over the install" sh "$WORK/rel2/install.sh" --root "$ROOT"
contains "replacing the changed file" "$WORK/stdout" "installed /usr/local/share/synopassthru/pci.ids"
check "(with the new content)" grep -q "a newer list" "$ROOT/usr/local/share/synopassthru/pci.ids"
expect_exit 0 "uninstall after the update" sh "$WORK/rel2/uninstall.sh" --root "$ROOT" --purge
snapshot "$ROOT" > "$WORK/after-old"
check "the older copy is back, byte for byte, and nothing else remains" diff -u "$WORK/before-old" "$WORK/after-old"

# Refusals leave the tree as it was.
expect_exit 1 "a missing --root" sh "$REL/install.sh" --root "$WORK/no-such-dir"
contains "is named" "$WORK/stderr" "no-such-dir"
chmod 777 "$ROOT/usr/local/lib"
snapshot "$ROOT" > "$WORK/before-ww"
expect_exit 1 "a world-writable /usr/local/lib is refused" sh "$REL/install.sh" --root "$ROOT"
contains "saying why" "$WORK/stderr" "$ROOT/usr/local/lib is world-writable"
snapshot "$ROOT" > "$WORK/after-ww"
check "and nothing changed" diff -u "$WORK/before-ww" "$WORK/after-ww"
chmod 755 "$ROOT/usr/local/lib"
snapshot "$ROOT" > "$WORK/before-ro"
unshare -m sh -c "mount -t tmpfs -o ro,mode=755 tmpfs '$ROOT/usr/local/lib' && exec sh '$REL/install.sh' --root '$ROOT'" \
    > "$WORK/stdout" 2> "$WORK/stderr"
check "a read-only target fails (exit $?)" test $? -eq 1
contains "with a clear message" "$WORK/stderr" "$ROOT/usr/local/lib is on a read-only file system"
snapshot "$ROOT" > "$WORK/after-ro"
check "and nothing changed" diff -u "$WORK/before-ro" "$WORK/after-ro"
cp -a "$REL" "$WORK/rel-bad"
unloadable_shim "$WORK/rel-bad/lib/synopassthru/libsynopassthru.so" missing-lib
expect_exit 1 "install.sh checks the release against SHA256SUMS" sh "$WORK/rel-bad/install.sh" --root "$ROOT"
contains "naming the file" "$WORK/stderr" "libsynopassthru.so: FAILED"
(cd "$WORK/rel-bad" && sed '/SHA256SUMS/d' SHA256SUMS | cut -c67- | xargs sha256sum > SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
expect_exit 1 "a release whose shim cannot load is refused" sh "$WORK/rel-bad/install.sh" --root "$ROOT"
contains "with the loader's message" "$WORK/stderr" "libspdep.so: cannot open shared object file"
snapshot "$ROOT" > "$WORK/after-bad"
check "and nothing changed" diff -u "$WORK/before-ro" "$WORK/after-bad"
sh "$REL/install.sh" --root "$ROOT" > /dev/null 2>&1
echo "garbage" >> "$ROOT/usr/local/lib/synopassthru/setup/manifest"
snapshot "$ROOT" > "$WORK/before-damaged"
expect_exit 1 "a damaged manifest stops install" sh "$REL/install.sh" --root "$ROOT"
contains "naming it and the way out" "$WORK/stderr" "setup/manifest (setup's record of what it did, damaged: nothing was changed; move it aside to start over)"
expect_exit 1 "and uninstall" sh "$REL/uninstall.sh" --root "$ROOT"
snapshot "$ROOT" > "$WORK/after-damaged"
check "changing nothing" diff -u "$WORK/before-damaged" "$WORK/after-damaged"
rm -rf "$ROOT" && new_dsm_tree "$ROOT"
expect_exit 1 "install.sh as a user who is not root" setpriv --reuid=65534 --regid=65534 --clear-groups sh "$REL/install.sh"
contains "says it needs root" "$WORK/stderr" "needs root"
expect_exit 2 "an unknown option" sh "$REL/install.sh" --rooot "$ROOT"
expect_exit 0 "uninstall.sh with nothing installed" sh "$REL/uninstall.sh" --root "$ROOT"
contains "says so" "$WORK/stdout" "nothing to remove"
