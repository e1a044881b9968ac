#!/bin/bash
VENDOR="8086"
PRODUCT="10fb"
VM_NAME="detector"

/usr/local/libvirt/attach_pci_to_vm.sh $VENDOR $PRODUCT $VM_NAME
