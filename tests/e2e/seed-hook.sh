#!/bin/bash
# /etc/libvirt/hooks/qemu for the comparison in compare.sh: the community
# method SynoPassthru replaces, modelled on its published description. When
# the VM has started, bind the device with new_id and hot-plug it with
# `virsh attach-device`, in the background (a hook that called libvirt in the
# foreground would wait on the very start it is part of). Its settings come
# from /tmp/seed.conf (VM_NAME, ADDRESS, VENDOR, PRODUCT, ROM), as the
# community tool has one shell file per device. Logs /proc/uptime stamps.
vm=$1 op=$2
# shellcheck disable=SC1091
. /tmp/seed.conf
[ "$vm" = "$VM_NAME" ] && [ "$op" = started ] || exit 0
log=/tmp/seed.log
uptime_s() { cut -d' ' -f1 /proc/uptime; }
(
    echo "hook $(uptime_s)"
    dev=/sys/bus/pci/devices/$ADDRESS
    [ -e "$dev/driver" ] && echo "$ADDRESS" > "$dev/driver/unbind"
    echo "$VENDOR $PRODUCT" > /sys/bus/pci/drivers/vfio-pci/new_id
    IFS=':.' read -r domain bus slot function <<< "$ADDRESS"
    cat > /tmp/seed-hostdev.xml <<XML
<hostdev mode='subsystem' type='pci' managed='no'>
  <source><address domain='0x$domain' bus='0x$bus' slot='0x$slot' function='0x$function'/></source>
  <rom file='$ROM'/>
</hostdev>
XML
    virsh -c qemu:///system attach-device "$vm" /tmp/seed-hostdev.xml --live
    echo "attached rc=$? $(uptime_s)"
) >> "$log" 2>&1 < /dev/null &
exit 0
