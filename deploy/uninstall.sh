#!/bin/sh
# uninstall.sh [--root DIR] [--purge] [--dry-run]
# Undoes install.sh exactly, from the manifest it left: every file it
# changed is restored byte for byte, everything it created is removed, and
# a file someone else changed since is named and left as it is. Your
# snippets and ROM files (vm.d/, rom/ in the config dir) stay unless
# --purge. POSIX sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=
extra=

usage() {
    echo "uninstall.sh: ${1:-bad command line} (usage: uninstall.sh [--root DIR] [--purge] [--dry-run])" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --root) [ $# -ge 2 ] || usage "--root needs a directory"; root=$2; shift 2 ;;
    --purge | --dry-run) extra="$extra $1"; shift ;;
    -h | --help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) usage "unknown argument '$1'" ;;
    esac
done

if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
    echo "uninstall.sh: needs root (run it with sudo)" >&2
    exit 1
fi

# This release's own CLI does the work; the installed copy is among what
# it removes.
exec "$here/bin/synopassthru" setup --remove ${root:+--root "$root"} $extra
