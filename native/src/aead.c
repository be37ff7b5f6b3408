/* Batch ChaCha20-Poly1305 (RFC 8439) in place over the buffer pool slab, shaped for
 * WireGuard transport data: the nonce is 4 zero bytes || the 8-byte little-endian counter
 * that sits in the header right before each payload, and there is no associated data.
 *
 * Uses the OpenSSL that Node links statically and exports (EVP_*), so nothing extra is
 * linked. One EVP_CIPHER_CTX per Node environment (main thread, each worker) is created
 * at load time, so a call allocates nothing. The key is set only where it differs from
 * the previous packet's (a batch is mostly runs of one keypair); the nonce per packet.
 *
 * Every argument is checked before any packet is touched; in the processing pass each
 * entry is read once and checked again, so an Int32Array on a SharedArrayBuffer that
 * another thread rewrites in between can never steer a read or write out of bounds. */
#include "addon.h"
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AEAD_KEY_LEN 32
#define AEAD_TAG_LEN 16
#define AEAD_NONCE_LEN 12
#define COUNTER_LEN 8 /* bytes of the header counter field in front of the payload */

typedef struct {
  EVP_CIPHER_CTX *ctx; /* NULL when OpenSSL could not provide ChaCha20-Poly1305 */
} aead_state;

typedef struct {
  uint8_t *slab;
  size_t slab_len;
  const int32_t *offsets;
  const int32_t *lengths;
  const uint8_t *keys;
  size_t keys_len;
  const int32_t *key_index;
  int32_t *results; /* open only */
  uint32_t count;
} batch_args;

enum { ENTRY_OK = 0, ENTRY_BAD_OFFSET, ENTRY_BAD_LENGTH, ENTRY_OUT_OF_SLAB, ENTRY_BAD_KEY };

/* tail = bytes the call writes past the payload (the tag for seal, 0 for open). */
static inline int check_entry(const batch_args *a, int32_t off, int32_t len, int32_t ki, int64_t tail) {
  if (off < COUNTER_LEN) return ENTRY_BAD_OFFSET;
  if (len < 0) return ENTRY_BAD_LENGTH;
  if ((int64_t)off + len + tail > (int64_t)a->slab_len) return ENTRY_OUT_OF_SLAB;
  if (ki < 0 || ((int64_t)ki + 1) * AEAD_KEY_LEN > (int64_t)a->keys_len) return ENTRY_BAD_KEY;
  return ENTRY_OK;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *len,
                     const char *what) {
  bool is_ta = false;
  napi_typedarray_type type;
  char msg[128];
  if (napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta &&
      napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) == napi_ok && type == want) {
    return 1;
  }
  snprintf(msg, sizeof msg, "%s must be %s", what, want == napi_uint8_array ? "a Buffer or Uint8Array" : "an Int32Array");
  throw_arg(env, msg);
  return 0;
}

/* Parses (slab, offsets, lengths, keys, keyIndex, count[, results]) and validates every
 * entry; on any problem throws and returns 0 before a byte of the slab has changed. */
static int parse_batch(napi_env env, napi_callback_info info, int with_results, int64_t tail, const char *fn,
                       batch_args *a, aead_state **state) {
  size_t argc = 7;
  napi_value argv[7];
  void *data;
  size_t n;
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)state) != napi_ok) return 0;
  if (argc < (size_t)(with_results ? 7 : 6)) {
    snprintf(msg, sizeof msg, "%s: expected %d arguments", fn, with_results ? 7 : 6);
    throw_arg(env, msg);
    return 0;
  }
  if (!get_typed(env, argv[0], napi_uint8_array, &data, &a->slab_len, "slab")) return 0;
  a->slab = data;
  if (!get_typed(env, argv[1], napi_int32_array, &data, &n, "offsets")) return 0;
  a->offsets = data;
  size_t min_len = n;
  if (!get_typed(env, argv[2], napi_int32_array, &data, &n, "lengths")) return 0;
  a->lengths = data;
  if (n < min_len) min_len = n;
  if (!get_typed(env, argv[3], napi_uint8_array, &data, &a->keys_len, "keys")) return 0;
  a->keys = data;
  if (!get_typed(env, argv[4], napi_int32_array, &data, &n, "keyIndex")) return 0;
  a->key_index = data;
  if (n < min_len) min_len = n;
  a->results = NULL;
  if (with_results) {
    if (!get_typed(env, argv[6], napi_int32_array, &data, &n, "results")) return 0;
    a->results = data;
    if (n < min_len) min_len = n;
  }

  napi_valuetype vt;
  double count;
  if (napi_typeof(env, argv[5], &vt) != napi_ok || vt != napi_number) {
    throw_arg(env, "count must be a number");
    return 0;
  }
  napi_get_value_double(env, argv[5], &count);
  if (!(count >= 0) || count != (double)(int64_t)count || count > (double)min_len) {
    snprintf(msg, sizeof msg, "%s: count must be an integer in [0, %zu] (the shortest array)", fn, min_len);
    throw_range(env, msg);
    return 0;
  }
  a->count = (uint32_t)count;

  for (uint32_t i = 0; i < a->count; i++) {
    int32_t off = a->offsets[i], len = a->lengths[i], ki = a->key_index[i];
    switch (check_entry(a, off, len, ki, tail)) {
      case ENTRY_OK: continue;
      case ENTRY_BAD_OFFSET:
        snprintf(msg, sizeof msg, "%s: offsets[%u] = %d leaves no room for the 8-byte counter", fn, i, off);
        break;
      case ENTRY_BAD_LENGTH:
        snprintf(msg, sizeof msg, "%s: lengths[%u] = %d is negative", fn, i, len);
        break;
      case ENTRY_OUT_OF_SLAB:
        snprintf(msg, sizeof msg, "%s: packet %u [%d, +%d%s) exceeds the slab (%zu bytes)", fn, i, off, len,
                 tail ? " +16 tag" : "", a->slab_len);
        break;
      default:
        snprintf(msg, sizeof msg, "%s: keyIndex[%u] = %d is outside the key table (%zu slots)", fn, i, ki,
                 a->keys_len / AEAD_KEY_LEN);
        break;
    }
    throw_range(env, msg);
    return 0;
  }

  if ((*state)->ctx == NULL) {
    napi_throw_error(env, "ERR_CRYPTO_UNSUPPORTED_OPERATION", "ChaCha20-Poly1305 is not available from Node's OpenSSL");
    return 0;
  }
  return 1;
}

static inline void load_nonce(uint8_t nonce[AEAD_NONCE_LEN], const uint8_t *payload) {
  memset(nonce, 0, AEAD_NONCE_LEN - COUNTER_LEN);
  memcpy(nonce + AEAD_NONCE_LEN - COUNTER_LEN, payload - COUNTER_LEN, COUNTER_LEN);
}

/* Re-keys the context with zeros so the last real key does not linger in it between
 * calls (one extra init per batch, not per packet). */
static void scrub_key(EVP_CIPHER_CTX *ctx) {
  static const uint8_t zero_key[AEAD_KEY_LEN];
  static const uint8_t zero_nonce[AEAD_NONCE_LEN];
  EVP_CipherInit_ex(ctx, NULL, NULL, zero_key, zero_nonce, 1);
}

/* chachaSealBatch(slab, offsets, lengths, keys, keyIndex, count): void */
static napi_value seal_batch(napi_env env, napi_callback_info info) {
  batch_args a;
  aead_state *st;
  if (!parse_batch(env, info, 0, AEAD_TAG_LEN, "chachaSealBatch", &a, &st)) return NULL;
  EVP_CIPHER_CTX *ctx = st->ctx;
  uint8_t nonce[AEAD_NONCE_LEN];
  int outl;
  int32_t keyed = -1; /* key index the context holds */
  for (uint32_t i = 0; i < a.count; i++) {
    int32_t off = load_i32(a.offsets, i), len = load_i32(a.lengths, i), ki = load_i32(a.key_index, i);
    if (check_entry(&a, off, len, ki, AEAD_TAG_LEN) != ENTRY_OK) continue; /* rewritten concurrently */
    uint8_t *p = a.slab + off;
    load_nonce(nonce, p);
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, ki == keyed ? NULL : a.keys + (size_t)ki * AEAD_KEY_LEN, nonce, 1) ||
        (len > 0 && (!EVP_CipherUpdate(ctx, p, &outl, p, len) || outl != len)) ||
        !EVP_CipherFinal_ex(ctx, p + len, &outl) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, p + len) <= 0) {
      scrub_key(ctx);
      napi_throw_error(env, "ERR_CRYPTO_OPERATION_FAILED", "chachaSealBatch: OpenSSL EVP call failed");
      return NULL;
    }
    keyed = ki;
  }
  if (a.count > 0) scrub_key(ctx);
  return NULL;
}

/* chachaOpenBatch(slab, offsets, lengths, keys, keyIndex, count, results): number verified.
 * A packet that fails is zeroed, so unauthenticated plaintext never stays in the slab. */
static napi_value open_batch(napi_env env, napi_callback_info info) {
  batch_args a;
  aead_state *st;
  if (!parse_batch(env, info, 1, 0, "chachaOpenBatch", &a, &st)) return NULL;
  EVP_CIPHER_CTX *ctx = st->ctx;
  uint8_t nonce[AEAD_NONCE_LEN];
  uint8_t scratch[AEAD_TAG_LEN]; /* Final writes nothing for a stream cipher, but give it room */
  int outl;
  int32_t verified = 0;
  int32_t keyed = -1; /* key index the context holds; -1 after a failed packet, to start clean */
  for (uint32_t i = 0; i < a.count; i++) {
    int32_t off = load_i32(a.offsets, i), len = load_i32(a.lengths, i), ki = load_i32(a.key_index, i);
    if (check_entry(&a, off, len, ki, 0) != ENTRY_OK || len < AEAD_TAG_LEN) {
      a.results[i] = -1;
      continue;
    }
    uint8_t *p = a.slab + off;
    int32_t plen = len - AEAD_TAG_LEN;
    load_nonce(nonce, p);
    int ok = EVP_CipherInit_ex(ctx, NULL, NULL, ki == keyed ? NULL : a.keys + (size_t)ki * AEAD_KEY_LEN, nonce, 0) &&
             (plen == 0 || (EVP_CipherUpdate(ctx, p, &outl, p, plen) && outl == plen)) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, p + plen) > 0 &&
             EVP_CipherFinal_ex(ctx, scratch, &outl) > 0; /* constant-time tag check */
    if (ok) {
      a.results[i] = plen;
      verified++;
      keyed = ki;
    } else {
      memset(p, 0, (size_t)len);
      a.results[i] = -1;
      keyed = -1;
    }
  }
  if (a.count > 0) scrub_key(ctx);
  napi_value out;
  napi_create_int32(env, verified, &out);
  return out;
}

static void free_state(void *arg) {
  aead_state *st = arg;
  EVP_CIPHER_CTX_free(st->ctx); /* clears the key schedule */
  free(st);
}

static void export_with_state(napi_env env, napi_value exports, const char *name, napi_callback cb, aead_state *st) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, st, &fn);
  napi_set_named_property(env, exports, name, fn);
}

napi_value init_aead(napi_env env, napi_value exports) {
  aead_state *st = calloc(1, sizeof *st);
  if (st == NULL) return exports;
  const EVP_CIPHER *cipher = EVP_chacha20_poly1305();
  st->ctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
  if (st->ctx != NULL &&
      (!EVP_CipherInit_ex(st->ctx, cipher, NULL, NULL, NULL, 1) ||
       EVP_CIPHER_CTX_ctrl(st->ctx, EVP_CTRL_AEAD_SET_IVLEN, AEAD_NONCE_LEN, NULL) <= 0)) {
    EVP_CIPHER_CTX_free(st->ctx);
    st->ctx = NULL;
  }
  /* Instance data is left to others; the state rides on each function's data pointer
   * and is freed when this environment (main thread or worker) shuts down. */
  napi_add_env_cleanup_hook(env, free_state, st);
  export_with_state(env, exports, "chachaSealBatch", seal_batch, st);
  export_with_state(env, exports, "chachaOpenBatch", open_batch, st);
  return exports;
}
