# The manual pages: built from doc/*.scd as `make man` builds them, rendered
# without a warning, naming every command and option of the CLI's command
# table, every settings key and every snippet attribute (the lists read from
# the sources, so that one added without its page fails here), and carried
# by `make install`, the tarball, the .spk and `setup` (and removed again).
. "$(dirname "$0")/lib.sh"

PAGES="synopassthru.1 synopassthru.conf.5 synopassthru-snippet.5"

# render PAGE OUT: the page as text (no overstrike), warnings in OUT.err
render() {
    LC_ALL=C.UTF-8 groff -t -man -Tutf8 -ww -P-cbou "$1" > "$2" 2> "$2.err"
}

# has_entry "what" TEXT NAME: the rendered page has an entry line for NAME:
# at the entries' indent, NAME alone, followed by a blank, or in a "a, b" list.
has_entry() {
    if awk -v name="$3" '
        /^       [^ ]/ {
            n = split(substr($0, 8), parts, ", ")
            for (i = 1; i <= n; i++) { w = parts[i]; sub(/ .*/, "", w); if (w == name) found = 1 }
        }
        END { exit !found }' "$2"; then
        pass "$1"
    else
        fail "$1: no entry for '$3' in $2"
    fi
}

for p in $PAGES; do
    check "make man built $p" test -s "$SP_BUILD/man/$p"
    SOURCE_DATE_EPOCH=$(git -C "$SP_SRC" log -1 --format=%ct 2>/dev/null || echo 0) \
        scdoc < "$SP_SRC/doc/$p.scd" > "$WORK/$p"
    check "scdoc builds $p from doc/$p.scd" test -s "$WORK/$p"
    check "the built $p is the one doc/$p.scd gives" cmp -s "$WORK/$p" "$SP_BUILD/man/$p"
    render "$WORK/$p" "$WORK/$p.txt"
    check "groff renders $p without a warning ($(head -c 200 "$WORK/$p.txt.err"))" \
        test ! -s "$WORK/$p.txt.err" -a -s "$WORK/$p.txt"
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$WORK/$p" > "$WORK/$p.man" 2> "$WORK/$p.man.err"
    check "man -l renders $p without a warning ($(head -c 200 "$WORK/$p.man.err"))" \
        test ! -s "$WORK/$p.man.err" -a -s "$WORK/$p.man"
done

# The command table of cli/main.c: one `{"name", sp_cmd_..., "options", N},` a line.
sed -n 's/^ *{"\([a-z-]*\)", sp_cmd_[a-z_]*, "\([^"]*\)".*/\1 \2/p' "$SP_SRC/cli/main.c" \
    > "$WORK/commands"
check "the command table has commands" test "$(wc -l < "$WORK/commands")" -ge 10
while read -r cmd options; do
    has_entry "synopassthru(1) documents the command $cmd" "$WORK/synopassthru.1.txt" "$cmd"
    for o in $options; do
        o=${o%=}
        check "synopassthru(1) documents $cmd's option $o" \
            grep -qE -- "(^|[^a-z-])$o([^a-z-]|\$)" "$WORK/synopassthru.1.txt"
    done
done < "$WORK/commands"
# The commands whose names are fixed (DESIGN), whether or not in the table yet.
for cmd in setup import add remove vms doctor log; do
    has_entry "synopassthru(1) documents the command $cmd" "$WORK/synopassthru.1.txt" "$cmd"
done
# Every command of the exit table in `synopassthru --help` has its codes
# under EXIT STATUS (an entry "cmd" or "a, b" there).
sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$WORK/synopassthru.1.txt" > "$WORK/exit-status"
"$CLI" --help | sed -n '/^Exit status:/,$ s/^  \([a-z][a-z/ ]*[a-z]\) \{1,\}[0-9] .*/\1/p' |
    grep -vx any | tr '/' '\n' > "$WORK/exit-commands"
check "--help has an exit table" test "$(wc -l < "$WORK/exit-commands")" -ge 10
while read -r cmd; do
    check "synopassthru(1) gives the exit codes of $cmd" \
        grep -qE "^       ([a-z ]+, )*$cmd(, [a-z ]+)*\$" "$WORK/exit-status"
done < "$WORK/exit-commands"
for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    contains "synopassthru(1) has $s" "$WORK/synopassthru.1.txt" "$s" 1
done
contains "synopassthru(1) says the JSON's first member" "$WORK/synopassthru.1.txt" '"schema": 1'
contains "synopassthru(1) names NO_COLOR" "$WORK/synopassthru.1.txt" "NO_COLOR"

# Every key of config/settings.c: `[KEY_...] = "name",`.
sed -n 's/^ *\[KEY_[A-Z_]*\] = "\([a-z_]*\)",.*/\1/p' "$SP_SRC/config/settings.c" > "$WORK/keys"
check "settings.c has keys" test "$(wc -l < "$WORK/keys")" -ge 8
while read -r key; do
    has_entry "synopassthru.conf(5) documents the key $key" "$WORK/synopassthru.conf.5.txt" "$key"
done < "$WORK/keys"

# Every attribute config/snippet.c allows on <passthrough> and <pci>.
sed -n '/allowed\[\] = {/{:a;/NULL}/!{N;ba};p}' "$SP_SRC/config/snippet.c" | grep -o '"[a-z_]*"' | tr -d '"' \
    > "$WORK/attributes"
check "snippet.c allows attributes" test "$(wc -l < "$WORK/attributes")" -ge 12
while read -r attr; do
    has_entry "synopassthru-snippet(5) documents the attribute $attr" \
        "$WORK/synopassthru-snippet.5.txt" "$attr"
done < "$WORK/attributes"

# make install and uninstall, into a DESTDIR.
DEST=$WORK/dest
make -s -C "$SP_SRC" BUILD="$SP_BUILD" DESTDIR="$DEST" install > "$WORK/install.log" 2>&1
check "make install DESTDIR= runs" test $? -eq 0
INSTALLED="share/man/man1/synopassthru.1 share/man/man5/synopassthru.conf.5
share/man/man5/synopassthru-snippet.5 share/bash-completion/completions/synopassthru"
for f in $INSTALLED; do
    check "make install puts $f there, 0644" test "$(stat -c %a "$DEST/usr/local/$f" 2>&1)" = 644
done
check "the installed completion is the script" \
    cmp -s "$SP_SRC/deploy/bash-completion/synopassthru" \
    "$DEST/usr/local/share/bash-completion/completions/synopassthru"
make -s -C "$SP_SRC" BUILD="$SP_BUILD" DESTDIR="$DEST" uninstall > "$WORK/uninstall.log" 2>&1
for f in $INSTALLED; do
    check "make uninstall takes $f out" test ! -e "$DEST/usr/local/$f"
done

# The release files carry them, the same bytes in both.
TARBALL=$(ls "$SP_BUILD"/dist/synopassthru-*-x86_64.tar.gz 2>/dev/null | head -1)
SPK=$(ls "$SP_BUILD"/dist/SynoPassthru-*-x86_64.spk 2>/dev/null | head -1)
check "make dist and spk wrote the release files" test -f "$TARBALL" -a -f "$SPK"
tar -xzf "$TARBALL" -C "$WORK"
REL=$WORK/$(basename "$TARBALL" .tar.gz)
mkdir -p "$WORK/spk" "$WORK/spk-target"
tar -xf "$SPK" -C "$WORK/spk" && tar -xzf "$WORK/spk/package.tgz" -C "$WORK/spk-target"
for f in $INSTALLED; do
    base=$(basename "$f")
    want=$SP_BUILD/man/$base
    [ "${f#share/man/}" = "$f" ] && want=$SP_SRC/deploy/bash-completion/synopassthru
    check "the tarball carries $f" cmp -s "$want" "$REL/$f"
    check "the .spk carries $f" cmp -s "$want" "$WORK/spk-target/$f"
done

# setup (through install.sh) puts them in place; setup --remove takes them
# out again with the directories it made for them.
ROOT=$WORK/root
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/lib" "$ROOT/usr/local/etc" "$ROOT/etc/systemd/system"
sh "$REL/install.sh" --root "$ROOT" > "$WORK/setup.log" 2>&1
check "install.sh runs setup" test $? -eq 0
for f in $INSTALLED; do
    check "setup installs $f, 0644" test "$(stat -c %a "$ROOT/usr/local/$f" 2>&1)" = 644
    check "(the release's file)" cmp -s "$REL/$f" "$ROOT/usr/local/$f"
done
sh "$REL/uninstall.sh" --root "$ROOT" > "$WORK/unsetup.log" 2>&1
check "uninstall.sh runs setup --remove" test $? -eq 0
for f in $INSTALLED; do
    check "setup --remove takes $f out" test ! -e "$ROOT/usr/local/$f"
done
check "and the directories it made for them" test ! -e "$ROOT/usr/local/share/man" -a \
    ! -e "$ROOT/usr/local/share/bash-completion"
