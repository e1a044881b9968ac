/* mkfakesysfs ROOT SPEC [PROC]: builds a fake sysfs tree (and with PROC a
 * fake /proc) for the shell tests. */
#include <stdio.h>

#include "fakesysfs.h"

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: mkfakesysfs ROOT SPEC [PROC]\n");
        return 2;
    }
    return fakesysfs_build_host_from_file(argv[1], argc == 4 ? argv[3] : NULL, argv[2]) < 0 ? 1
                                                                                          : 0;
}
