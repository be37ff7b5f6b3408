/* closeFd: closes a descriptor the addon opened, a TUN device or a UDP socket alike, so
 * neither concept's file owns the other's teardown. */
#include "addon.h"
#include <errno.h>
#include <unistd.h>

/* closeFd(fd). Linux releases the fd even when close() reports EINTR. */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  if (!arg_fd(env, argv[0], "closeFd: fd", &fd)) return NULL;
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

napi_value init_fd(napi_env env, napi_value exports) {
  export_fn(env, exports, "closeFd", close_fd);
  return exports;
}
