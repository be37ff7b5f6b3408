/* Shared helpers for ferry's Node-API addon. Each source file owns one concept (tun, fd,
 * the UDP files, poll, notify, aead, devnode) and registers its functions through an
 * init_* hook. */
#ifndef FERRY_ADDON_H
#define FERRY_ADDON_H

#include <node_api.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

napi_value init_tun(napi_env env, napi_value exports);
napi_value init_tun_offload(napi_env env, napi_value exports);
napi_value init_fd(napi_env env, napi_value exports);
napi_value init_udp_socket(napi_env env, napi_value exports);
napi_value init_udp_recv(napi_env env, napi_value exports);
napi_value init_udp_gro(napi_env env, napi_value exports);
napi_value init_udp_send(napi_env env, napi_value exports);
napi_value init_udp_gso(napi_env env, napi_value exports);
napi_value init_poll(napi_env env, napi_value exports);
napi_value init_notify(napi_env env, napi_value exports);
napi_value init_aead(napi_env env, napi_value exports);
napi_value init_devnode(napi_env env, napi_value exports);

/* Throws a JS Error whose .code is the errno name (e.g. "EPERM") and .errno the number,
 * with message "<syscall>: <strerror>". Returns NULL so callers can `return throw_errno(...)`. */
napi_value throw_errno(napi_env env, const char *syscall, int err);
/* Throws a TypeError with code "ERR_INVALID_ARG_TYPE"/"ERR_INVALID_ARG_VALUE". */
napi_value throw_arg(napi_env env, const char *msg);

/* Adds a function property to exports. */
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);
/* Adds an integer constant (a size, a flag) to exports. */
void export_int(napi_env env, napi_value exports, const char *name, int value);

/* ---- Argument checks shared by the concept files. Static inline so the
 * concept files share them without another source file. Each returns false after
 * throwing a TypeError/RangeError that names the function and argument. ---- */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static inline napi_value throw_typef(napi_env env, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static inline napi_value throw_rangef(napi_env env, const char *fmt, ...) {
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* An integer number in [min, max]. */
static inline bool arg_int(napi_env env, napi_value v, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) {
    throw_typef(env, "%s must be a number", name);
    return false;
  }
  napi_get_value_double(env, v, &d);
  if (!(d >= (double)min && d <= (double)max) || (double)(int64_t)d != d) {
    throw_rangef(env, "%s must be an integer in [%lld, %lld], got %g", name, (long long)min, (long long)max, d);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static inline bool arg_fd(napi_env env, napi_value v, const char *name, int *fd) {
  int64_t x;
  if (!arg_int(env, v, name, 0, 0x7fffffff, &x)) return false;
  *fd = (int)x;
  return true;
}

static inline bool arg_bool(napi_env env, napi_value v, const char *name, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean) {
    throw_typef(env, "%s must be a boolean", name);
    return false;
  }
  napi_get_value_bool(env, v, out);
  return true;
}

/* A typed array of the given element type (a Buffer is a Uint8Array). */
static inline bool arg_typed(napi_env env, napi_value v, const char *name, napi_typedarray_type want, const char *want_name,
                             void **data, size_t *len) {
  bool is;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    throw_typef(env, "%s must be %s", name, want_name);
    return false;
  }
  napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL);
  if (type != want) {
    throw_typef(env, "%s must be %s", name, want_name);
    return false;
  }
  return true;
}

static inline bool arg_bytes(napi_env env, napi_value v, const char *name, uint8_t **data, size_t *len) {
  return arg_typed(env, v, name, napi_uint8_array, "a Uint8Array or Buffer", (void **)data, len);
}

static inline bool arg_i32s(napi_env env, napi_value v, const char *name, int32_t **data, size_t *len) {
  return arg_typed(env, v, name, napi_int32_array, "an Int32Array", (void **)data, len);
}

/* A string that fits in buf (NUL included); longer strings are a RangeError. */
static inline bool arg_string(napi_env env, napi_value v, const char *name, char *buf, size_t cap, size_t *out_len) {
  napi_valuetype t;
  size_t len;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    throw_typef(env, "%s must be a string", name);
    return false;
  }
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  if (len >= cap) {
    throw_rangef(env, "%s is too long (%zu bytes, at most %zu)", name, len, cap - 1);
    return false;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &len);
  if (strlen(buf) != len) {
    throw_rangef(env, "%s must not contain NUL characters", name);
    return false;
  }
  if (out_len) *out_len = len;
  return true;
}

/* ---- Bounds (bounds.c). Batch calls validate every entry before the first syscall, then
 * read each entry again exactly once (load_i32) and check it again before using it, so a
 * caller rewriting its arrays during the call (another thread, through a
 * SharedArrayBuffer) can never steer a read or write outside the slab. Arrays the call
 * writes must not share bytes with arrays it reads (check_disjoint). ---- */

/* Checks that every [offsets[i], offsets[i] + len) for i < count lies inside the slab,
 * len being lengths[i] (or fixed_len when lengths is NULL); throws RangeError if not. */
bool check_windows(napi_env env, const char *fn, size_t slab_len, const int32_t *offsets, const int32_t *lengths,
                   int64_t fixed_len, int64_t count);

/* One caller array: its name for the error message and its bytes. */
typedef struct {
  const char *name;
  const void *data;
  size_t bytes;
} mem_span;

/* Throws RangeError "<fn>: <a> and <b> share memory" when any two spans overlap (empty
 * spans and absent arrays never do). */
bool check_disjoint(napi_env env, const char *fn, const mem_span *spans, int n);

/* Single read of an entry the caller may rewrite concurrently: never reloaded. */
static inline int32_t load_i32(const int32_t *a, int64_t i) {
  return *(const volatile int32_t *)&a[i];
}

/* True when [off, off + len) lies in a slab of slab_len bytes. */
static inline bool window_ok(int64_t off, int64_t len, size_t slab_len) {
  return off >= 0 && len >= 0 && (uint64_t)(off + len) <= slab_len;
}

/* Throws RangeError for an entry that changed between validation and use (only another
 * thread writing the caller's SharedArrayBuffer can cause it). */
static inline napi_value throw_changed(napi_env env, const char *fn, int64_t i) {
  return throw_rangef(env, "%s: entry %lld changed during the call and now lies outside the slab", fn, (long long)i);
}

/* True when v is undefined (an omitted optional argument). */
static inline bool arg_absent(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) != napi_ok || t == napi_undefined;
}

/* Receive status (tunReadBatch, udpRecvBatch, udpRecvBatchGro): an optional Int32Array of
 * at least STATUS_LEN entries; [0] errors survived in the call, [1] -errno of the last. */
#define STATUS_LEN 2

static inline bool opt_status(napi_env env, napi_value v, const char *what, int32_t **status, size_t *n) {
  *status = NULL;
  *n = 0;
  if (!v || arg_absent(env, v)) return true;
  if (!arg_i32s(env, v, what, status, n)) return false;
  if (*n < STATUS_LEN) {
    throw_rangef(env, "%s needs %d entries, has %zu", what, STATUS_LEN, *n);
    return false;
  }
  return true;
}

#endif
