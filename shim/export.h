/* The shim is built with -fvisibility=hidden: only what is marked here
 * leaves the library, and that is the libvirt functions it interposes. */
#ifndef SP_EXPORT_H
#define SP_EXPORT_H

#define SP_EXPORT __attribute__((visibility("default")))

#endif
