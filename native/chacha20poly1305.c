// ChaCha20-Poly1305 (RFC 8439) through the OpenSSL that node:crypto itself uses: Node's binary
// exports its bundled OpenSSL to addons, so this is the same implementation, the same
// construction and byte-identical output, called without node:crypto's per-call set-up.
//
// Why: `createCipheriv` builds and frees a cipher context per call (OpenSSL 3 fetches the
// algorithm anew for each one), ~8-10 us per 1 KiB packet against ~1 us here, and four such
// calls are half of a ping-pong round trip (docs/performance.md §6). Here each direction
// has one context, fetched once per JavaScript environment and re-keyed per call.
//
// HMAC-SHA-256 (RFC 2104) rides along for the same reason: createHmac builds a context per call
// (~5 us here, and node's hkdfSync a KeyObject too, ~20 us), and the Double Ratchet's KDF_CK, its
// message-key HKDF and the store's key tags are several HMACs of a few bytes per message
// (docs/performance.md §11). Here one digest context is fetched once and reused.
//
// ML-KEM-768 (native/ml-kem768.c) shares this addon, so one dlopen serves both: its calls are
// added to the exports below (native/ml-kem768-napi.c).
//
// The JavaScript side is src/crypto/native-aead.ts; it falls back to node:crypto when this addon
// is not built. Every argument is checked here, not only in JavaScript: a wrong length or type
// throws, it never reads or writes outside the caller's arrays.
#define NAPI_VERSION 8
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "ml-kem768-napi.h"

#define KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define SHA256_BYTES 32
#define SHA256_BLOCK_BYTES 64
// Bumped whenever the JavaScript-facing calls change, so a stale build is refused, not misused.
#define ABI_VERSION 4

typedef struct {
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *seal;
  EVP_CIPHER_CTX *open;
  EVP_MD *sha256;
  EVP_MD_CTX *digest;
} aead_state;

typedef struct {
  uint8_t *p;
  size_t n;
} span;

static void free_state (napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  aead_state *s = data;
  // EVP_CIPHER_CTX_free cleanses the context, and with it the last key used
  EVP_CIPHER_CTX_free(s->seal);
  EVP_CIPHER_CTX_free(s->open);
  EVP_CIPHER_free(s->cipher);
  EVP_MD_CTX_free(s->digest);
  EVP_MD_free(s->sha256);
  free(s);
}

// A Uint8Array (any view of one) → its bytes. napi_get_typedarray_info refuses anything that is
// not a typed array, so no separate type query is needed: each N-API or OpenSSL symbol this
// file calls is one more lookup in Node's 75,000 exported symbols at load, and those pages count
// in the process's RSS (docs/performance.md §6).
static int read_bytes (napi_env env, napi_value v, span *out) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void *data;
  // `data` is already adjusted by the view's byte offset (node_api.h)
  if (napi_get_typedarray_info(env, v, &type, &out->n, &data, &buffer, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array || out->n > INT_MAX) return 0;
  out->p = data;
  return 1;
}

// Output may be the input itself (in place) or apart from it; a partial overlap would have
// the cipher overwrite input it has not read yet.
static int overlaps_badly (span a, span b) {
  if (a.n == 0 || b.n == 0 || a.p == b.p) return 0;
  return a.p < b.p + b.n && b.p < a.p + a.n;
}

// Reads (key, nonce, aad, input, output) and checks every size: output = input ± the tag.
static aead_state *read_args (napi_env env, napi_callback_info info, span *key, span *nonce,
                              span *aad, span *in, span *out, int sealing) {
  size_t argc = 5;
  napi_value argv[5];
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) return NULL;
  if (argc != 5 || !read_bytes(env, argv[0], key) || !read_bytes(env, argv[1], nonce) ||
      !read_bytes(env, argv[2], aad) || !read_bytes(env, argv[3], in) || !read_bytes(env, argv[4], out)) {
    napi_throw_type_error(env, "ERR_DMESS_AEAD_ARGS", "expected (key, nonce, aad, input, output) as Uint8Arrays");
    return NULL;
  }
  int sizes_ok = key->n == KEY_BYTES && nonce->n == NONCE_BYTES &&
    (sealing ? in->n <= (size_t)INT_MAX - TAG_BYTES && out->n == in->n + TAG_BYTES
             : in->n >= TAG_BYTES && out->n == in->n - TAG_BYTES);
  if (!sizes_ok) {
    napi_throw_range_error(env, "ERR_DMESS_AEAD_ARGS", "key must be 32 bytes, nonce 12, output = input + 16 (seal) or input - 16 (open)");
    return NULL;
  }
  span body = { in->p, sealing ? in->n : in->n - TAG_BYTES };
  if (overlaps_badly(body, *out)) {
    napi_throw_range_error(env, "ERR_DMESS_AEAD_ARGS", "output overlaps the input without being the same bytes");
    return NULL;
  }
  return data;
}

// Re-keys the kept context for one message and feeds it the AAD (RFC 8439 §2.8: AAD first).
// `tag` is NULL to seal; to open, the tag the ciphertext must match.
static int begin (EVP_CIPHER_CTX *c, span key, span nonce, span aad, uint8_t *tag) {
  int len = 0;
  return EVP_CipherInit_ex(c, NULL, NULL, key.p, nonce.p, tag == NULL) == 1 &&
    (tag == NULL || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag) == 1) &&
    (aad.n == 0 || EVP_CipherUpdate(c, NULL, &len, aad.p, (int)aad.n) == 1);
}

// Then the n message bytes, in → out, and the final step, which checks the tag when opening
// (in constant time, inside OpenSSL).
static int finish (EVP_CIPHER_CTX *c, const uint8_t *in, uint8_t *out, size_t n) {
  int len = 0;
  return (n == 0 || EVP_CipherUpdate(c, out, &len, in, (int)n) == 1) && EVP_CipherFinal_ex(c, out + n, &len) == 1;
}

// seal(key, nonce, aad, plaintext, out): out = ciphertext ‖ tag (RFC 8439 §2.8); aad may be empty
static napi_value aead_seal (napi_env env, napi_callback_info info) {
  span key, nonce, aad, pt, out;
  aead_state *s = read_args(env, info, &key, &nonce, &aad, &pt, &out, 1);
  if (s == NULL) return NULL;
  int ok = begin(s->seal, key, nonce, aad, NULL) && finish(s->seal, pt.p, out.p, pt.n) &&
    EVP_CIPHER_CTX_ctrl(s->seal, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, out.p + pt.n) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.p, out.n);
    napi_throw_error(env, "ERR_DMESS_AEAD", "chacha20-poly1305 seal failed inside OpenSSL");
  }
  return NULL;
}

// open(key, nonce, aad, sealed, out) → true with the plaintext in out, or false (out zeroed)
static napi_value aead_open (napi_env env, napi_callback_info info) {
  span key, nonce, aad, ct, out;
  aead_state *s = read_args(env, info, &key, &nonce, &aad, &ct, &out, 0);
  if (s == NULL) return NULL;
  // copy the tag first: an in-place open must not lose it (it lies past the plaintext anyway)
  uint8_t tag[TAG_BYTES];
  for (int i = 0; i < TAG_BYTES; i++) tag[i] = ct.p[out.n + i];
  int ok = begin(s->open, key, nonce, aad, tag) && finish(s->open, ct.p, out.p, out.n);
  // OpenSSL writes the plaintext before it checks the tag: none of it may reach the caller
  if (!ok) OPENSSL_cleanse(out.p, out.n);
  napi_value result;
  if (napi_get_boolean(env, ok, &result) != napi_ok) return NULL;
  return result;
}

// SHA-256 over up to two parts into out (32 bytes), on the kept context.
static int sha256_into (aead_state *s, const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t *out) {
  unsigned int len = 0;
  return EVP_DigestInit_ex(s->digest, s->sha256, NULL) == 1 && EVP_DigestUpdate(s->digest, a, an) == 1 &&
    (bn == 0 || EVP_DigestUpdate(s->digest, b, bn) == 1) && EVP_DigestFinal_ex(s->digest, out, &len) == 1 &&
    len == SHA256_BYTES;
}

// RFC 2104: H(K ^ opad ‖ H(K ^ ipad ‖ data)), K the key zero-padded to the block (hashed first if longer).
static int hmac_sha256 (aead_state *s, span key, span data, uint8_t *out) {
  uint8_t k[SHA256_BLOCK_BYTES] = { 0 };
  uint8_t pad[SHA256_BLOCK_BYTES];
  uint8_t inner[SHA256_BYTES];
  int ok = 1;
  if (key.n > SHA256_BLOCK_BYTES) ok = sha256_into(s, key.p, key.n, NULL, 0, k);
  else if (key.n > 0) memcpy(k, key.p, key.n);
  for (int i = 0; i < SHA256_BLOCK_BYTES; i++) pad[i] = k[i] ^ 0x36;
  ok = ok && sha256_into(s, pad, SHA256_BLOCK_BYTES, data.p, data.n, inner);
  for (int i = 0; i < SHA256_BLOCK_BYTES; i++) pad[i] = k[i] ^ 0x5c;
  ok = ok && sha256_into(s, pad, SHA256_BLOCK_BYTES, inner, SHA256_BYTES, out);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  return ok;
}

// hmacSha256(key, data, out): out (32 bytes) = HMAC-SHA-256(key, data); key and data may be empty
static napi_value mac_hmac_sha256 (napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *data;
  span key, msg, out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok) return NULL;
  if (argc != 3 || !read_bytes(env, argv[0], &key) || !read_bytes(env, argv[1], &msg) || !read_bytes(env, argv[2], &out)) {
    napi_throw_type_error(env, "ERR_DMESS_HMAC_ARGS", "expected (key, data, output) as Uint8Arrays");
    return NULL;
  }
  if (out.n != SHA256_BYTES) {
    napi_throw_range_error(env, "ERR_DMESS_HMAC_ARGS", "output must be 32 bytes");
    return NULL;
  }
  if (!hmac_sha256(data, key, msg, out.p)) {
    OPENSSL_cleanse(out.p, out.n);
    napi_throw_error(env, "ERR_DMESS_HMAC", "hmac-sha256 failed inside OpenSSL");
  }
  return NULL;
}

static int export_function (napi_env env, napi_value exports, const char *name, napi_callback fn, aead_state *s) {
  napi_value f;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, s, &f) == napi_ok &&
    napi_set_named_property(env, exports, name, f) == napi_ok;
}

NAPI_MODULE_INIT () {
  aead_state *s = calloc(1, sizeof *s);
  if (s == NULL) {
    napi_throw_error(env, "ERR_DMESS_AEAD", "out of memory");
    return NULL;
  }
  // An explicit fetch, once: what makes each call cheap (OpenSSL 3 "implicit fetch" costs a
  // provider lookup per context)
  s->cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
  s->seal = EVP_CIPHER_CTX_new();
  s->open = EVP_CIPHER_CTX_new();
  s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
  s->digest = EVP_MD_CTX_new();
  int ready = s->cipher != NULL && s->seal != NULL && s->open != NULL && s->sha256 != NULL && s->digest != NULL &&
    EVP_CipherInit_ex(s->seal, s->cipher, NULL, NULL, NULL, 1) == 1 &&
    EVP_CipherInit_ex(s->open, s->cipher, NULL, NULL, NULL, 0) == 1 &&
    EVP_CIPHER_CTX_ctrl(s->seal, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
    EVP_CIPHER_CTX_ctrl(s->open, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, NULL) == 1;
  if (!ready) {
    free_state(env, s, NULL);
    napi_throw_error(env, "ERR_DMESS_AEAD", "this OpenSSL offers no ChaCha20-Poly1305 or SHA-256");
    return NULL;
  }
  if (napi_set_instance_data(env, s, free_state, NULL) != napi_ok) {
    free_state(env, s, NULL);
    return NULL;
  }
  napi_value abi;
  if (!export_function(env, exports, "seal", aead_seal, s) || !export_function(env, exports, "open", aead_open, s) ||
      !export_function(env, exports, "hmacSha256", mac_hmac_sha256, s) || !mlkem768_export(env, exports) ||
      napi_create_uint32(env, ABI_VERSION, &abi) != napi_ok ||
      napi_set_named_property(env, exports, "abi", abi) != napi_ok) return NULL;
  return exports;
}
