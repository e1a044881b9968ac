#!/bin/busybox sh
# /init of the e2e guest's initramfs: load the few modules needed to reach
# the host's directories over 9p, build a root from them (read-only /usr and
# the project, /etc and /var with a tmpfs on top) and hand over to the test.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod "/modules/$m" || echo "init: insmod $m failed"; done
project=$(sed -n 's/.*sp.project=\([^ ]*\).*/\1/p' /proc/cmdline)
build=$(sed -n 's/.*sp.build=\([^ ]*\).*/\1/p' /proc/cmdline)
mount -t tmpfs -o size=1500m tmpfs /newroot
mkdir -p /lower/etc /lower/var /newroot/usr /newroot/etc /newroot/var /newroot/ov
for tag in usr etc var; do
    dir=/lower/$tag
    [ "$tag" = usr ] && dir=/newroot/usr
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 "$tag" "$dir" || echo "init: 9p $tag failed"
done
for d in etc var; do
    mkdir -p "/newroot/ov/$d-up" "/newroot/ov/$d-work"
    mount -t overlay overlay -o "lowerdir=/lower/$d,upperdir=/newroot/ov/$d-up,workdir=/newroot/ov/$d-work" "/newroot/$d"
done
mkdir -p "/newroot$project" /newroot/proc /newroot/sys /newroot/dev /newroot/run /newroot/tmp /newroot/root
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 project "/newroot$project" || echo "init: 9p project failed"
for l in bin lib lib64 sbin; do ln -s "usr/$l" "/newroot/$l"; done
# systemd is PID 1, as on the NAS, and boots straight into the test: a target
# that wants only the unit running guest.sh (no sysinit, no getty, no udev).
units=/newroot/etc/systemd/system
mkdir -p "$units"
cat > "$units/sp-e2e.target" <<UNIT
[Unit]
Description=SynoPassthru end-to-end run
Wants=sp-e2e.service
UNIT
cat > "$units/sp-e2e.service" <<UNIT
[Unit]
Description=SynoPassthru end-to-end checks
DefaultDependencies=no
[Service]
Type=oneshot
ExecStart=/bin/bash $project/tests/e2e/guest.sh $project $build
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no
UNIT
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /usr/lib/systemd/systemd
