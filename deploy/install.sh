#!/bin/sh
# install.sh [--root DIR] [--dry-run]
# Installs SynoPassthru from this unpacked release: checks the release's
# files against SHA256SUMS, then runs `bin/synopassthru setup`, which puts
# root-owned copies of the programs in /usr/local, proves that the shim
# loads, creates the config dir with vm.d/ and rom/, writes the systemd
# drop-in and the DSM start-hook block, and records every file it created
# or changed (with a backup of each changed file) in a manifest that
# uninstall.sh uses. Running it again changes nothing; --dry-run prints
# each action and changes nothing. POSIX sh: DSM has busybox and bash.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=
dry_run=

usage() {
    echo "install.sh: ${1:-bad command line} (usage: install.sh [--root DIR] [--dry-run])" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --root) [ $# -ge 2 ] || usage "--root needs a directory"; root=$2; shift 2 ;;
    --dry-run) dry_run=--dry-run; shift ;;
    -h | --help) sed -n '2,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) usage "unknown argument '$1'" ;;
    esac
done

if [ -z "$root" ] && [ -z "$dry_run" ] && [ "$(id -u)" != 0 ]; then
    echo "install.sh: needs root (run it with sudo)" >&2
    exit 1
fi
if [ "$(uname -m)" != x86_64 ]; then
    echo "install.sh: this release is for x86_64; this machine is $(uname -m)" >&2
    exit 1
fi
if [ -n "$root" ] && [ ! -d "$root" ]; then
    echo "install.sh: --root $root: no such directory" >&2
    exit 1
fi

# Every file as shipped (a truncated download or a changed file stops here).
if command -v sha256sum >/dev/null 2>&1; then
    if ! (cd "$here" && sha256sum -c SHA256SUMS >/dev/null 2>&1); then
        bad=$(cd "$here" && sha256sum -c SHA256SUMS 2>/dev/null | grep -v ': OK$' | tr '\n' ' ')
        echo "install.sh: the release's files do not match SHA256SUMS (${bad% }): download it again" >&2
        exit 1
    fi
else
    echo "install.sh: no sha256sum here: the files were not checked against SHA256SUMS" >&2
fi

exec "$here/bin/synopassthru" setup ${root:+--root "$root"} $dry_run
