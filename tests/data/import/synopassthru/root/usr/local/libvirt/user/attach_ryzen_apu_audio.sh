#!/bin/bash
# The iGPU's HDMI audio, edited on Windows (CRLF line ends).
ADDRESS='08:00.1'   # single quotes
VENDOR=1002         # no quotes
export PRODUCT=1637 # export with a value
ROM="/usr/local/libvirt/user/AMDGopDriver.rom"

VM_NAME='591328D9-88D5-42AA-9551-BB793C3330CF'
export VM_NAME

if [[ $VM_NAME = "$TARGET_VM" ]]; then
	/usr/local/libvirt/attach_detach_pci_from_vm.sh ATTACH $ADDRESS "$VENDOR" "${PRODUCT}" "$ROM"
fi
