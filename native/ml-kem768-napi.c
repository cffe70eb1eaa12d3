// N-API calls over native/ml-kem768.c, loaded by src/crypto/native-aead.ts and used by
// src/crypto/ml-kem.ts. Every argument is checked here too: a wrong type or size throws
// (ERR_DMESS_MLKEM_ARGS) before a byte is read. Results are computed into local buffers and
// copied out at the end, so an output that overlaps an input cannot change what is read.
#include <stdint.h>
#include <string.h>
#include "fips202.h"
#include "ml-kem768.h"
#include "ml-kem768-napi.h"

typedef struct {
  uint8_t *p;
  size_t n;
} bytes;

// Reads argc Uint8Arrays of the given sizes; throws and returns 0 if the call does not fit.
static int read_args (napi_env env, napi_callback_info info, size_t argc, bytes *out, const size_t *sizes,
                      const char *usage) {
  size_t got = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &got, argv, NULL, NULL) != napi_ok) return 0;
  int typed = got == argc;
  for (size_t i = 0; typed && i < argc; i++) {
    napi_typedarray_type type;
    napi_value buffer;
    size_t offset;
    void *data;
    typed = napi_get_typedarray_info(env, argv[i], &type, &out[i].n, &data, &buffer, &offset) == napi_ok &&
      type == napi_uint8_array;
    out[i].p = data;
  }
  if (!typed) {
    napi_throw_type_error(env, "ERR_DMESS_MLKEM_ARGS", usage);
    return 0;
  }
  for (size_t i = 0; i < argc; i++) {
    if (out[i].n != sizes[i]) {
      napi_throw_range_error(env, "ERR_DMESS_MLKEM_ARGS", usage);
      return 0;
    }
  }
  return 1;
}

static napi_value boolean (napi_env env, int v) {
  napi_value result;
  return napi_get_boolean(env, v, &result) == napi_ok ? result : NULL;
}

// mlkem768Keygen(seed 64, ek out 1184, dk out 2400)
static napi_value keygen (napi_env env, napi_callback_info info) {
  static const size_t sizes[3] = { MLKEM768_SEED_BYTES, MLKEM768_EK_BYTES, MLKEM768_DK_BYTES };
  bytes a[3];
  if (!read_args(env, info, 3, a, sizes, "expected (seed 64, ek 1184, dk 2400 bytes) as Uint8Arrays")) return NULL;
  uint8_t seed[MLKEM768_SEED_BYTES], ek[MLKEM768_EK_BYTES], dk[MLKEM768_DK_BYTES];
  memcpy(seed, a[0].p, sizeof seed);
  mlkem768_keygen(ek, dk, seed);
  memcpy(a[1].p, ek, sizeof ek);
  memcpy(a[2].p, dk, sizeof dk);
  secure_wipe(seed, sizeof seed);
  secure_wipe(dk, sizeof dk);
  return NULL;
}

// mlkem768Encapsulate(ek 1184, m 32, ct out 1088, ss out 32) → false if ek fails the §7.2 check
static napi_value encapsulate (napi_env env, napi_callback_info info) {
  static const size_t sizes[4] = { MLKEM768_EK_BYTES, MLKEM768_MSG_BYTES, MLKEM768_CT_BYTES, MLKEM768_SS_BYTES };
  bytes a[4];
  if (!read_args(env, info, 4, a, sizes, "expected (ek 1184, m 32, ct 1088, ss 32 bytes) as Uint8Arrays")) return NULL;
  uint8_t ek[MLKEM768_EK_BYTES], m[MLKEM768_MSG_BYTES], ct[MLKEM768_CT_BYTES], ss[MLKEM768_SS_BYTES];
  memcpy(ek, a[0].p, sizeof ek);
  memcpy(m, a[1].p, sizeof m);
  int ok = mlkem768_encaps(ct, ss, ek, m) == 0;
  if (ok) {
    memcpy(a[2].p, ct, sizeof ct);
    memcpy(a[3].p, ss, sizeof ss);
  }
  secure_wipe(m, sizeof m);
  secure_wipe(ss, sizeof ss);
  return boolean(env, ok);
}

// mlkem768Decapsulate(ct 1088, dk 2400, ss out 32) → false if dk fails the §7.3 hash check
static napi_value decapsulate (napi_env env, napi_callback_info info) {
  static const size_t sizes[3] = { MLKEM768_CT_BYTES, MLKEM768_DK_BYTES, MLKEM768_SS_BYTES };
  bytes a[3];
  if (!read_args(env, info, 3, a, sizes, "expected (ct 1088, dk 2400, ss 32 bytes) as Uint8Arrays")) return NULL;
  uint8_t ct[MLKEM768_CT_BYTES], dk[MLKEM768_DK_BYTES], ss[MLKEM768_SS_BYTES];
  memcpy(ct, a[0].p, sizeof ct);
  memcpy(dk, a[1].p, sizeof dk);
  int ok = mlkem768_decaps(ss, ct, dk) == 0;
  if (ok) memcpy(a[2].p, ss, sizeof ss);
  secure_wipe(dk, sizeof dk);
  secure_wipe(ss, sizeof ss);
  return boolean(env, ok);
}

static int export_one (napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f) == napi_ok &&
    napi_set_named_property(env, exports, name, f) == napi_ok;
}

int mlkem768_export (napi_env env, napi_value exports) {
  return export_one(env, exports, "mlkem768Keygen", keygen) &&
    export_one(env, exports, "mlkem768Encapsulate", encapsulate) &&
    export_one(env, exports, "mlkem768Decapsulate", decapsulate);
}
