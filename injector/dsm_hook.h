/* dsm_hook: where DSM's Virtualization package keeps the script that runs
 * when its libvirt service starts (before the daemon). The injector adds its
 * block there; import takes the community scripts' lines out of it. */
#ifndef SP_DSM_HOOK_H
#define SP_DSM_HOOK_H

#define SP_DSM_HOOK_PATH "/var/packages/Virtualization/conf/systemd/insert_libvirtd_ko.sh"

#endif
