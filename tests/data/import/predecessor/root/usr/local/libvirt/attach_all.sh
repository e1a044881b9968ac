#!/bin/bash
/usr/local/libvirt/attaching_CoralTPU.sh
#/usr/local/libvirt/attaching_Intel82599ES.sh
