# The shim exports exactly the libvirt functions it interposes, nothing else.
. "$(dirname "$0")/lib.sh"

nm -D --defined-only "$SHIM" | awk '{print $3}' | sort > "$WORK/exports"
printf "%s\n" virDomainCreate virDomainCreateWithFiles virDomainCreateWithFlags virDomainCreateXML virDomainCreateXMLWithFiles virDomainDefineXML virDomainDefineXMLFlags virDomainSetAutostart | sort > "$WORK/expected"
if diff -u "$WORK/expected" "$WORK/exports"; then
    pass "exports are exactly: $(tr '\n' ' ' < "$WORK/expected")"
else
    fail "unexpected dynamic exports (diff above)"
fi
check "the CLI exports nothing of its own beyond main" \
    test "$(nm -D --defined-only "$CLI" | awk '$2 == "T" {print $3}' | grep -c '^sp_' || true)" -eq 0
