// ML-KEM-768 (FIPS 203), written from the standard: Algorithms 6–18, the §7.2 modulus check of
// an encapsulation key and the §7.3 hash check of a decapsulation key; SHA-3 and SHAKE from
// native/fips202.c. The same algorithm as src/crypto/ml-kem.ts, byte for byte (tested in
// test/crypto/ml-kem-native.test.ts and against NIST ACVP vectors).
//
// Arithmetic: every coefficient is kept in [0, q), each product reduced with a Barrett
// reduction (a multiplication by ⌊2^32/q⌋ and a shift, then one subtraction of q by mask).
//
// Constant time: no branch and no memory index depends on a secret. Conditional subtractions
// are masks; Compress (FIPS 203 (4.7)) divides by q with a multiplication and a shift, never a
// `/` (a division's time depends on its operands on many CPUs, the "KyberSlash" leak);
// implicit rejection compares all 1,088 bytes and selects the key by mask. The branches that
// remain read public data only: SampleNTT's rejection (on the public ρ), the §7.2 check (on the
// public ek), the §7.3 check (its outcome says only that dk is corrupt). Secrets on the stack are
// wiped before return. test/crypto/ml-kem-constant-time.test.ts checks this under valgrind: it
// builds this file with DMESS_CT_CHECK, marks every secret input as undefined memory, and memcheck
// then reports any branch or memory index computed from one.
#include <string.h>
#include "fips202.h"
#include "ml-kem768.h"

#ifdef DMESS_CT_CHECK
#include <valgrind/memcheck.h>
// ρ comes out of G(d ‖ k) with the secret σ but is published in ek: from here on it is public
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define DECLASSIFY(p, n) ((void)0)
#endif

#define N 256
#define Q 3329
#define K 3
#define DU 10
#define DV 4
#define POLY_BYTES 384                        // ByteEncode12 of one polynomial
#define PKE_DK_BYTES (POLY_BYTES * K)         // 1152
#define CT_U_BYTES (32 * DU)                  // one compressed u[i]
#define BARRETT_M 1290167u                    // ⌊2^32 / q⌋
#define COMPRESS_M 10321340u                  // ⌈2^35 / q⌉: ⌊x / q⌋ = (x · M) >> 35 for x < 2^23
#define F_INV 3303                            // 128⁻¹ mod q (Algorithm 10's final scaling)

typedef struct { uint16_t c[N]; } poly;

// ζ^BitRev7(i) mod q for i = 0..127, ζ = 17 (FIPS 203 §4.3)
static const uint16_t ZETAS[128] = {
  1, 1729, 2580, 3289, 2642, 630, 1897, 848, 1062, 1919, 193, 797, 2786, 3260, 569, 1746,
  296, 2447, 1339, 1476, 3046, 56, 2240, 1333, 1426, 2094, 535, 2882, 2393, 2879, 1974, 821,
  289, 331, 3253, 1756, 1197, 2304, 2277, 2055, 650, 1977, 2513, 632, 2865, 33, 1320, 1915,
  2319, 1435, 807, 452, 1438, 2868, 1534, 2402, 2647, 2617, 1481, 648, 2474, 3110, 1227, 910,
  17, 2761, 583, 2649, 1637, 723, 2288, 1100, 1409, 2662, 3281, 233, 756, 2156, 3015, 3050,
  1703, 1651, 2789, 1789, 1847, 952, 1461, 2687, 939, 2308, 2437, 2388, 733, 2337, 268, 641,
  1584, 2298, 2037, 3220, 375, 2549, 2090, 1645, 1063, 319, 2773, 757, 2099, 561, 2466, 2594,
  2804, 1092, 403, 1026, 1143, 2150, 2775, 886, 1722, 1212, 1874, 1029, 2110, 2935, 885, 2154
};

// γ_i = ζ^(2·BitRev7(i)+1) mod q (Algorithm 11)
static const uint16_t GAMMAS[128] = {
  17, 3312, 2761, 568, 583, 2746, 2649, 680, 1637, 1692, 723, 2606, 2288, 1041, 1100, 2229,
  1409, 1920, 2662, 667, 3281, 48, 233, 3096, 756, 2573, 2156, 1173, 3015, 314, 3050, 279,
  1703, 1626, 1651, 1678, 2789, 540, 1789, 1540, 1847, 1482, 952, 2377, 1461, 1868, 2687, 642,
  939, 2390, 2308, 1021, 2437, 892, 2388, 941, 733, 2596, 2337, 992, 268, 3061, 641, 2688,
  1584, 1745, 2298, 1031, 2037, 1292, 3220, 109, 375, 2954, 2549, 780, 2090, 1239, 1645, 1684,
  1063, 2266, 319, 3010, 2773, 556, 757, 2572, 2099, 1230, 561, 2768, 2466, 863, 2594, 735,
  2804, 525, 1092, 2237, 403, 2926, 1026, 2303, 1143, 2186, 2150, 1179, 2775, 554, 886, 2443,
  1722, 1607, 1212, 2117, 1874, 1455, 1029, 2300, 2110, 1219, 2935, 394, 885, 2444, 2154, 1175
};

// ---- arithmetic mod q, without branches ----

// a in [0, 2q) → a mod q: subtract q, add it back when that went below zero (the sign bit)
static inline uint32_t csubq (uint32_t a) {
  uint32_t r = a - Q;
  return r + (Q & (0u - (r >> 31)));
}

// x mod q for any 32-bit x: t = ⌊x · ⌊2^32/q⌋ / 2^32⌋ is ⌊x/q⌋ or one less, so x − t·q < 2q
static inline uint32_t reduce (uint32_t x) {
  uint32_t t = (uint32_t)(((uint64_t)x * BARRETT_M) >> 32);
  return csubq(x - t * Q);
}

static inline uint32_t mulq (uint32_t a, uint32_t b) { return reduce(a * b); }

// ---- NTT (Algorithms 9–12) ----

static void ntt (poly *f) {
  unsigned k = 1;
  for (unsigned len = 128; len >= 2; len >>= 1) {
    for (unsigned start = 0; start < N; start += 2 * len) {
      uint32_t zeta = ZETAS[k++];
      for (unsigned j = start; j < start + len; j++) {
        uint32_t t = mulq(zeta, f->c[j + len]);
        uint32_t a = f->c[j];
        f->c[j + len] = (uint16_t)csubq(a + Q - t);
        f->c[j] = (uint16_t)csubq(a + t);
      }
    }
  }
}

static void ntt_inverse (poly *f) {
  unsigned k = 127;
  for (unsigned len = 2; len <= 128; len <<= 1) {
    for (unsigned start = 0; start < N; start += 2 * len) {
      uint32_t zeta = ZETAS[k--];
      for (unsigned j = start; j < start + len; j++) {
        uint32_t t = f->c[j];
        uint32_t b = f->c[j + len];
        f->c[j] = (uint16_t)csubq(t + b);
        f->c[j + len] = (uint16_t)mulq(zeta, b + Q - t);
      }
    }
  }
  for (unsigned j = 0; j < N; j++) f->c[j] = (uint16_t)mulq(f->c[j], F_INV);
}

// acc += f ∘ g (Algorithms 11 and 12) without reducing: each call adds < 2q² per coefficient,
// so K of them stay below 2^32; reduce_acc brings the sum back into [0, q).
static void mul_acc (uint32_t acc[N], const poly *f, const poly *g) {
  for (unsigned i = 0; i < 128; i++) {
    uint32_t a0 = f->c[2 * i], a1 = f->c[2 * i + 1];
    uint32_t b0 = g->c[2 * i], b1 = g->c[2 * i + 1];
    acc[2 * i] += a0 * b0 + mulq(a1, b1) * GAMMAS[i];
    acc[2 * i + 1] += a0 * b1 + a1 * b0;
  }
}

static void reduce_acc (poly *out, uint32_t acc[N]) {
  for (unsigned j = 0; j < N; j++) out->c[j] = (uint16_t)reduce(acc[j]);
}

static void poly_add (poly *f, const poly *g) {
  for (unsigned j = 0; j < N; j++) f->c[j] = (uint16_t)csubq((uint32_t)f->c[j] + g->c[j]);
}

// ---- sampling (Algorithms 7 and 8) ----

// SampleNTT(ρ ‖ x ‖ y) on SHAKE128, squeezed a block at a time until 256 values are accepted.
// ρ is public: the rejection branches leak nothing secret.
static void sample_ntt (poly *a, const uint8_t rho[32], uint8_t x, uint8_t y) {
  keccak_sponge s;
  uint8_t xy[2] = { x, y };
  uint8_t block[SHAKE128_RATE];
  keccak_init(&s, SHAKE128_RATE);
  keccak_absorb(&s, rho, 32);
  keccak_absorb(&s, xy, 2);
  keccak_finish(&s, 0x1f);
  unsigned j = 0;
  while (j < N) {
    keccak_squeeze(&s, block, sizeof block);
    for (unsigned i = 0; i + 3 <= sizeof block && j < N; i += 3) {
      uint32_t d1 = block[i] | ((uint32_t)(block[i + 1] & 0x0f) << 8);
      uint32_t d2 = (block[i + 1] >> 4) | ((uint32_t)block[i + 2] << 4);
      if (d1 < Q) a->c[j++] = (uint16_t)d1;
      if (d2 < Q && j < N) a->c[j++] = (uint16_t)d2;
    }
  }
}

// SamplePolyCBD_2 on PRF_2(s, b) = SHAKE256(s ‖ b, 128 bytes): a coefficient is x − y, each a
// sum of two bits, taken mod q by adding q under the sign mask
static void sample_cbd2 (poly *f, const uint8_t s[32], uint8_t b) {
  uint8_t bytes[128];
  shake256(bytes, sizeof bytes, s, 32, &b, 1);
  for (unsigned i = 0; i < 128; i++) {
    uint32_t t = bytes[i];
    for (unsigned h = 0; h < 2; h++, t >>= 4) {
      int32_t x = (int32_t)((t & 1) + ((t >> 1) & 1));
      int32_t y = (int32_t)(((t >> 2) & 1) + ((t >> 3) & 1));
      int32_t d = x - y;
      f->c[2 * i + h] = (uint16_t)(d + (Q & (d >> 31)));
    }
  }
  secure_wipe(bytes, sizeof bytes);
}

// ---- encoding and compression (Algorithms 5, 6; (4.7), (4.8)) ----

// ByteEncode_d of d-bit values, little-endian bit order
static void encode (uint8_t *out, const poly *f, unsigned d) {
  uint32_t acc = 0;
  unsigned bits = 0;
  for (unsigned i = 0; i < N; i++) {
    acc |= (uint32_t)f->c[i] << bits;
    bits += d;
    while (bits >= 8) {
      *out++ = (uint8_t)acc;
      acc >>= 8;
      bits -= 8;
    }
  }
}

// ByteDecode_d; for d = 12 each value (< 4096 < 2q) is taken mod q by csubq
static void decode (poly *f, const uint8_t *in, unsigned d) {
  uint32_t acc = 0;
  unsigned bits = 0;
  uint32_t mask = (1u << d) - 1;
  for (unsigned i = 0; i < N; i++) {
    while (bits < d) {
      acc |= (uint32_t)*in++ << bits;
      bits += 8;
    }
    uint32_t v = acc & mask;
    f->c[i] = (uint16_t)(d == 12 ? csubq(v) : v);
    acc >>= d;
    bits -= d;
  }
}

// Compress_d(x) = ⌈(2^d / q) · x⌋ mod 2^d = ⌊(2^d · x + ⌊q/2⌋) / q⌋ mod 2^d (q is odd: no ties).
// The division is a multiplication by ⌈2^35/q⌉ and a shift, exact for numerators below 2^23
// (d ≤ 11; checked for every x < q and d ∈ {1, 4, 10, 11} when this file was written).
static void compress (poly *f, unsigned d) {
  uint32_t mask = (1u << d) - 1;
  for (unsigned i = 0; i < N; i++) {
    uint64_t n = ((uint64_t)f->c[i] << d) + (Q >> 1);
    f->c[i] = (uint16_t)((uint32_t)((n * COMPRESS_M) >> 35) & mask);
  }
}

// Decompress_d(y) = ⌈(q / 2^d) · y⌋ = ⌊(q · y + 2^(d−1)) / 2^d⌋
static void decompress (poly *f, unsigned d) {
  for (unsigned i = 0; i < N; i++) f->c[i] = (uint16_t)(((uint32_t)f->c[i] * Q + (1u << (d - 1))) >> d);
}

// ---- K-PKE (Algorithms 13–15) ----

// K-PKE.KeyGen(d): ek_PKE into ek, dk_PKE into dk_pke
static void pke_keygen (uint8_t ek[MLKEM768_EK_BYTES], uint8_t dk_pke[PKE_DK_BYTES], const uint8_t d[32]) {
  uint8_t g[64];
  uint8_t k = K;
  sha3_512(g, d, 32, &k, 1); // (ρ, σ) = G(d ‖ k)
  const uint8_t *rho = g, *sigma = g + 32;
  DECLASSIFY(rho, 32);
  poly s[K], e, a, t;
  uint32_t acc[N];
  for (unsigned i = 0; i < K; i++) {
    sample_cbd2(&s[i], sigma, (uint8_t)i);
    ntt(&s[i]);
  }
  for (unsigned i = 0; i < K; i++) {
    memset(acc, 0, sizeof acc);
    for (unsigned j = 0; j < K; j++) {
      sample_ntt(&a, rho, (uint8_t)j, (uint8_t)i); // Â[i][j] = SampleNTT(ρ ‖ j ‖ i)
      mul_acc(acc, &a, &s[j]);
    }
    reduce_acc(&t, acc);
    sample_cbd2(&e, sigma, (uint8_t)(K + i));
    ntt(&e);
    poly_add(&t, &e);
    encode(ek + POLY_BYTES * i, &t, 12);
    encode(dk_pke + POLY_BYTES * i, &s[i], 12);
  }
  memcpy(ek + PKE_DK_BYTES, rho, 32);
  secure_wipe(g, sizeof g);
  secure_wipe(s, sizeof s);
  secure_wipe(&e, sizeof e);
  secure_wipe(&t, sizeof t);
  secure_wipe(acc, sizeof acc);
}

// K-PKE.Encrypt(ek, m, r) into c
static void pke_encrypt (uint8_t c[MLKEM768_CT_BYTES], const uint8_t ek[MLKEM768_EK_BYTES],
                         const uint8_t m[32], const uint8_t r[32]) {
  const uint8_t *rho = ek + PKE_DK_BYTES;
  poly y[K], e, a, u;
  uint32_t acc[N];
  for (unsigned i = 0; i < K; i++) {
    sample_cbd2(&y[i], r, (uint8_t)i);
    ntt(&y[i]);
  }
  for (unsigned i = 0; i < K; i++) {
    memset(acc, 0, sizeof acc);
    for (unsigned j = 0; j < K; j++) {
      sample_ntt(&a, rho, (uint8_t)i, (uint8_t)j); // (Âᵀ)[i][j] = Â[j][i] = SampleNTT(ρ ‖ i ‖ j)
      mul_acc(acc, &a, &y[j]);
    }
    reduce_acc(&u, acc);
    ntt_inverse(&u);
    sample_cbd2(&e, r, (uint8_t)(K + i));
    poly_add(&u, &e);
    compress(&u, DU);
    encode(c + CT_U_BYTES * i, &u, DU);
  }
  memset(acc, 0, sizeof acc);
  for (unsigned i = 0; i < K; i++) {
    decode(&a, ek + POLY_BYTES * i, 12);
    mul_acc(acc, &a, &y[i]);
  }
  poly v;
  reduce_acc(&v, acc);
  ntt_inverse(&v);
  sample_cbd2(&e, r, (uint8_t)(2 * K));
  poly_add(&v, &e);
  decode(&e, m, 1);
  decompress(&e, 1); // μ: each bit of m becomes 0 or (q+1)/2, by arithmetic, not a branch
  poly_add(&v, &e);
  compress(&v, DV);
  encode(c + CT_U_BYTES * K, &v, DV);
  secure_wipe(y, sizeof y);
  secure_wipe(&e, sizeof e);
  secure_wipe(&u, sizeof u);
  secure_wipe(&v, sizeof v);
  secure_wipe(acc, sizeof acc);
}

// K-PKE.Decrypt(dk_PKE, c) into m
static void pke_decrypt (uint8_t m[32], const uint8_t dk_pke[PKE_DK_BYTES], const uint8_t c[MLKEM768_CT_BYTES]) {
  poly u, s, w, v;
  uint32_t acc[N];
  memset(acc, 0, sizeof acc);
  for (unsigned i = 0; i < K; i++) {
    decode(&u, c + CT_U_BYTES * i, DU);
    decompress(&u, DU);
    ntt(&u);
    decode(&s, dk_pke + POLY_BYTES * i, 12);
    mul_acc(acc, &s, &u);
  }
  reduce_acc(&w, acc);
  ntt_inverse(&w);
  decode(&v, c + CT_U_BYTES * K, DV);
  decompress(&v, DV);
  for (unsigned j = 0; j < N; j++) v.c[j] = (uint16_t)csubq((uint32_t)v.c[j] + Q - w.c[j]);
  compress(&v, 1);
  encode(m, &v, 1);
  secure_wipe(&s, sizeof s);
  secure_wipe(&w, sizeof w);
  secure_wipe(&v, sizeof v);
  secure_wipe(acc, sizeof acc);
}

// ---- ML-KEM (Algorithms 16–18, §7.2, §7.3) ----

void mlkem768_keygen (uint8_t ek[MLKEM768_EK_BYTES], uint8_t dk[MLKEM768_DK_BYTES],
                      const uint8_t seed[MLKEM768_SEED_BYTES]) {
  // dk = dk_PKE ‖ ek ‖ H(ek) ‖ z
  pke_keygen(ek, dk, seed);
  memcpy(dk + PKE_DK_BYTES, ek, MLKEM768_EK_BYTES);
  sha3_256(dk + PKE_DK_BYTES + MLKEM768_EK_BYTES, ek, MLKEM768_EK_BYTES, NULL, 0);
  memcpy(dk + PKE_DK_BYTES + MLKEM768_EK_BYTES + 32, seed + 32, 32);
}

// §7.2: ByteEncode12(ByteDecode12(t̂)) = t̂, i.e. every 12-bit value is below q (ek is public)
static int ek_modulus_ok (const uint8_t ek[MLKEM768_EK_BYTES]) {
  for (unsigned i = 0; i < PKE_DK_BYTES; i += 3) {
    uint32_t d1 = ek[i] | ((uint32_t)(ek[i + 1] & 0x0f) << 8);
    uint32_t d2 = (ek[i + 1] >> 4) | ((uint32_t)ek[i + 2] << 4);
    if (d1 >= Q || d2 >= Q) return 0;
  }
  return 1;
}

int mlkem768_encaps (uint8_t ct[MLKEM768_CT_BYTES], uint8_t ss[MLKEM768_SS_BYTES],
                     const uint8_t ek[MLKEM768_EK_BYTES], const uint8_t m[MLKEM768_MSG_BYTES]) {
  if (!ek_modulus_ok(ek)) return -1;
  uint8_t h[32], kr[64];
  sha3_256(h, ek, MLKEM768_EK_BYTES, NULL, 0);
  sha3_512(kr, m, 32, h, 32); // (K, r) = G(m ‖ H(ek))
  pke_encrypt(ct, ek, m, kr + 32);
  memcpy(ss, kr, 32);
  secure_wipe(kr, sizeof kr);
  return 0;
}

// 0xff when a and b (n bytes) are equal, else 0, reading every byte whatever they hold
static uint8_t equal_mask (const uint8_t *a, const uint8_t *b, size_t n) {
  uint32_t diff = 0;
  for (size_t i = 0; i < n; i++) diff |= (uint32_t)(a[i] ^ b[i]);
  uint32_t mask = 0u - ((diff - 1) >> 31); // diff = 0 → (0 − 1) >> 31 = 1 → all ones
  // an empty asm the optimiser cannot see through, so it does not turn the select into a branch
  __asm__("" : "+r"(mask));
  return (uint8_t)mask;
}

int mlkem768_decaps (uint8_t ss[MLKEM768_SS_BYTES], const uint8_t ct[MLKEM768_CT_BYTES],
                     const uint8_t dk[MLKEM768_DK_BYTES]) {
  const uint8_t *dk_pke = dk;
  const uint8_t *ek = dk + PKE_DK_BYTES;
  const uint8_t *h = ek + MLKEM768_EK_BYTES;
  const uint8_t *z = h + 32;
  uint8_t hash[32], m[32], kr[64], k_bar[32], ct2[MLKEM768_CT_BYTES];
  // §7.3: H(ek) must be the h stored beside it (compared in constant time all the same)
  sha3_256(hash, ek, MLKEM768_EK_BYTES, NULL, 0);
  if (equal_mask(hash, h, 32) == 0) return -1;
  pke_decrypt(m, dk_pke, ct);
  sha3_512(kr, m, 32, h, 32);        // (K', r') = G(m' ‖ h)
  shake256(k_bar, 32, z, 32, ct, MLKEM768_CT_BYTES); // K̄ = J(z ‖ c)
  pke_encrypt(ct2, ek, m, kr + 32);
  uint8_t keep = equal_mask(ct, ct2, MLKEM768_CT_BYTES);
  for (unsigned i = 0; i < 32; i++) ss[i] = (uint8_t)((kr[i] & keep) | (k_bar[i] & (uint8_t)~keep));
  secure_wipe(m, sizeof m);
  secure_wipe(kr, sizeof kr);
  secure_wipe(k_bar, sizeof k_bar);
  secure_wipe(ct2, sizeof ct2);
  return 0;
}
