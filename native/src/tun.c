/* TUN/TAP: open and query the device by fd, set link MTU/up by name, and move whole
 * batches of packets between the device and caller-owned slab memory (pool slots).
 * No logic beyond syscalls: the caller owns every byte and every decision. */
#include "addon.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* ferry's flag bits for tunOpen (stable across kernels, unlike IFF_*). */
#define FERRY_TUN_TAP 1
#define FERRY_TUN_VNET_HDR 2
#define FERRY_TUN_MULTI_QUEUE 4

static int to_ferry_flags(int iff) {
  int f = 0;
  if (iff & IFF_TAP) f |= FERRY_TUN_TAP;
  if (iff & IFF_VNET_HDR) f |= FERRY_TUN_VNET_HDR;
  if (iff & IFF_MULTI_QUEUE) f |= FERRY_TUN_MULTI_QUEUE;
  return f;
}

static napi_value name_and_flags(napi_env env, const struct ifreq *ifr, int fd_or_minus1) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  if (fd_or_minus1 >= 0) {
    napi_create_int32(env, fd_or_minus1, &v);
    napi_set_named_property(env, obj, "fd", v);
  }
  napi_create_string_utf8(env, ifr->ifr_name, strnlen(ifr->ifr_name, IFNAMSIZ), &v);
  napi_set_named_property(env, obj, "name", v);
  napi_create_int32(env, to_ferry_flags(ifr->ifr_flags), &v);
  napi_set_named_property(env, obj, "flags", v);
  return obj;
}

/* tunOpen(name, flags) -> { fd, name, flags }. An empty name lets the kernel pick one. */
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[IFNAMSIZ];
  int64_t flags;
  if (!arg_string(env, argv[0], "tunOpen: name", name, sizeof name, NULL)) return NULL;
  if (!arg_int(env, argv[1], "tunOpen: flags", 0, 7, &flags)) return NULL;

  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  ifr.ifr_flags = IFF_NO_PI | ((flags & FERRY_TUN_TAP) ? IFF_TAP : IFF_TUN);
  if (flags & FERRY_TUN_VNET_HDR) ifr.ifr_flags |= IFF_VNET_HDR;
  if (flags & FERRY_TUN_MULTI_QUEUE) ifr.ifr_flags |= IFF_MULTI_QUEUE;

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ioctl TUNSETIFF", err);
  }
  return name_and_flags(env, &ifr, fd);
}

/* tunGetInfo(fd) -> { name, flags }. Asks the fd, never the name: works after the
 * device was moved to another network namespace (or renamed). */
static napi_value tun_get_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  if (!arg_fd(env, argv[0], "tunGetInfo: fd", &fd)) return NULL;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) return throw_errno(env, "ioctl TUNGETIFF", errno);
  return name_and_flags(env, &ifr, -1);
}

/* Runs one SIOC*IF* ioctl on a throwaway AF_INET socket, in the caller's namespace. */
static int link_ioctl(unsigned long req, struct ifreq *ifr) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  int r = ioctl(s, req, ifr) < 0 ? -errno : 0;
  close(s);
  return r;
}

static bool link_name(napi_env env, napi_value v, const char *what, struct ifreq *ifr) {
  memset(ifr, 0, sizeof *ifr);
  char name[IFNAMSIZ];
  size_t len;
  if (!arg_string(env, v, what, name, sizeof name, &len)) return false;
  if (len == 0) {
    throw_rangef(env, "%s must not be empty", what);
    return false;
  }
  memcpy(ifr->ifr_name, name, len);
  return true;
}

static napi_value link_set_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct ifreq ifr;
  int64_t mtu;
  if (!link_name(env, argv[0], "linkSetMtu: name", &ifr)) return NULL;
  if (!arg_int(env, argv[1], "linkSetMtu: mtu", 68, 65535, &mtu)) return NULL;
  ifr.ifr_mtu = (int)mtu;
  int r = link_ioctl(SIOCSIFMTU, &ifr);
  if (r < 0) return throw_errno(env, "ioctl SIOCSIFMTU", -r);
  return NULL;
}

static napi_value link_get_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct ifreq ifr;
  if (!link_name(env, argv[0], "linkGetMtu: name", &ifr)) return NULL;
  int r = link_ioctl(SIOCGIFMTU, &ifr);
  if (r < 0) return throw_errno(env, "ioctl SIOCGIFMTU", -r);
  napi_value out;
  napi_create_int32(env, ifr.ifr_mtu, &out);
  return out;
}

static napi_value link_set_up(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct ifreq ifr;
  bool up;
  if (!link_name(env, argv[0], "linkSetUp: name", &ifr)) return NULL;
  if (!arg_bool(env, argv[1], "linkSetUp: up", &up)) return NULL;
  int r = link_ioctl(SIOCGIFFLAGS, &ifr);
  if (r < 0) return throw_errno(env, "ioctl SIOCGIFFLAGS", -r);
  if (up) ifr.ifr_flags |= IFF_UP;
  else ifr.ifr_flags &= ~IFF_UP;
  r = link_ioctl(SIOCSIFFLAGS, &ifr);
  if (r < 0) return throw_errno(env, "ioctl SIOCSIFFLAGS", -r);
  return NULL;
}

/* Read errors that mean the device or the call is broken, not a moment's trouble: the
 * device was deleted or detached (EBADFD), a bad fd or buffer. They throw; any other
 * error is reported through the status array and survived. */
static bool tun_read_fatal(int err) {
  return err == EBADF || err == EBADFD || err == EFAULT || err == EINVAL || err == ENODEV || err == ENXIO;
}

/* tunReadBatch(fd, slab, offsets, lengths, maxLen, count, status?) -> n.
 * Reads until EAGAIN or count packets; packet i lands at slab[offsets[i]], its size in
 * lengths[i]. The kernel silently cuts a packet longer than the buffer and returns the
 * bytes copied, so a read that fills all maxLen bytes may be truncated: it gets
 * lengths[i] = -1 and the caller drops it. Pass maxLen one byte more than the largest
 * packet you accept.
 * Errors: a fatal one (tun_read_fatal) throws when nothing was read yet, else ends the
 * call with what was read (the next call throws). Any other error ends the call too,
 * counted in status[0] with its -errno in status[1]; it never throws. The failed read
 * consumed what failed (the kernel dequeues a packet before copying it), so readiness
 * does not report the same error again and a level-triggered poll cannot spin on it. */
static napi_value tun_read_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab;
  int32_t *offsets, *lengths, *status;
  size_t slab_len, n_off, n_len, n_status;
  int64_t max_len, count;
  const char *fn = "tunReadBatch";
  if (!arg_fd(env, argv[0], "tunReadBatch: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "tunReadBatch: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "tunReadBatch: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "tunReadBatch: lengths", &lengths, &n_len)) return NULL;
  if (!arg_int(env, argv[4], "tunReadBatch: maxLen", 1, 0x7fffffff, &max_len)) return NULL;
  if (!arg_int(env, argv[5], "tunReadBatch: count", 0, (int64_t)(n_off < n_len ? n_off : n_len), &count)) return NULL;
  if (!opt_status(env, argc > 6 ? argv[6] : NULL, "tunReadBatch: status", &status, &n_status)) return NULL;
  mem_span spans[] = {
    { "slab", slab, slab_len }, { "offsets", offsets, n_off * 4 }, { "lengths", lengths, n_len * 4 }, { "status", status, n_status * 4 },
  };
  if (!check_disjoint(env, fn, spans, 4)) return NULL;
  if (!check_windows(env, fn, slab_len, offsets, NULL, max_len, count)) return NULL;
  if (status) status[0] = status[1] = 0;

  int64_t n = 0;
  while (n < count) {
    int64_t off = load_i32(offsets, n);
    if (!window_ok(off, max_len, slab_len)) return throw_changed(env, fn, n);
    ssize_t r = read(fd, slab + off, (size_t)max_len);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (tun_read_fatal(err)) {
        if (n > 0) break;
        return throw_errno(env, "read", err);
      }
      if (status) {
        status[0]++;
        status[1] = -err;
      }
      break;
    }
    if (r == 0) break;
    lengths[n++] = r >= max_len ? -1 : (int32_t)r;
  }
  napi_value out;
  napi_create_int64(env, n, &out);
  return out;
}

/* tunWriteBatch(fd, slab, offsets, lengths, count, errors?) -> accepted.
 * One write per packet. A packet the kernel refuses (EINVAL, ...) or cannot queue
 * (EAGAIN: queue full) is dropped, with errors[i] = -errno (0 when written). Only a
 * bad fd throws. */
static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab;
  int32_t *offsets, *lengths, *errors = NULL;
  size_t slab_len, n_off, n_len, n_err = 0;
  int64_t count;
  const char *fn = "tunWriteBatch";
  if (!arg_fd(env, argv[0], "tunWriteBatch: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "tunWriteBatch: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "tunWriteBatch: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "tunWriteBatch: lengths", &lengths, &n_len)) return NULL;
  if (!arg_int(env, argv[4], "tunWriteBatch: count", 0, (int64_t)(n_off < n_len ? n_off : n_len), &count)) return NULL;
  if (argc > 5 && !arg_absent(env, argv[5])) {
    if (!arg_i32s(env, argv[5], "tunWriteBatch: errors", &errors, &n_err)) return NULL;
    if ((int64_t)n_err < count) return throw_rangef(env, "tunWriteBatch: errors has %zu entries, count is %lld", n_err, (long long)count);
  }
  mem_span spans[] = {
    { "slab", slab, slab_len }, { "offsets", offsets, n_off * 4 }, { "lengths", lengths, n_len * 4 }, { "errors", errors, n_err * 4 },
  };
  if (!check_disjoint(env, fn, spans, 4)) return NULL;
  if (!check_windows(env, fn, slab_len, offsets, lengths, 0, count)) return NULL;

  int64_t accepted = 0;
  for (int64_t i = 0; i < count; i++) {
    int64_t off = load_i32(offsets, i), len = load_i32(lengths, i);
    if (!window_ok(off, len, slab_len)) return throw_changed(env, fn, i);
    ssize_t r;
    do r = write(fd, slab + off, (size_t)len);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int err = errno;
      if (err == EBADF) return throw_errno(env, "write", err);
      if (errors) errors[i] = -err;
    } else {
      if (errors) errors[i] = 0;
      accepted++;
    }
  }
  napi_value out;
  napi_create_int64(env, accepted, &out);
  return out;
}

napi_value init_tun(napi_env env, napi_value exports) {
  export_fn(env, exports, "tunOpen", tun_open);
  export_fn(env, exports, "tunGetInfo", tun_get_info);
  export_fn(env, exports, "tunReadBatch", tun_read_batch);
  export_fn(env, exports, "tunWriteBatch", tun_write_batch);
  export_fn(env, exports, "linkSetMtu", link_set_mtu);
  export_fn(env, exports, "linkGetMtu", link_get_mtu);
  export_fn(env, exports, "linkSetUp", link_set_up);
  export_int(env, exports, "TUN_TAP", FERRY_TUN_TAP);
  export_int(env, exports, "TUN_VNET_HDR", FERRY_TUN_VNET_HDR);
  export_int(env, exports, "TUN_MULTI_QUEUE", FERRY_TUN_MULTI_QUEUE);
  export_int(env, exports, "IO_STATUS_LENGTH", STATUS_LEN);
  return exports;
}
