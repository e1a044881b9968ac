# Every golden input and output that is XML passes libvirt's own schema
# (virt-xml-validate ... domain).
. "$(dirname "$0")/lib.sh"

command -v virt-xml-validate >/dev/null || { fail "virt-xml-validate is not installed"; exit 1; }
for f in "$SP_SRC"/tests/data/*/domain.xml "$SP_SRC"/tests/data/*/expected.xml; do
    case "$f" in */bad-input-*) continue ;; esac
    sed "s|@CONFIG_DIR@|/usr/local/etc/synopassthru|g" "$f" > "$WORK/doc.xml"
    name=${f#$SP_SRC/tests/data/}
    if virt-xml-validate "$WORK/doc.xml" domain > "$WORK/log" 2>&1; then
        pass "$name validates"
    else
        fail "$name does not validate:"; sed 's/^/    | /' "$WORK/log"
    fi
done
