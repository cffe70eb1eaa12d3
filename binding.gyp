# The one native addon: ChaCha20-Poly1305 and HMAC-SHA-256 through Node's own OpenSSL
# (native/chacha20poly1305.c) and ML-KEM-768 (native/ml-kem768.c over native/fips202.c).
# Built by scripts/build-native.mjs on install; optional: without it dmess uses node:crypto.
{
  "targets": [
    {
      "target_name": "dmess_chacha20poly1305",
      "sources": ["native/chacha20poly1305.c", "native/ml-kem768-napi.c", "native/ml-kem768.c", "native/fips202.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
