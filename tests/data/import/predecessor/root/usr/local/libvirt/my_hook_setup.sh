#!/bin/bash
mkdir -p /etc/libvirt/hooks/
cp /usr/local/libvirt/qemu /etc/libvirt/hooks/qemu
