# The shim exports exactly the libvirt functions it interposes, nothing else.
. "$(dirname "$0")/lib.sh"

nm -D --defined-only "$SHIM" | awk '{print $3}' | sort > "$WORK/exports"
interposed_functions > "$WORK/expected"
if diff -u "$WORK/expected" "$WORK/exports"; then
    pass "exports are exactly: $(tr '\n' ' ' < "$WORK/expected")"
else
    fail "unexpected dynamic exports (diff above)"
fi
# The programs define nothing in their dynamic symbol tables: nothing of
# theirs can be bound by a preloaded library, and the load proof's child
# finds the interposed functions in the shim alone.
for prog in "$CLI" "$SP_BUILD/synopassthru-vfio" "$SP_BUILD/synopassthru-virsh"; do
    nm -D --defined-only "$prog" > "$WORK/defined" 2>&1
    if [ -s "$WORK/defined" ]; then
        fail "$(basename "$prog") exports symbols:"; sed 's/^/    | /' "$WORK/defined" | head
    else
        pass "$(basename "$prog") exports nothing"
    fi
done
