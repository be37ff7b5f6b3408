/* mknod(2) for a character device: the sidecar creates /dev/net/tun when a container
 * runtime did not provide it. */
#include "addon.h"
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

/* makeCharDevice(path, major, minor, mode): mknod(path, S_IFCHR | mode, makedev(major, minor)),
 * then chmod to mode (mknod's mode is filtered by the umask). */
static napi_value make_char_device(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_typef(env, "makeCharDevice(path, major, minor, mode) takes 4 arguments");
  char path[4096];
  size_t path_len;
  int64_t major, minor, mode;
  if (!arg_string(env, argv[0], "makeCharDevice: path", path, sizeof path, &path_len)) return NULL;
  if (path_len == 0 || path[0] != '/') return throw_rangef(env, "makeCharDevice: path must be absolute");
  if (!arg_int(env, argv[1], "makeCharDevice: major", 0, 4095, &major)) return NULL;
  if (!arg_int(env, argv[2], "makeCharDevice: minor", 0, 1048575, &minor)) return NULL;
  if (!arg_int(env, argv[3], "makeCharDevice: mode", 0, 07777, &mode)) return NULL;
  if (mknod(path, S_IFCHR | (mode_t)mode, makedev((unsigned)major, (unsigned)minor)) != 0) return throw_errno(env, "mknod", errno);
  if (chmod(path, (mode_t)mode) != 0) return throw_errno(env, "chmod", errno);
  return NULL;
}

napi_value init_devnode(napi_env env, napi_value exports) {
  export_fn(env, exports, "makeCharDevice", make_char_device);
  return exports;
}
