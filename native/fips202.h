// SHA-3 and SHAKE (FIPS 202) for native/ml-kem768.c: Keccak-f[1600] and its sponge, written from
// FIPS 202 §3 (the step mappings θ, ρ, π, χ, ι) and §4 (the sponge), with incremental absorb and
// squeeze. See fips202.c for why this is not Node's OpenSSL.
#ifndef DMESS_FIPS202_H
#define DMESS_FIPS202_H
#include <stddef.h>
#include <stdint.h>

#define SHAKE128_RATE 168
#define SHAKE256_RATE 136
#define SHA3_256_RATE 136
#define SHA3_512_RATE 72

typedef struct {
  uint64_t lanes[25]; // A[x, y] at x + 5y, each lane little-endian (FIPS 202 §3.1.2)
  unsigned rate;      // r / 8 bytes
  unsigned pos;       // bytes absorbed into, or squeezed from, the current block
} keccak_sponge;

void keccak_init (keccak_sponge *s, unsigned rate);
void keccak_absorb (keccak_sponge *s, const uint8_t *in, size_t n);
// pads with the domain bits (0x06 for SHA-3, 0x1f for SHAKE: the suffix and pad10*1's first bit)
void keccak_finish (keccak_sponge *s, uint8_t domain);
void keccak_squeeze (keccak_sponge *s, uint8_t *out, size_t n);

void sha3_256 (uint8_t out[32], const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
void sha3_512 (uint8_t out[64], const uint8_t *a, size_t an, const uint8_t *b, size_t bn);
void shake256 (uint8_t *out, size_t outn, const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

// Overwrites n bytes with zeros in a way the compiler may not drop as a dead store.
void secure_wipe (void *p, size_t n);
#endif
