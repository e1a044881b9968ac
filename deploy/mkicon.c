/* mkicon SIZE OUT.PNG: the package's icon, drawn here (no artwork is
 * copied in): a PCI card on a rounded tile, as an RGBA PNG of SIZE x SIZE.
 * The PNG is written without a compression library: its zlib stream uses
 * stored blocks, which every PNG reader accepts. Build-time tool only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rgba {
    uint8_t r, g, b, a;
};

static const struct rgba tile = {0x1d, 0x4e, 0x6b, 0xff};
static const struct rgba board = {0x2f, 0x8f, 0x5b, 0xff};
static const struct rgba chip = {0x22, 0x26, 0x2b, 0xff};
static const struct rgba gold = {0xe0, 0xb0, 0x32, 0xff};
static const struct rgba clear = {0, 0, 0, 0};

/* Inside a rounded rectangle [x0,x1)x[y0,y1) with corner radius r. */
static int in_rounded(double x, double y, double x0, double y0, double x1, double y1, double r)
{
    if (x < x0 || x >= x1 || y < y0 || y >= y1)
        return 0;
    double cx = x < x0 + r ? x0 + r : x > x1 - r ? x1 - r : x;
    double cy = y < y0 + r ? y0 + r : y > y1 - r ? y1 - r : y;
    return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r;
}

/* The picture in unit coordinates (0..1 across the icon). */
static struct rgba pixel(double x, double y)
{
    if (!in_rounded(x, y, 0.02, 0.02, 0.98, 0.98, 0.18))
        return clear;
    if (in_rounded(x, y, 0.14, 0.26, 0.86, 0.70, 0.03)) {
        if (in_rounded(x, y, 0.40, 0.36, 0.64, 0.58, 0.02))
            return chip;
        return board;
    }
    /* Contact fingers under the card. */
    if (y >= 0.70 && y < 0.80 && x >= 0.20 && x < 0.80) {
        double step = (x - 0.20) / 0.06;
        return step - (int)step < 0.6 ? gold : tile;
    }
    return tile;
}

static uint32_t crc_table[256];

static void make_crc_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_of(const uint8_t *p, size_t len, uint32_t crc)
{
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data, uint32_t len)
{
    uint8_t head[8];
    put_be32(head, len);
    memcpy(head + 4, type, 4);
    uint32_t crc = crc32_of(head + 4, 4, 0);
    crc = crc32_of(data, len, crc);
    uint8_t tail[4];
    put_be32(tail, crc);
    return fwrite(head, 1, 8, f) == 8 && fwrite(data, 1, len, f) == len &&
                   fwrite(tail, 1, 4, f) == 4
               ? 0
               : -1;
}

/* The raw scanlines (each led by filter byte 0; never empty) as a zlib
 * stream of stored blocks. */
static uint8_t *zlib_stored(const uint8_t *raw, size_t len, size_t *out_len)
{
    size_t blocks = len / 65535 + 1;
    uint8_t *out = malloc(2 + len + blocks * 5 + 4);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = 0x78;
    out[o++] = 0x01;
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < len; i++) {
        a = (a + raw[i]) % 65521;
        b = (b + a) % 65521;
    }
    for (size_t done = 0; done < len;) {
        size_t take = len - done < 65535 ? len - done : 65535;
        out[o++] = done + take == len ? 1 : 0;
        out[o++] = (uint8_t)take;
        out[o++] = (uint8_t)(take >> 8);
        out[o++] = (uint8_t)~take;
        out[o++] = (uint8_t)(~take >> 8);
        memcpy(out + o, raw + done, take);
        o += take;
        done += take;
    }
    put_be32(out + o, b << 16 | a);
    *out_len = o + 4;
    return out;
}

int main(int argc, char **argv)
{
    int size = argc == 3 ? atoi(argv[1]) : 0;
    if (size < 16 || size > 1024) {
        fprintf(stderr, "usage: mkicon SIZE OUT.PNG (SIZE 16..1024)\n");
        return 2;
    }
    make_crc_table();
    size_t row = 1 + (size_t)size * 4, raw_len = row * (size_t)size;
    uint8_t *raw = calloc(raw_len, 1);
    if (!raw)
        return 1;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            struct rgba c = pixel((x + 0.5) / size, (y + 0.5) / size);
            memcpy(raw + (size_t)y * row + 1 + (size_t)x * 4, &c, 4);
        }
    size_t z_len;
    uint8_t *z = zlib_stored(raw, raw_len, &z_len);
    FILE *f = fopen(argv[2], "wb");
    uint8_t ihdr[13] = {0};
    put_be32(ihdr, (uint32_t)size);
    put_be32(ihdr + 4, (uint32_t)size);
    ihdr[8] = 8; /* bits per channel */
    ihdr[9] = 6; /* RGBA */
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int ok = f && z && fwrite(signature, 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) == 0 &&
             write_chunk(f, "IDAT", z, (uint32_t)z_len) == 0 &&
             write_chunk(f, "IEND", NULL, 0) == 0;
    if (f && fclose(f) != 0)
        ok = 0;
    free(z);
    free(raw);
    if (!ok) {
        perror(argv[2]);
        return 1;
    }
    return 0;
}
