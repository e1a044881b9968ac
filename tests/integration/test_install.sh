# `make install PREFIX= DESTDIR=` puts the library, the CLI and a config
# skeleton in place, and never overwrites an existing config.
. "$(dirname "$0")/lib.sh"

ROOT=$WORK/root
make -s -C "$SP_SRC" BUILD="$SP_BUILD" install PREFIX=/usr/local DESTDIR="$ROOT" > "$WORK/log" 2>&1
check "make install succeeds" test $? -eq 0
check "the shim is installed" test -x "$ROOT/usr/local/lib/synopassthru/libsynopassthru.so"
check "the CLI is installed" test -x "$ROOT/usr/local/bin/synopassthru"
check "the vfio helper is installed where the default config looks" \
    test -x "$ROOT/usr/local/libexec/synopassthru/synopassthru-vfio"
check "vm.d exists, mode 755" test "$(stat -c %a "$ROOT/usr/local/etc/synopassthru/vm.d")" = 755
check "rom exists, mode 755" test "$(stat -c %a "$ROOT/usr/local/etc/synopassthru/rom")" = 755
CONF=$ROOT/usr/local/etc/synopassthru/synopassthru.conf
check "a config file, mode 644" test "$(stat -c %a "$CONF")" = 644
echo "audit_log =" > "$CONF"
make -s -C "$SP_SRC" BUILD="$SP_BUILD" install PREFIX=/usr/local DESTDIR="$ROOT" > "$WORK/log" 2>&1
check "a second install keeps the user's config" test "$(cat "$CONF")" = "audit_log ="
"$ROOT/usr/local/bin/synopassthru" --config "$ROOT/usr/local/etc/synopassthru" preview - \
    <<< "<domain><name>x</name></domain>" > "$WORK/out" 2>&1
check "the installed CLI reads the installed config" test $? -eq 0
