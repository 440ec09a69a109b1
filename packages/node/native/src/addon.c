/*
 * Node-API surface of the batch hasher. Every call hashes a whole batch, so
 * the JS <-> C++ crossing (~2 us, more than the hash itself) is paid once per
 * tree level instead of once per node.
 *
 *   leafHashes(data: Uint8Array, offsets: Uint32Array): Buffer   RFC 6962 SHA256(0x00 || d_i)
 *   nodeHashes(children: Uint8Array): Buffer                     RFC 6962 SHA256(0x01 || l || r)
 *   implementation(): string            SIMD flavour in use
 *   implementations(): string[]         flavours this CPU runs, fastest first
 *   setImplementation(name): boolean    for tests and benchmarks
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <string.h>

#include "sha256_batch.h"

static const sha256_impl *g_impls[8];
static size_t g_nimpls;
static const sha256_impl *g_impl;

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), "ERR_NAPI", "Node-API call failed"); \
      return NULL;                                            \
    }                                                         \
  } while (0)

/* Accepts only the typed array kind asked for; Buffer counts as Uint8Array. */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **ptr, size_t *count,
                     const char *what) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return 0;
  }
  napi_typedarray_type type;
  napi_value ab;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, v, &type, count, ptr, &ab, &byte_offset) != napi_ok || type != want) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return 0;
  }
  return 1;
}

static napi_value leaf_hashes(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "leafHashes(data, offsets) needs two arguments");
    return NULL;
  }
  void *data_ptr = NULL, *off_ptr = NULL;
  size_t data_len = 0, off_count = 0;
  if (!get_typed(env, argv[0], napi_uint8_array, &data_ptr, &data_len, "data must be a Uint8Array")) return NULL;
  if (!get_typed(env, argv[1], napi_uint32_array, &off_ptr, &off_count, "offsets must be a Uint32Array")) return NULL;
  if (off_count == 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offsets must hold n + 1 entries");
    return NULL;
  }
  const uint32_t *off = (const uint32_t *)off_ptr;
  const size_t n = off_count - 1;
  /* Offsets come from the caller: check every one before any read of data. */
  for (size_t k = 0; k < n; k++) {
    if (off[k] > off[k + 1]) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offsets must be non-decreasing");
      return NULL;
    }
  }
  if (off[n] > data_len) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "offsets point past the end of data");
    return NULL;
  }
  void *out_ptr = NULL;
  napi_value result;
  CHECK(env, napi_create_buffer(env, n * 32, &out_ptr, &result));
  if (n > 0) sha256_batch_prefixed(g_impl, 0x00, (const uint8_t *)data_ptr, off, 0, n, (uint8_t *)out_ptr);
  return result;
}

static napi_value node_hashes(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "nodeHashes(children) needs one argument");
    return NULL;
  }
  void *data_ptr = NULL;
  size_t data_len = 0;
  if (!get_typed(env, argv[0], napi_uint8_array, &data_ptr, &data_len, "children must be a Uint8Array")) return NULL;
  if (data_len % 64 != 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "children must be a multiple of 64 bytes (pairs of 32-byte hashes)");
    return NULL;
  }
  const size_t n = data_len / 64;
  void *out_ptr = NULL;
  napi_value result;
  CHECK(env, napi_create_buffer(env, n * 32, &out_ptr, &result));
  if (n > 0) sha256_batch_prefixed(g_impl, 0x01, (const uint8_t *)data_ptr, NULL, 64, n, (uint8_t *)out_ptr);
  return result;
}

static napi_value implementation(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value s;
  CHECK(env, napi_create_string_utf8(env, g_impl->name, NAPI_AUTO_LENGTH, &s));
  return s;
}

static napi_value implementations(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  CHECK(env, napi_create_array_with_length(env, g_nimpls, &arr));
  for (size_t i = 0; i < g_nimpls; i++) {
    napi_value s;
    CHECK(env, napi_create_string_utf8(env, g_impls[i]->name, NAPI_AUTO_LENGTH, &s));
    CHECK(env, napi_set_element(env, arr, (uint32_t)i, s));
  }
  return arr;
}

static napi_value set_implementation(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[32] = {0};
  size_t len = 0;
  napi_value res;
  bool found = false;
  if (argc >= 1 && napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) == napi_ok) {
    for (size_t i = 0; i < g_nimpls; i++) {
      if (strcmp(g_impls[i]->name, name) == 0) {
        g_impl = g_impls[i];
        found = true;
      }
    }
  }
  CHECK(env, napi_get_boolean(env, found, &res));
  return res;
}

static napi_value init(napi_env env, napi_value exports) {
  if (g_impl == NULL) {
    g_nimpls = sha256_impls(g_impls, sizeof g_impls / sizeof g_impls[0]);
    g_impl = g_impls[0];
  }
  napi_property_descriptor props[] = {
      {"leafHashes", NULL, leaf_hashes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nodeHashes", NULL, node_hashes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"implementation", NULL, implementation, NULL, NULL, NULL, napi_enumerable, NULL},
      {"implementations", NULL, implementations, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setImplementation", NULL, set_implementation, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
