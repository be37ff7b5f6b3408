/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
#include "addon.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* sdNotify(state, socketPath?) -> boolean. socketPath defaults to $NOTIFY_SOCKET; a
 * leading '@' names the abstract namespace. false when there is no socket to notify. */
static napi_value sd_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char state[4096];
  size_t state_len;
  if (!arg_string(env, argv[0], "sdNotify: state", state, sizeof state, &state_len)) return NULL;
  if (state_len == 0) return throw_rangef(env, "sdNotify: state must not be empty");

  struct sockaddr_un sun;
  char path[sizeof sun.sun_path + 1];
  size_t path_len = 0;
  if (argc > 1 && !arg_absent(env, argv[1])) {
    if (!arg_string(env, argv[1], "sdNotify: socketPath", path, sizeof path, &path_len)) return NULL;
  } else {
    const char *e = getenv("NOTIFY_SOCKET");
    if (e) {
      path_len = strlen(e);
      if (path_len >= sizeof path) return throw_rangef(env, "sdNotify: NOTIFY_SOCKET is too long");
      memcpy(path, e, path_len + 1);
    }
  }
  napi_value out;
  if (path_len == 0) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  if (path[0] != '/' && path[0] != '@') return throw_rangef(env, "sdNotify: unsupported socket address \"%s\" (want /path or @abstract)", path);
  if (path_len > sizeof sun.sun_path) return throw_rangef(env, "sdNotify: socket path is too long");

  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, path_len);
  if (path[0] == '@') sun.sun_path[0] = 0;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  ssize_t r;
  do r = sendto(fd, state, state_len, MSG_NOSIGNAL, (struct sockaddr *)&sun, len);
  while (r < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (r < 0) return throw_errno(env, "sendto", err);
  napi_get_boolean(env, true, &out);
  return out;
}

napi_value init_notify(napi_env env, napi_value exports) {
  export_fn(env, exports, "sdNotify", sd_notify);
  return exports;
}
