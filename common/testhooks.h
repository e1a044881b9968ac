/* testhooks: the environment variables that let tests point the code at
 * fake trees, trust their own uid or inject faults. Which implementation a
 * program gets is chosen when it is linked: the shim and the vfio helper
 * get testhooks_none.c (every hook off, and the variable names are not even
 * in their binaries); the CLI and every test program, the test build of the
 * shim included, get testhooks_env.c (read with secure_getenv). */
#ifndef SP_TESTHOOKS_H
#define SP_TESTHOOKS_H

/* The hooks. The names are only ever expanded in testhooks_env.c and in
 * tests, never in code that the shim links. */
enum sp_test_env {
    SP_TEST_ENV_SYSFS_ROOT,  /* SP_ENV_SYSFS_ROOT: stands in for /sys */
    SP_TEST_ENV_PROC_ROOT,   /* SP_ENV_PROC_ROOT: stands in for /proc */
    SP_TEST_ENV_TRUSTED_UID, /* SP_ENV_TRUSTED_UID: one more owner StrictModes accepts */
    SP_TEST_ENV_FAULT_FILE,  /* SP_ENV_TEST_FAULT_FILE: its first word is a fault to inject */
    SP_TEST_ENV_WATCH_FAULT, /* SP_ENV_TEST_WATCH_FAULT: the config watch fails (config/watch.c) */
};

#define SP_ENV_SYSFS_ROOT "SYNOPASSTHRU_SYSFS_ROOT"
#define SP_ENV_PROC_ROOT "SYNOPASSTHRU_PROC_ROOT"
#define SP_ENV_TRUSTED_UID "SYNOPASSTHRU_TRUSTED_UID"
#define SP_ENV_TEST_FAULT_FILE "SYNOPASSTHRU_TEST_FAULT_FILE"
#define SP_ENV_TEST_WATCH_FAULT "SYNOPASSTHRU_TEST_WATCH_FAULT"

/* The hook's value, or NULL: always NULL in the shim and the helper. */
const char *sp_test_env(enum sp_test_env hook);

#endif
