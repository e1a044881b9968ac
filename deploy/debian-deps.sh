#!/bin/sh
# Installs what SynoPassthru needs to build and test on Debian 12 (the
# end-to-end test boots a Debian kernel under QEMU, so a kernel image and
# QEMU are among them), and enables Debian's source archive (deb-src) for
# the real-world test, which reads libvirt's own test XML from its source
# package. Run as root.
set -eu

PACKAGES="build-essential pkg-config clang binutils libvirt-dev libvirt-daemon libvirt-clients
libxml2-dev libxml2-utils uthash-dev libcmocka-dev libjansson-dev pci.ids dpkg-dev python3 systemd
qemu-system-x86 linux-image-amd64 busybox-static cpio kmod libvirt-daemon-driver-qemu
scdoc groff-base man-db"
# The tests of vms and log read their --json with jq.
PACKAGES="$PACKAGES jq"
# A terminal for the tests that look at the CLI's colours as a person sees them.
PACKAGES="$PACKAGES tmux"
# make bench: instruction counts and the whole-process comparison (small).
PACKAGES="$PACKAGES valgrind xmlstarlet"
# Optional, for bench's virt-xml row (pulls in Python): apt-get install -y virtinst

enable_deb_src() {
    list=/etc/apt/sources.list.d/synopassthru-deb-src.sources
    if grep -Eqs '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/*; then
        return 0
    fi
    src=/etc/apt/sources.list.d/debian.sources
    if [ -r "$src" ]; then
        # Same archives as the binary entries, for sources.
        sed -n 's/^Types: deb$/Types: deb-src/p; /^\(URIs\|Suites\|Components\|Signed-By\):/p; /^$/p' \
            "$src" > "$list"
    elif grep -qs '^deb ' /etc/apt/sources.list; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/synopassthru-deb-src.list
    else
        echo "debian-deps: no Debian apt sources found to derive deb-src from" >&2
        exit 1
    fi
}

enable_deb_src
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES
