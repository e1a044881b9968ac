#!/bin/bash
# Builds the e2e guest's initramfs: busybox-static, the modules for virtio,
# 9p and overlay (from the installed kernel), and init.sh as /init.
# Usage: build-initramfs.sh KERNEL_VERSION OUT.cpio.gz
set -euo pipefail
kver=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree"/{bin,proc,sys,dev,newroot,lower,modules}
cp /bin/busybox "$tree/bin/busybox"
cp "$here/init.sh" "$tree/init"
chmod 755 "$tree/init"
: > "$tree/modules.order"
for mod in virtio_pci 9pnet_virtio 9p overlay; do
    modprobe -S "$kver" --show-depends "$mod" | awk '$1 == "insmod" {print $2}' | while read -r ko; do
        base=$(basename "$ko")
        if ! grep -qx "$base" "$tree/modules.order"; then
            cp "$ko" "$tree/modules/$base"
            echo "$base" >> "$tree/modules.order"
        fi
    done
done
(cd "$tree" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
