/* sha256: the SHA-256 digest (FIPS 180-4), for the install manifest that
 * tells whether a file is still the one setup wrote. Owns nothing beyond its
 * context struct; never reads files itself beyond sp_sha256_file. */
#ifndef SP_SHA256_H
#define SP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SP_SHA256_HEX_LEN 64

struct sp_sha256 {
    uint32_t state[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t used; /* bytes waiting in block */
};

void sp_sha256_init(struct sp_sha256 *c);
void sp_sha256_update(struct sp_sha256 *c, const void *data, size_t len);
void sp_sha256_final(struct sp_sha256 *c, uint8_t digest[32]);

/* The digest of buf as 64 lowercase hex digits (out holds 65 bytes). */
void sp_sha256_hex(const void *buf, size_t len, char out[SP_SHA256_HEX_LEN + 1]);

/* The digest of a file's contents, read in pieces; errors name the path. */
int sp_sha256_file(const char *path, char out[SP_SHA256_HEX_LEN + 1], struct sp_err *err);

#endif
