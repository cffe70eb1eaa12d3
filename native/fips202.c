// Keccak-f[1600] and the SHA-3 / SHAKE sponge (FIPS 202), for native/ml-kem768.c.
//
// Why not Node's OpenSSL (which has SHA3-256/512 and SHAKE128/256): OpenSSL 3.0, the one in
// Node 20, cannot squeeze a XOF incrementally (EVP_DigestSqueeze came in 3.3), so SampleNTT
// (FIPS 203 Algorithm 7) would have to guess its output length and start over when short, as
// src/crypto/ml-kem.ts does, and every hash would go through an EVP context kept per JavaScript
// environment. Measured (docs/performance.md §8.1): OpenSSL's assembly would save ~5 µs of an
// ML-KEM keygen's ~45 (SHA3-256 of 1,184 bytes 3.3 against 4.6 µs here, three SHAKE128 blocks 1.2
// against 1.6, one SHAKE256 block 0.49 against 0.55), under 1% of a ratchet step; this sponge
// keeps no state between calls, looks up no symbols at load, and no branch or memory index here
// depends on the data hashed.
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

// ρ's offset for lane x + 5y (FIPS 202 Algorithm 2: (t+1)(t+2)/2 mod 64 along its walk) and π's
// source lane for lane x + 5y (Algorithm 3: A'[x, y] = A[(x + 3y) mod 5, x]), written out in
// keccak_f1600's lines below, one lane a line:
//   RHO       = 0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14
//   PI_SOURCE = 0, 6, 12, 18, 24, 3, 9, 10, 16, 22, 1, 7, 13, 19, 20, 4, 5, 11, 17, 23, 2, 8, 14, 15, 21
// Lanes are locals, not an array indexed in loops: with every rotation a constant the compiler
// keeps them in registers and emits one rotate instruction each, ~4x faster than the loops
// (docs/performance.md §8.1).
#define ROL(v, n) (((v) << (n)) | ((v) >> ((64 - (n)) & 63)))

static void keccak_f1600 (uint64_t a[25]) {
  uint64_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5], a6 = a[6], a7 = a[7],
    a8 = a[8], a9 = a[9], a10 = a[10], a11 = a[11], a12 = a[12], a13 = a[13], a14 = a[14], a15 = a[15],
    a16 = a[16], a17 = a[17], a18 = a[18], a19 = a[19], a20 = a[20], a21 = a[21], a22 = a[22],
    a23 = a[23], a24 = a[24];
  uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19,
    b20, b21, b22, b23, b24, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (int round = 0; round < 24; round++) {
    // θ
    c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    d0 = c4 ^ ROL(c1, 1);
    d1 = c0 ^ ROL(c2, 1);
    d2 = c1 ^ ROL(c3, 1);
    d3 = c2 ^ ROL(c4, 1);
    d4 = c3 ^ ROL(c0, 1);
    // ρ and π: lane i takes lane PI_SOURCE[i], rotated by RHO[PI_SOURCE[i]]
    b0 = ROL(a0 ^ d0, 0);
    b1 = ROL(a6 ^ d1, 44);
    b2 = ROL(a12 ^ d2, 43);
    b3 = ROL(a18 ^ d3, 21);
    b4 = ROL(a24 ^ d4, 14);
    b5 = ROL(a3 ^ d3, 28);
    b6 = ROL(a9 ^ d4, 20);
    b7 = ROL(a10 ^ d0, 3);
    b8 = ROL(a16 ^ d1, 45);
    b9 = ROL(a22 ^ d2, 61);
    b10 = ROL(a1 ^ d1, 1);
    b11 = ROL(a7 ^ d2, 6);
    b12 = ROL(a13 ^ d3, 25);
    b13 = ROL(a19 ^ d4, 8);
    b14 = ROL(a20 ^ d0, 18);
    b15 = ROL(a4 ^ d4, 27);
    b16 = ROL(a5 ^ d0, 36);
    b17 = ROL(a11 ^ d1, 10);
    b18 = ROL(a17 ^ d2, 15);
    b19 = ROL(a23 ^ d3, 56);
    b20 = ROL(a2 ^ d2, 62);
    b21 = ROL(a8 ^ d3, 55);
    b22 = ROL(a14 ^ d4, 39);
    b23 = ROL(a15 ^ d0, 41);
    b24 = ROL(a21 ^ d1, 2);
    // χ
    a0 = b0 ^ (~b1 & b2);
    a1 = b1 ^ (~b2 & b3);
    a2 = b2 ^ (~b3 & b4);
    a3 = b3 ^ (~b4 & b0);
    a4 = b4 ^ (~b0 & b1);
    a5 = b5 ^ (~b6 & b7);
    a6 = b6 ^ (~b7 & b8);
    a7 = b7 ^ (~b8 & b9);
    a8 = b8 ^ (~b9 & b5);
    a9 = b9 ^ (~b5 & b6);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    // ι
    a0 ^= ROUND_CONSTANTS[round];
  }
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3; a[4] = a4; a[5] = a5; a[6] = a6; a[7] = a7; a[8] = a8;
  a[9] = a9; a[10] = a10; a[11] = a11; a[12] = a12; a[13] = a13; a[14] = a14; a[15] = a15; a[16] = a16;
  a[17] = a17; a[18] = a18; a[19] = a19; a[20] = a20; a[21] = a21; a[22] = a22; a[23] = a23; a[24] = a24;
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
    if (s->pos % 8 == 0 && n >= 8) {
      // whole lanes while aligned: SampleNTT's 168-byte blocks
      while (n >= 8 && s->pos < s->rate) {
        uint64_t v = s->lanes[s->pos / 8];
        for (int i = 0; i < 8; i++) out[i] = (uint8_t)(v >> (8 * i));
        s->pos += 8;
        out += 8;
        n -= 8;
      }
    } else {
      out[0] = (uint8_t)(s->lanes[s->pos / 8] >> (8 * (s->pos % 8)));
      s->pos++;
      out++;
      n--;
    }
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
