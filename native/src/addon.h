/* Shared helpers for ferry's Node-API addon. Each source file owns one concept
 * (tun, udp, poll, notify, aead) and registers its functions through an init_* hook. */
#ifndef FERRY_ADDON_H
#define FERRY_ADDON_H

#include <node_api.h>
#include <stdint.h>
#include <stddef.h>

napi_value init_tun(napi_env env, napi_value exports);
napi_value init_udp(napi_env env, napi_value exports);
napi_value init_poll(napi_env env, napi_value exports);
napi_value init_notify(napi_env env, napi_value exports);
napi_value init_aead(napi_env env, napi_value exports);

/* Throws a JS Error whose .code is the errno name (e.g. "EPERM") and .errno the number,
 * with message "<syscall>: <strerror>". Returns NULL so callers can `return throw_errno(...)`. */
napi_value throw_errno(napi_env env, const char *syscall, int err);
/* Throws a TypeError with code "ERR_INVALID_ARG_TYPE"/"ERR_INVALID_ARG_VALUE". */
napi_value throw_arg(napi_env env, const char *msg);

/* Adds a function property to exports. */
void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb);

#endif
