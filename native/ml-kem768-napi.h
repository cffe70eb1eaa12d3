// The JavaScript calls of native/ml-kem768.c, added to the addon's exports by
// native/chacha20poly1305.c's module init (one addon, one dlopen).
#ifndef DMESS_ML_KEM768_NAPI_H
#define DMESS_ML_KEM768_NAPI_H
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

// Adds mlkem768Keygen, mlkem768Encapsulate and mlkem768Decapsulate to exports; 0 on failure.
int mlkem768_export (napi_env env, napi_value exports);
#endif
