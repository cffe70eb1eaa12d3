// Keccak-f[1600] and the SHA-3 / SHAKE sponge (FIPS 202), for native/ml-kem768.c.
//
// Why not Node's OpenSSL (which has SHA3-256/512 and SHAKE128/256): OpenSSL 3.0, the one in
// Node 20, cannot squeeze a XOF incrementally (EVP_DigestSqueeze came in 3.3), so SampleNTT
// (FIPS 203 Algorithm 7) would have to guess its output length and start over when short, as
// src/crypto/ml-kem.ts does; and every hash would go through an EVP context (init, update,
// final: ~40 per ML-KEM operation). This sponge is a few hundred lines, keeps no state between
// calls, looks up no symbols at load, and its cost was measured against the whole operation in
// docs/performance.md §8.1. No branch or memory index here depends on the data hashed.
#include <string.h>
#include "fips202.h"

// ι's round constants RC[i_r] (FIPS 202 Algorithm 6, from rc(t) of Algorithm 5)
static const uint64_t ROUND_CONSTANTS[24] = {
  0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
  0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
  0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
  0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
  0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
  0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL
};

// ρ's offsets for lane x + 5y (FIPS 202 Algorithm 2, (t+1)(t+2)/2 mod 64 along its walk)
static const unsigned RHO[25] = {
  0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14
};

// π (FIPS 202 Algorithm 3): A'[x, y] = A[(x + 3y) mod 5, x]; the source lane of each lane x + 5y
static const unsigned PI_SOURCE[25] = {
  0, 6, 12, 18, 24, 3, 9, 10, 16, 22, 1, 7, 13, 19, 20, 4, 5, 11, 17, 23, 2, 8, 14, 15, 21
};

static inline uint64_t rotl64 (uint64_t v, unsigned n) {
  return (v << n) | (v >> ((64 - n) & 63));
}

static void keccak_f1600 (uint64_t a[25]) {
  uint64_t b[25];
  uint64_t c[5];
  for (int round = 0; round < 24; round++) {
    // θ: each lane gets the parity of two neighbouring columns
    for (int x = 0; x < 5; x++) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; x++) {
      uint64_t d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    // ρ then π, into b
    for (int i = 0; i < 25; i++) b[i] = rotl64(a[PI_SOURCE[i]], RHO[PI_SOURCE[i]]);
    // χ, row by row
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]);
    }
    // ι
    a[0] ^= ROUND_CONSTANTS[round];
  }
}

static inline uint64_t load64_le (const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static inline void xor_byte (keccak_sponge *s, unsigned at, uint8_t v) {
  s->lanes[at / 8] ^= (uint64_t)v << (8 * (at % 8));
}

void keccak_init (keccak_sponge *s, unsigned rate) {
  memset(s->lanes, 0, sizeof s->lanes);
  s->rate = rate;
  s->pos = 0;
}

void keccak_absorb (keccak_sponge *s, const uint8_t *in, size_t n) {
  while (n > 0) {
    if (s->pos % 8 == 0 && n >= 8) {
      // whole lanes while aligned: the bulk of H(ek) and J(z ‖ c)
      while (n >= 8 && s->pos < s->rate) {
        s->lanes[s->pos / 8] ^= load64_le(in);
        s->pos += 8;
        in += 8;
        n -= 8;
      }
    } else {
      xor_byte(s, s->pos++, *in++);
      n--;
    }
    if (s->pos == s->rate) {
      keccak_f1600(s->lanes);
      s->pos = 0;
    }
  }
}

void keccak_finish (keccak_sponge *s, uint8_t domain) {
  xor_byte(s, s->pos, domain);
  xor_byte(s, s->rate - 1, 0x80);
  keccak_f1600(s->lanes);
  s->pos = 0;
}

void keccak_squeeze (keccak_sponge *s, uint8_t *out, size_t n) {
  while (n > 0) {
    if (s->pos == s->rate) {
      keccak_f1600(s->lanes);
      s->pos = 0;
    }
    unsigned at = s->pos;
    out[0] = (uint8_t)(s->lanes[at / 8] >> (8 * (at % 8)));
    s->pos++;
    out++;
    n--;
  }
}

static void hash2 (unsigned rate, uint8_t domain, uint8_t *out, size_t outn,
                   const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  keccak_sponge s;
  keccak_init(&s, rate);
  keccak_absorb(&s, a, an);
  keccak_absorb(&s, b, bn);
  keccak_finish(&s, domain);
  keccak_squeeze(&s, out, outn);
  secure_wipe(&s, sizeof s);
}

void sha3_256 (uint8_t out[32], const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  hash2(SHA3_256_RATE, 0x06, out, 32, a, an, b, bn);
}

void sha3_512 (uint8_t out[64], const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  hash2(SHA3_512_RATE, 0x06, out, 64, a, an, b, bn);
}

void shake256 (uint8_t *out, size_t outn, const uint8_t *a, size_t an, const uint8_t *b, size_t bn) {
  hash2(SHAKE256_RATE, 0x1f, out, outn, a, an, b, bn);
}

void secure_wipe (void *p, size_t n) {
  memset(p, 0, n);
  // the empty asm reads p and clobbers memory: the compiler must assume the zeros are used
  __asm__ __volatile__("" : : "r"(p) : "memory");
}
