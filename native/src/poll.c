/* Readiness: a libuv poll handle on a native fd that calls JavaScript once per event
 * (not per packet). The JS side reads or writes a whole batch in that callback.
 *
 * Lifetime: the handle's memory is shared by libuv (until the close callback) and by
 * the JS external (until its finalizer). Whichever of the two comes last frees it.
 * pollStop, the external's finalizer and the env cleanup hook (worker exit) all start
 * the close; it happens once. */
#include "addon.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <uv.h>

#define POLL_MAGIC 0x66706f6cu /* "fpol": rejects externals made by someone else */

typedef struct {
  uint32_t magic;
  uv_poll_t handle;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int events;
  bool closing;
  bool closed;
  bool finalized;
} poll_state;

static void on_closed(uv_handle_t *h) {
  poll_state *p = h->data;
  p->closed = true;
  if (p->finalized) free(p);
}

static void on_env_cleanup(void *arg);

static void begin_close(poll_state *p, bool from_cleanup_hook) {
  if (p->closing) return;
  p->closing = true;
  uv_poll_stop(&p->handle);
  if (!from_cleanup_hook) napi_remove_env_cleanup_hook(p->env, on_env_cleanup, p);
  if (p->callback) napi_delete_reference(p->env, p->callback);
  if (p->async) napi_async_destroy(p->env, p->async);
  p->callback = NULL;
  p->async = NULL;
  uv_close((uv_handle_t *)&p->handle, on_closed);
}

static void on_env_cleanup(void *arg) {
  begin_close(arg, true);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  poll_state *p = data;
  p->finalized = true;
  if (!p->closing) begin_close(p, false);
  else if (p->closed) free(p);
}

/* libuv -> JS: callback(status, events); status < 0 is a libuv error (the watcher
 * is then stopped by libuv until pollUpdate). Exceptions go to 'uncaughtException'. */
static void on_poll(uv_poll_t *h, int status, int events) {
  poll_state *p = h->data;
  if (p->closing) return;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[2], result;
  napi_get_reference_value(env, p->callback, &fn);
  napi_get_global(env, &recv);
  napi_create_int32(env, status, &argv[0]);
  napi_create_int32(env, events, &argv[1]);
  /* napi_make_callback drains microtasks and keeps async_hooks context. p may be
   * closed (not freed: that waits for the next loop turn) by the callback. */
  napi_status st = napi_make_callback(env, p->async, recv, fn, 2, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static poll_state *get_state(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok || !data ||
      ((poll_state *)data)->magic != POLL_MAGIC) {
    throw_typef(env, "%s must be a handle returned by pollStart", what);
    return NULL;
  }
  return data;
}

static int to_uv_events(int64_t events) {
  return ((events & 1) ? UV_READABLE : 0) | ((events & 2) ? UV_WRITABLE : 0);
}

/* pollStart(fd, events, callback, ref = true) -> handle. events: 1 readable, 2 writable. */
static napi_value poll_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  int64_t events;
  bool ref = true;
  napi_valuetype t;
  if (!arg_fd(env, argv[0], "pollStart: fd", &fd)) return NULL;
  if (!arg_int(env, argv[1], "pollStart: events", 0, 3, &events)) return NULL;
  if (napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) return throw_typef(env, "pollStart: callback must be a function");
  if (argc > 3 && !arg_absent(env, argv[3]) && !arg_bool(env, argv[3], "pollStart: ref", &ref)) return NULL;

  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "napi_get_uv_event_loop", EINVAL);
  poll_state *p = calloc(1, sizeof *p);
  if (!p) return throw_errno(env, "calloc", ENOMEM);
  int r = uv_poll_init(loop, &p->handle, fd);
  if (r < 0) {
    free(p);
    return throw_errno(env, "uv_poll_init", -r);
  }
  p->magic = POLL_MAGIC;
  p->handle.data = p;
  p->env = env;
  p->events = (int)events;
  napi_value resource, name, handle;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "ferry.poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &p->async);
  napi_create_reference(env, argv[2], 1, &p->callback);
  if (!ref) uv_unref((uv_handle_t *)&p->handle);
  if (events != 0 && (r = uv_poll_start(&p->handle, to_uv_events(events), on_poll)) < 0) {
    p->finalized = true; /* no external yet: on_closed frees */
    begin_close(p, true);
    return throw_errno(env, "uv_poll_start", -r);
  }
  napi_add_env_cleanup_hook(env, on_env_cleanup, p);
  if (napi_create_external(env, p, on_finalize, NULL, &handle) != napi_ok) {
    p->finalized = true;
    begin_close(p, false);
    return NULL;
  }
  return handle;
}

/* pollUpdate(handle, events): 0 pauses (the fd stays registered, the loop may exit). */
static napi_value poll_update(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  poll_state *p = get_state(env, argv[0], "pollUpdate: handle");
  int64_t events;
  if (!p) return NULL;
  if (!arg_int(env, argv[1], "pollUpdate: events", 0, 3, &events)) return NULL;
  if (p->closing) return throw_rangef(env, "pollUpdate: handle was stopped");
  int r = events == 0 ? uv_poll_stop(&p->handle) : uv_poll_start(&p->handle, to_uv_events(events), on_poll);
  if (r < 0) return throw_errno(env, "uv_poll_start", -r);
  p->events = (int)events;
  return NULL;
}

/* pollRef(handle, ref): an unref'd handle does not keep the process alive. */
static napi_value poll_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  poll_state *p = get_state(env, argv[0], "pollRef: handle");
  bool ref;
  if (!p) return NULL;
  if (!arg_bool(env, argv[1], "pollRef: ref", &ref)) return NULL;
  if (p->closing) return throw_rangef(env, "pollRef: handle was stopped");
  if (ref) uv_ref((uv_handle_t *)&p->handle);
  else uv_unref((uv_handle_t *)&p->handle);
  return NULL;
}

/* pollStop(handle): stops callbacks at once and closes the uv handle. Idempotent.
 * Call it before closing the fd. */
static napi_value poll_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  poll_state *p = get_state(env, argv[0], "pollStop: handle");
  if (!p) return NULL;
  begin_close(p, false);
  return NULL;
}

/* pollWait(fd, events, timeoutMs) -> ready: 1 readable, 2 writable, 4 error or hangup;
 * 0 when nothing happened within timeoutMs (or a signal came). Blocks the thread in
 * poll(2). For a datapath that stays in its readiness callback while traffic keeps
 * coming instead of returning to the event loop after every burst: each loop turn costs
 * Node 20 a small heap allocation (docs/offloads.md), a wait here costs none. The caller
 * bounds how long it stays (timers and other handles wait meanwhile). */
static napi_value poll_wait(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  int64_t events, timeout;
  if (!arg_fd(env, argv[0], "pollWait: fd", &fd)) return NULL;
  if (!arg_int(env, argv[1], "pollWait: events", 1, 3, &events)) return NULL;
  if (!arg_int(env, argv[2], "pollWait: timeoutMs", 0, 60000, &timeout)) return NULL;
  struct pollfd p = { .fd = fd, .events = (short)(((events & 1) ? POLLIN : 0) | ((events & 2) ? POLLOUT : 0)) };
  int r = poll(&p, 1, (int)timeout);
  if (r < 0 && errno != EINTR) return throw_errno(env, "poll", errno);
  int ready = 0;
  if (r > 0) {
    if (p.revents & POLLNVAL) return throw_errno(env, "poll", EBADF);
    ready = ((p.revents & POLLIN) ? 1 : 0) | ((p.revents & POLLOUT) ? 2 : 0) | ((p.revents & (POLLERR | POLLHUP)) ? 4 : 0);
  }
  napi_value out;
  napi_create_int32(env, ready, &out);
  return out;
}

napi_value init_poll(napi_env env, napi_value exports) {
  export_fn(env, exports, "pollWait", poll_wait);
  export_fn(env, exports, "pollStart", poll_start);
  export_fn(env, exports, "pollUpdate", poll_update);
  export_fn(env, exports, "pollRef", poll_ref);
  export_fn(env, exports, "pollStop", poll_stop);
  return exports;
}
