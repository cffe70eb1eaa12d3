# The one native addon: ChaCha20-Poly1305 through Node's own OpenSSL (native/chacha20poly1305.c).
# Built by scripts/build-native.mjs on install; optional: without it dmess uses node:crypto.
{
  "targets": [
    {
      "target_name": "dmess_chacha20poly1305",
      "sources": ["native/chacha20poly1305.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
