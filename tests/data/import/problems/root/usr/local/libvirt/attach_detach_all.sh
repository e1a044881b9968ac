#!/bin/bash
rm -rf /var/log/attach_detach_pci_from_vm.log
TARGET_VM="$1"
export TARGET_VM
echo "attaching for $TARGET_VM"
/usr/local/libvirt/user/attach_igpu.sh
/usr/local/libvirt/user/detach_vmvga.sh
/usr/local/libvirt/user/attach_dgpu.sh
/usr/local/libvirt/user/detach_nic.sh
user/attach_coral.sh
/usr/local/libvirt/user/attach_gone.sh
