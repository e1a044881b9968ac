#!/bin/sh
# A stand-in for the Virtualization package's start hook.
modprobe vfio-pci
/usr/local/libvirt/my_hook_setup.sh
