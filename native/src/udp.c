/* UDP sockets with batched I/O: recvmmsg/sendmmsg straight into and out of caller-owned
 * slab memory (pool slots), peer addresses as fixed 24-byte endpoint records
 * (src/io/endpoint.ts). Scratch arrays (mmsghdr, iovec, sockaddr) are thread-local and
 * sized to MAX_BATCH, so a batch costs no allocation; longer batches go in chunks. */
#include "addon.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define EP_STRIDE 24

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} sockaddr_any;

/* Thread-local: the addon may be loaded by several worker threads at once. */
static __thread struct mmsghdr t_msgs[MAX_BATCH];
static __thread struct iovec t_iovs[MAX_BATCH];
static __thread sockaddr_any t_addrs[MAX_BATCH];

static int setopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) < 0 ? -errno : 0;
}

/* Parses "a.b.c.d", "x::y" or "fe80::1%eth0" / "fe80::1%3" into a sockaddr. */
static bool parse_address(napi_env env, int family, const char *text, int port, sockaddr_any *sa, socklen_t *len) {
  memset(sa, 0, sizeof *sa);
  if (family == 4) {
    sa->in4.sin_family = AF_INET;
    sa->in4.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, text, &sa->in4.sin_addr) != 1) {
      throw_rangef(env, "udpOpen: not an IPv4 address: \"%s\"", text);
      return false;
    }
    *len = sizeof sa->in4;
    return true;
  }
  char buf[64];
  snprintf(buf, sizeof buf, "%s", text);
  char *pct = strchr(buf, '%');
  uint32_t scope = 0;
  if (pct) {
    *pct++ = 0;
    char *end;
    unsigned long n = strtoul(pct, &end, 10);
    scope = (*pct && !*end) ? (uint32_t)n : if_nametoindex(pct);
    if (scope == 0) {
      throw_rangef(env, "udpOpen: unknown IPv6 scope \"%s\"", pct);
      return false;
    }
  }
  sa->in6.sin6_family = AF_INET6;
  sa->in6.sin6_port = htons((uint16_t)port);
  sa->in6.sin6_scope_id = scope;
  if (inet_pton(AF_INET6, buf, &sa->in6.sin6_addr) != 1) {
    throw_rangef(env, "udpOpen: not an IPv6 address: \"%s\"", text);
    return false;
  }
  *len = sizeof sa->in6;
  return true;
}

/* Reads an optional integer property; false after throwing. */
static bool opt_int(napi_env env, napi_value obj, const char *key, const char *what, int64_t min, int64_t max, int64_t *out,
                    bool *present) {
  *present = false;
  if (!obj) return true;
  napi_value v;
  napi_get_named_property(env, obj, key, &v);
  if (arg_absent(env, v)) return true;
  *present = true;
  return arg_int(env, v, what, min, max, out);
}

static bool opt_bool(napi_env env, napi_value obj, const char *key, const char *what, bool *out, bool *present) {
  *present = false;
  if (!obj) return true;
  napi_value v;
  napi_get_named_property(env, obj, key, &v);
  if (arg_absent(env, v)) return true;
  *present = true;
  return arg_bool(env, v, what, out);
}

/* Sets a buffer size, forcing past the sysctl limit when allowed (CAP_NET_ADMIN). */
static int set_bufsize(int fd, int force_opt, int opt, int size) {
  if (setopt_int(fd, SOL_SOCKET, force_opt, size) == 0) return 0;
  return setopt_int(fd, SOL_SOCKET, opt, size);
}

/* udpOpen(family, address, port, options?) -> fd. Non-blocking, close-on-exec, bound.
 * options: { rcvbuf, sndbuf, mark, reuseport, v6only }. IPv6 sockets are dual-stack
 * unless v6only: IPv4 peers then appear as family-4 endpoint records. */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t family, port, rcvbuf = 0, sndbuf = 0, mark = 0;
  bool has_rcv, has_snd, has_mark, has_reuse, has_v6only, reuseport = false, v6only = false;
  char address[64];
  if (!arg_int(env, argv[0], "udpOpen: family", 4, 6, &family)) return NULL;
  if (family == 5) return throw_rangef(env, "udpOpen: family must be 4 or 6, got 5");
  if (!arg_string(env, argv[1], "udpOpen: address", address, sizeof address, NULL)) return NULL;
  if (!arg_int(env, argv[2], "udpOpen: port", 0, 65535, &port)) return NULL;
  napi_value opts = NULL;
  if (argc > 3 && !arg_absent(env, argv[3])) {
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t != napi_object) return throw_typef(env, "udpOpen: options must be an object");
    opts = argv[3];
  }
  if (!opt_int(env, opts, "rcvbuf", "udpOpen: options.rcvbuf", 0, 0x3fffffff, &rcvbuf, &has_rcv)) return NULL;
  if (!opt_int(env, opts, "sndbuf", "udpOpen: options.sndbuf", 0, 0x3fffffff, &sndbuf, &has_snd)) return NULL;
  if (!opt_int(env, opts, "mark", "udpOpen: options.mark", 0, 0xffffffffLL, &mark, &has_mark)) return NULL;
  if (!opt_bool(env, opts, "reuseport", "udpOpen: options.reuseport", &reuseport, &has_reuse)) return NULL;
  if (!opt_bool(env, opts, "v6only", "udpOpen: options.v6only", &v6only, &has_v6only)) return NULL;
  if (has_v6only && family == 4) return throw_rangef(env, "udpOpen: options.v6only applies to family 6 only");

  sockaddr_any sa;
  socklen_t salen;
  if (!parse_address(env, (int)family, address, (int)port, &sa, &salen)) return NULL;

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  const char *step = NULL;
  int r = 0;
  if (family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only ? 1 : 0)) < 0) step = "setsockopt IPV6_V6ONLY";
  else if (reuseport && (r = setopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) < 0) step = "setsockopt SO_REUSEPORT";
  else if (has_rcv && rcvbuf > 0 && (r = set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, (int)rcvbuf)) < 0) step = "setsockopt SO_RCVBUF";
  else if (has_snd && sndbuf > 0 && (r = set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, (int)sndbuf)) < 0) step = "setsockopt SO_SNDBUF";
  else if (has_mark && (r = setopt_int(fd, SOL_SOCKET, SO_MARK, (int)(uint32_t)mark)) < 0) step = "setsockopt SO_MARK";
  else if (bind(fd, &sa.sa, salen) < 0) {
    r = -errno;
    step = "bind";
  }
  if (step) {
    close(fd);
    return throw_errno(env, step, -r);
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

static napi_value udp_local_port(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  if (!arg_fd(env, argv[0], "udpLocalPort: fd", &fd)) return NULL;
  sockaddr_any sa;
  socklen_t len = sizeof sa;
  if (getsockname(fd, &sa.sa, &len) < 0) return throw_errno(env, "getsockname", errno);
  int port = sa.sa.sa_family == AF_INET6 ? ntohs(sa.in6.sin6_port) : sa.sa.sa_family == AF_INET ? ntohs(sa.in4.sin_port) : -1;
  if (port < 0) return throw_errno(env, "getsockname", EAFNOSUPPORT);
  napi_value out;
  napi_create_int32(env, port, &out);
  return out;
}

static napi_value udp_set_mark(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  int64_t mark;
  if (!arg_fd(env, argv[0], "udpSetMark: fd", &fd)) return NULL;
  if (!arg_int(env, argv[1], "udpSetMark: mark", 0, 0xffffffffLL, &mark)) return NULL;
  int r = setopt_int(fd, SOL_SOCKET, SO_MARK, (int)(uint32_t)mark);
  if (r < 0) return throw_errno(env, "setsockopt SO_MARK", -r);
  return NULL;
}

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

static void write_endpoint(uint8_t *ep, const sockaddr_any *sa) {
  memset(ep, 0, EP_STRIDE);
  if (sa->sa.sa_family == AF_INET) {
    ep[0] = 4;
    memcpy(ep + 2, &sa->in4.sin_port, 2);
    memcpy(ep + 4, &sa->in4.sin_addr, 4);
  } else if (sa->sa.sa_family == AF_INET6) {
    memcpy(ep + 2, &sa->in6.sin6_port, 2);
    if (IN6_IS_ADDR_V4MAPPED(&sa->in6.sin6_addr)) {
      ep[0] = 4;
      memcpy(ep + 4, sa->in6.sin6_addr.s6_addr + 12, 4);
    } else {
      ep[0] = 6;
      memcpy(ep + 4, sa->in6.sin6_addr.s6_addr, 16);
      uint32_t s = sa->in6.sin6_scope_id;
      ep[20] = s & 0xff;
      ep[21] = (s >> 8) & 0xff;
      ep[22] = (s >> 16) & 0xff;
      ep[23] = s >> 24;
    }
  }
}

/* A family-4 record becomes a sockaddr_in even on an AF_INET6 socket: Linux's
 * udpv6_sendmsg hands AF_INET destinations to the IPv4 path exactly as it does
 * ::ffff:a.b.c.d (and refuses both with ENETUNREACH on a v6only socket). Family 0
 * means "no address": the socket's connected peer, or EDESTADDRREQ. */
static socklen_t read_endpoint(const uint8_t *ep, sockaddr_any *sa) {
  if (ep[0] == 4) {
    memset(&sa->in4, 0, sizeof sa->in4);
    sa->in4.sin_family = AF_INET;
    memcpy(&sa->in4.sin_port, ep + 2, 2);
    memcpy(&sa->in4.sin_addr, ep + 4, 4);
    return sizeof sa->in4;
  }
  if (ep[0] == 6) {
    memset(&sa->in6, 0, sizeof sa->in6);
    sa->in6.sin6_family = AF_INET6;
    memcpy(&sa->in6.sin6_port, ep + 2, 2);
    memcpy(sa->in6.sin6_addr.s6_addr, ep + 4, 16);
    sa->in6.sin6_scope_id = (uint32_t)ep[20] | (uint32_t)ep[21] << 8 | (uint32_t)ep[22] << 16 | (uint32_t)ep[23] << 24;
    return sizeof sa->in6;
  }
  return 0;
}

/* udpRecvBatch(fd, slab, offsets, lengths, endpoints, maxLen, count) -> n.
 * Datagram i lands at slab[offsets[i]], its size in lengths[i] and its sender in
 * endpoints[i * 24]. A datagram longer than maxLen gets lengths[i] = -1 (MSG_TRUNC):
 * the caller drops it, never uses the truncated bytes. */
static napi_value udp_recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab, *eps;
  int32_t *offsets, *lengths;
  size_t slab_len, n_off, n_len, n_eps;
  int64_t max_len, count;
  if (!arg_fd(env, argv[0], "udpRecvBatch: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "udpRecvBatch: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "udpRecvBatch: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "udpRecvBatch: lengths", &lengths, &n_len)) return NULL;
  if (!arg_bytes(env, argv[4], "udpRecvBatch: endpoints", &eps, &n_eps)) return NULL;
  if (!arg_int(env, argv[5], "udpRecvBatch: maxLen", 1, 0x7fffffff, &max_len)) return NULL;
  size_t cap = n_off < n_len ? n_off : n_len;
  if (n_eps / EP_STRIDE < cap) cap = n_eps / EP_STRIDE;
  if (!arg_int(env, argv[6], "udpRecvBatch: count (limited by offsets, lengths and endpoints/24)", 0, (int64_t)cap, &count))
    return NULL;
  if (!check_windows(env, "udpRecvBatch", slab_len, offsets, NULL, max_len, count)) return NULL;

  int64_t total = 0;
  while (total < count) {
    int chunk = count - total > MAX_BATCH ? MAX_BATCH : (int)(count - total);
    for (int j = 0; j < chunk; j++) {
      t_iovs[j].iov_base = slab + offsets[total + j];
      t_iovs[j].iov_len = (size_t)max_len;
      struct msghdr *h = &t_msgs[j].msg_hdr;
      h->msg_name = &t_addrs[j];
      h->msg_namelen = sizeof t_addrs[j];
      h->msg_iov = &t_iovs[j];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    int r = recvmmsg(fd, t_msgs, (unsigned)chunk, MSG_DONTWAIT, NULL);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || total > 0) break;
      return throw_errno(env, "recvmmsg", err);
    }
    for (int j = 0; j < r; j++) {
      int64_t i = total + j;
      lengths[i] = (t_msgs[j].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)t_msgs[j].msg_len;
      write_endpoint(eps + i * EP_STRIDE, &t_addrs[j]);
    }
    total += r;
    if (r < chunk) break;
  }
  napi_value out;
  napi_create_int64(env, total, &out);
  return out;
}

/* udpSendBatch(fd, slab, offsets, lengths, endpoints, count, errors?) -> sent.
 * Datagram i is slab[offsets[i], +lengths[i]) to endpoints[i * 24]. A datagram the
 * kernel refuses (ECONNREFUSED, ENETUNREACH, EMSGSIZE, ...) is skipped with
 * errors[i] = -errno; on EAGAIN (send buffer full) the rest are reported as -EAGAIN.
 * Only a bad fd throws. */
static napi_value udp_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab, *eps;
  int32_t *offsets, *lengths, *errors = NULL;
  size_t slab_len, n_off, n_len, n_eps, n_err;
  int64_t count;
  if (!arg_fd(env, argv[0], "udpSendBatch: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "udpSendBatch: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "udpSendBatch: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "udpSendBatch: lengths", &lengths, &n_len)) return NULL;
  if (!arg_bytes(env, argv[4], "udpSendBatch: endpoints", &eps, &n_eps)) return NULL;
  size_t cap = n_off < n_len ? n_off : n_len;
  if (n_eps / EP_STRIDE < cap) cap = n_eps / EP_STRIDE;
  if (!arg_int(env, argv[5], "udpSendBatch: count (limited by offsets, lengths and endpoints/24)", 0, (int64_t)cap, &count))
    return NULL;
  if (argc > 6 && !arg_absent(env, argv[6])) {
    if (!arg_i32s(env, argv[6], "udpSendBatch: errors", &errors, &n_err)) return NULL;
    if ((int64_t)n_err < count) return throw_rangef(env, "udpSendBatch: errors has %zu entries, count is %lld", n_err, (long long)count);
  }
  if (!check_windows(env, "udpSendBatch", slab_len, offsets, lengths, 0, count)) return NULL;
  for (int64_t i = 0; i < count; i++) {
    uint8_t f = eps[i * EP_STRIDE];
    if (f != 0 && f != 4 && f != 6) return throw_rangef(env, "udpSendBatch: endpoint %lld has family %u (want 4, 6 or 0)", (long long)i, f);
  }

  int64_t sent = 0;
  for (int64_t base = 0; base < count;) {
    int chunk = count - base > MAX_BATCH ? MAX_BATCH : (int)(count - base);
    for (int j = 0; j < chunk; j++) {
      int64_t i = base + j;
      t_iovs[j].iov_base = slab + offsets[i];
      t_iovs[j].iov_len = (size_t)lengths[i];
      struct msghdr *h = &t_msgs[j].msg_hdr;
      h->msg_namelen = read_endpoint(eps + i * EP_STRIDE, &t_addrs[j]);
      h->msg_name = h->msg_namelen ? &t_addrs[j] : NULL;
      h->msg_iov = &t_iovs[j];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    int j = 0;
    while (j < chunk) {
      int r = sendmmsg(fd, t_msgs + j, (unsigned)(chunk - j), MSG_DONTWAIT);
      if (r < 0) {
        int err = errno;
        if (err == EINTR) continue;
        if (err == EBADF || err == ENOTSOCK || err == EFAULT) return throw_errno(env, "sendmmsg", err);
        if (err == EAGAIN || err == EWOULDBLOCK) {
          if (errors)
            for (int64_t i = base + j; i < count; i++) errors[i] = -EAGAIN;
          goto done;
        }
        if (errors) errors[base + j] = -err;
        j++;
        continue;
      }
      if (errors)
        for (int k = 0; k < r; k++) errors[base + j + k] = 0;
      sent += r;
      j += r;
    }
    base += chunk;
  }
done:;
  napi_value out;
  napi_create_int64(env, sent, &out);
  return out;
}

static void export_int(napi_env env, napi_value exports, const char *name, int value) {
  napi_value v;
  napi_create_int32(env, value, &v);
  napi_set_named_property(env, exports, name, v);
}

napi_value init_udp(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpOpen", udp_open);
  export_fn(env, exports, "udpLocalPort", udp_local_port);
  export_fn(env, exports, "udpSetMark", udp_set_mark);
  export_fn(env, exports, "udpRecvBatch", udp_recv_batch);
  export_fn(env, exports, "udpSendBatch", udp_send_batch);
  export_fn(env, exports, "closeFd", close_fd);
  export_int(env, exports, "UDP_MAX_BATCH", MAX_BATCH);
  return exports;
}
