/* Module entry: one addon, one init hook per concept. */
#include "addon.h"
#include <errno.h>
#include <string.h>
#include <stdio.h>

static const char *errno_name(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT)
    E(EBUSY) E(EEXIST) E(ENODEV) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOSPC) E(EPIPE)
    E(EMSGSIZE) E(EPROTONOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL)
    E(ENETDOWN) E(ENETUNREACH) E(ECONNREFUSED) E(EHOSTUNREACH) E(ENOBUFS) E(ENOTCONN)
    E(ENXIO) E(ENOTTY) E(EOPNOTSUPP) E(ECONNRESET) E(EDESTADDRREQ)
    E(ENOTSOCK) E(ENOPROTOOPT) E(ENAMETOOLONG) E(ETIMEDOUT) E(ENOSYS) E(ESRCH) E(EBADFD)
#undef E
    default: return "EUNKNOWN";
  }
}

napi_value throw_errno(napi_env env, const char *syscall, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value message, code, error, errnum, sys;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_throw(env, error);
  return NULL;
}

napi_value throw_arg(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", msg);
  return NULL;
}

void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void export_int(napi_env env, napi_value exports, const char *name, int value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

static napi_value init(napi_env env, napi_value exports) {
  init_tun(env, exports);
  init_tun_offload(env, exports);
  init_fd(env, exports);
  init_udp_socket(env, exports);
  init_udp_recv(env, exports);
  init_udp_gro(env, exports);
  init_udp_send(env, exports);
  init_udp_gso(env, exports);
  init_poll(env, exports);
  init_notify(env, exports);
  init_aead(env, exports);
  init_devnode(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
