/* mkfakesysfs ROOT SPEC: builds a fake sysfs tree for the shell tests. */
#include <stdio.h>

#include "fakesysfs.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkfakesysfs ROOT SPEC\n");
        return 2;
    }
    return fakesysfs_build_from_file(argv[1], argv[2]) < 0 ? 1 : 0;
}
