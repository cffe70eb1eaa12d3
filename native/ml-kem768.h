// ML-KEM-768 (FIPS 203) in C: the deterministic internal functions, randomness passed in as in
// src/crypto/ml-kem.ts (FIPS 203 Algorithms 16 and 17 take d ‖ z and m). No N-API here; the
// JavaScript calls are in native/ml-kem768-napi.c.
#ifndef DMESS_ML_KEM768_H
#define DMESS_ML_KEM768_H
#include <stdint.h>

#define MLKEM768_EK_BYTES 1184
#define MLKEM768_DK_BYTES 2400
#define MLKEM768_CT_BYTES 1088
#define MLKEM768_SEED_BYTES 64
#define MLKEM768_MSG_BYTES 32
#define MLKEM768_SS_BYTES 32

// ML-KEM.KeyGen_internal(d, z) (Algorithm 16), seed = d ‖ z.
void mlkem768_keygen (uint8_t ek[MLKEM768_EK_BYTES], uint8_t dk[MLKEM768_DK_BYTES],
                      const uint8_t seed[MLKEM768_SEED_BYTES]);

// The FIPS 203 §7.2 modulus check, then ML-KEM.Encaps_internal(ek, m) (Algorithm 17).
// Returns 0, or -1 (outputs untouched) when ek fails the check.
int mlkem768_encaps (uint8_t ct[MLKEM768_CT_BYTES], uint8_t ss[MLKEM768_SS_BYTES],
                     const uint8_t ek[MLKEM768_EK_BYTES], const uint8_t m[MLKEM768_MSG_BYTES]);

// The FIPS 203 §7.3 hash check of dk, then ML-KEM.Decaps_internal(dk, c) (Algorithm 18, with
// implicit rejection). Returns 0, or -1 (ss untouched) when dk fails the check.
int mlkem768_decaps (uint8_t ss[MLKEM768_SS_BYTES], const uint8_t ct[MLKEM768_CT_BYTES],
                     const uint8_t dk[MLKEM768_DK_BYTES]);
#endif
