/* UDP sockets with batched I/O: recvmmsg/sendmmsg straight into and out of caller-owned
 * slab memory (pool slots), peer addresses as fixed 24-byte endpoint records
 * (src/io/endpoint.ts). Scratch arrays (mmsghdr, iovec, sockaddr) are thread-local and
 * sized to MAX_BATCH, so a batch costs no allocation; longer batches go in chunks.
 *
 * Offloads (docs/offloads.md): udpSendBatchGso sends runs of equal-size datagrams to one
 * endpoint as one UDP_SEGMENT message (one trip through the stack for up to 64 of them);
 * udpRecvBatchGro reads UDP_GRO-coalesced messages into a per-socket ring the caller owns
 * and splits them into one slot per datagram. Native code keeps no per-socket state: the
 * GSO switch and the GRO ring live in caller memory. */
#include "addon.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX 102
#endif

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
 * options: { rcvbuf, sndbuf, mark, reuseport, v6only, noChecksum, recvTos, zeroChecksum6,
 * dontFragment }. dontFragment (IP_PMTUDISC_DO, IPV6_PMTUDISC_DO) sets DF on every IPv4
 * datagram and never fragments locally: a datagram over the path MTU fails with EMSGSIZE.
 * zeroChecksum6 (UDP_NO_CHECK6_RX, IPv6 sockets) accepts IPv6 datagrams with a zero UDP
 * checksum, as tunnels may send them (RFC 6935, 6936). recvTos asks
 * the kernel for each datagram's TOS / traffic class (IP_RECVTOS, and IPV6_RECVTCLASS on an
 * IPv6 socket), which the receive calls put in byte 1 of the sender's endpoint record. IPv6 sockets are
 * dual-stack unless v6only: IPv4 peers then appear as family-4 endpoint records.
 * noChecksum (SO_NO_CHECK) sends IPv4 datagrams with a zero UDP checksum, as VXLAN
 * commonly does; the kernel then refuses UDP_SEGMENT (EINVAL). */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t family, port, rcvbuf = 0, sndbuf = 0, mark = 0;
  bool has_rcv, has_snd, has_mark, has_reuse, has_v6only, has_nocheck, has_tos, has_zero6, has_df, reuseport = false,
       v6only = false, nocheck = false, recvtos = false, zero6 = false, df = false;
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
  if (!opt_bool(env, opts, "noChecksum", "udpOpen: options.noChecksum", &nocheck, &has_nocheck)) return NULL;
  if (!opt_bool(env, opts, "recvTos", "udpOpen: options.recvTos", &recvtos, &has_tos)) return NULL;
  if (!opt_bool(env, opts, "zeroChecksum6", "udpOpen: options.zeroChecksum6", &zero6, &has_zero6)) return NULL;
  if (zero6 && family == 4) return throw_rangef(env, "udpOpen: options.zeroChecksum6 applies to family 6 only");
  if (!opt_bool(env, opts, "dontFragment", "udpOpen: options.dontFragment", &df, &has_df)) return NULL;
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
  else if (nocheck && (r = setopt_int(fd, SOL_SOCKET, SO_NO_CHECK, 1)) < 0) step = "setsockopt SO_NO_CHECK";
  /* IP_RECVTOS on an IPv6 socket too: its IPv4 (mapped) datagrams report through it. */
  else if (recvtos && (r = setopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1)) < 0) step = "setsockopt IP_RECVTOS";
  else if (recvtos && family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1)) < 0) step = "setsockopt IPV6_RECVTCLASS";
  else if (zero6 && (r = setopt_int(fd, SOL_UDP, UDP_NO_CHECK6_RX, 1)) < 0) step = "setsockopt UDP_NO_CHECK6_RX";
  /* IP_MTU_DISCOVER on an IPv6 socket too: its IPv4 datagrams take the IPv4 path. */
  else if (df && (r = setopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)) < 0) step = "setsockopt IP_MTU_DISCOVER";
  else if (df && family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)) < 0) step = "setsockopt IPV6_MTU_DISCOVER";
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

/* Control room per received message: UDP_GRO (an int) and IP_TOS or IPV6_TCLASS. */
typedef union {
  char buf[64];
  struct cmsghdr align;
} recv_cmsg;

static __thread recv_cmsg t_recv_ctrl[MAX_BATCH];

/* The TOS (IPv4) or traffic class (IPv6) the kernel reported for a message (recvTos), or 0. */
static uint8_t received_tos(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && c->cmsg_len >= CMSG_LEN(1)) return *(uint8_t *)CMSG_DATA(c);
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      return (uint8_t)v;
    }
  }
  return 0;
}

/* Room for the TOS cmsg a send may carry (see put_tos). */
#define TOS_CMSG_SPACE CMSG_SPACE(sizeof(int))

/* Appends to buf (at *len) the cmsg that sends a datagram with TOS / traffic class ep[1]:
 * IP_TOS toward an IPv4 record (IPv6 sockets too: Linux sends those on the IPv4 path),
 * IPV6_TCLASS toward an IPv6 one. Nothing when ep[1] is 0 (the socket's default). */
static void put_tos(char *buf, size_t *len, const uint8_t *ep) {
  if (ep[1] == 0) return;
  struct cmsghdr *c = (struct cmsghdr *)(buf + *len);
  int v = ep[1];
  c->cmsg_level = ep[0] == 6 ? IPPROTO_IPV6 : IPPROTO_IP;
  c->cmsg_type = ep[0] == 6 ? IPV6_TCLASS : IP_TOS;
  c->cmsg_len = CMSG_LEN(sizeof v);
  memcpy(CMSG_DATA(c), &v, sizeof v);
  *len += TOS_CMSG_SPACE;
}

typedef union {
  char buf[TOS_CMSG_SPACE];
  struct cmsghdr align;
} tos_cmsg;

static __thread tos_cmsg t_send_ctrl[MAX_BATCH];

/* udpRecvBatch(fd, slab, offsets, lengths, endpoints, maxLen, count) -> n.
 * Datagram i lands at slab[offsets[i]], its size in lengths[i] and its sender in
 * endpoints[i * 24] (with its TOS in byte 1 on a recvTos socket). A datagram longer than
 * maxLen gets lengths[i] = -1 (MSG_TRUNC): the caller drops it, never uses the truncated bytes. */
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
      h->msg_control = t_recv_ctrl[j].buf;
      h->msg_controllen = sizeof t_recv_ctrl[j].buf;
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
      eps[i * EP_STRIDE + 1] = received_tos(&t_msgs[j].msg_hdr);
    }
    total += r;
    if (r < chunk) break;
  }
  napi_value out;
  napi_create_int64(env, total, &out);
  return out;
}

/* udpSendBatch(fd, slab, offsets, lengths, endpoints, count, errors?) -> sent.
 * Datagram i is slab[offsets[i], +lengths[i]) to endpoints[i * 24], with TOS / traffic
 * class endpoints[i * 24 + 1] when that is not 0. A datagram the
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
      size_t clen = 0;
      put_tos(t_send_ctrl[j].buf, &clen, eps + i * EP_STRIDE);
      h->msg_control = clen ? t_send_ctrl[j].buf : NULL;
      h->msg_controllen = clen;
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

/* ---------------------------------------------------------------- offloads */

/* One UDP_SEGMENT message carries at most 64 datagrams (UDP_MAX_SEGMENTS before Linux
 * 6.10; 128 since) and at most one IPv4 datagram's worth of payload. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65507

/* The caller's GSO state (Int32Array of GSO_STATE_LEN): [GSO_ON] is 1 while the socket
 * sends with UDP_SEGMENT and is cleared here for good when the kernel refuses it; the
 * other entries report the last call. */
#define GSO_STATE_LEN 4
enum { GSO_ON = 0, GSO_MESSAGES = 1, GSO_DATAGRAMS = 2, GSO_FALLBACKS = 3 };

typedef union {
  char buf[CMSG_SPACE(sizeof(uint16_t)) + TOS_CMSG_SPACE];
  struct cmsghdr align;
} gso_cmsg;

/* Message m of a send covers datagrams [t_first[m], t_first[m] + t_nseg[m]). */
static __thread int64_t t_first[MAX_BATCH];
static __thread int32_t t_nseg[MAX_BATCH];
static __thread gso_cmsg t_gso_ctrl[MAX_BATCH];

/* udpGsoSupported(fd) -> bool: the kernel knows UDP_SEGMENT (Linux 4.18+). */
static napi_value udp_gso_supported(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd, value = 0;
  if (!arg_fd(env, argv[0], "udpGsoSupported: fd", &fd)) return NULL;
  socklen_t len = sizeof value;
  bool ok = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &value, &len) == 0;
  if (!ok && (errno == EBADF || errno == ENOTSOCK)) return throw_errno(env, "getsockopt UDP_SEGMENT", errno);
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

/* udpSetGro(fd, on) -> bool: false when the kernel has no UDP_GRO (before Linux 5.0). */
static napi_value udp_set_gro(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  bool on;
  if (!arg_fd(env, argv[0], "udpSetGro: fd", &fd)) return NULL;
  if (!arg_bool(env, argv[1], "udpSetGro: on", &on)) return NULL;
  int r = setopt_int(fd, SOL_UDP, UDP_GRO, on ? 1 : 0);
  if (r == -EBADF || r == -ENOTSOCK) return throw_errno(env, "setsockopt UDP_GRO", -r);
  napi_value out;
  napi_get_boolean(env, r == 0, &out);
  return out;
}

/* Builds the messages for datagrams [from, count), at most MAX_BATCH datagrams (one iovec
 * each, pointing into the slab: no copy). With gso, a run of datagrams to the same
 * endpoint that all have the first one's length (the last may be shorter) becomes one
 * message whose UDP_SEGMENT cmsg tells the kernel where to cut. Returns the message
 * count; *end is one past the last datagram covered. */
static int build_messages(uint8_t *slab, const int32_t *offsets, const int32_t *lengths, const uint8_t *eps, int64_t from,
                          int64_t count, bool gso, int64_t *end) {
  int64_t limit = count - from > MAX_BATCH ? from + MAX_BATCH : count;
  int m = 0;
  int64_t i = from;
  while (i < limit) {
    int32_t size = lengths[i];
    int k = 1;
    if (gso && size > 0) {
      int64_t bytes = size;
      while (i + k < limit && k < GSO_MAX_SEGMENTS) {
        int32_t next = lengths[i + k];
        if (next <= 0 || next > size || bytes + next > GSO_MAX_BYTES) break;
        if (memcmp(eps + (i + k) * EP_STRIDE, eps + i * EP_STRIDE, EP_STRIDE) != 0) break;
        bytes += next;
        k++;
        if (next < size) break; /* only the last segment may be short */
      }
    }
    struct iovec *iov = &t_iovs[i - from];
    for (int s = 0; s < k; s++) {
      iov[s].iov_base = slab + offsets[i + s];
      iov[s].iov_len = (size_t)lengths[i + s];
    }
    struct msghdr *h = &t_msgs[m].msg_hdr;
    h->msg_namelen = read_endpoint(eps + i * EP_STRIDE, &t_addrs[m]);
    h->msg_name = h->msg_namelen ? &t_addrs[m] : NULL;
    h->msg_iov = iov;
    h->msg_iovlen = (size_t)k;
    h->msg_flags = 0;
    size_t clen = 0;
    if (k > 1) {
      struct cmsghdr *c = &t_gso_ctrl[m].align;
      uint16_t gso_size = (uint16_t)size;
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof gso_size);
      memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
      clen = CMSG_SPACE(sizeof gso_size);
    }
    /* A run shares its endpoint record, TOS byte included (memcmp above). */
    put_tos(t_gso_ctrl[m].buf, &clen, eps + i * EP_STRIDE);
    h->msg_control = clen ? t_gso_ctrl[m].buf : NULL;
    h->msg_controllen = clen;
    t_first[m] = i;
    t_nseg[m] = k;
    m++;
    i += k;
  }
  *end = i;
  return m;
}

/* Sends message m's datagrams one by one (after the kernel refused them as one GSO
 * message). Returns the index of the datagram that met EAGAIN, or -1 when all were
 * tried; per-datagram results go to errors. */
static int64_t send_each(int fd, int m, const uint8_t *eps, int32_t *errors, int64_t *sent) {
  struct msghdr h = t_msgs[m].msg_hdr;
  tos_cmsg ctrl;
  size_t clen = 0;
  put_tos(ctrl.buf, &clen, eps + t_first[m] * EP_STRIDE);
  h.msg_control = clen ? ctrl.buf : NULL;
  h.msg_controllen = clen;
  h.msg_iovlen = 1;
  for (int s = 0; s < t_nseg[m]; s++) {
    int64_t i = t_first[m] + s;
    h.msg_iov = t_msgs[m].msg_hdr.msg_iov + s;
    ssize_t r;
    do r = sendmsg(fd, &h, MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return i;
    if (errors) errors[i] = r < 0 ? -errno : 0;
    if (r >= 0) (*sent)++;
  }
  return -1;
}

/* udpSendBatchGso(fd, slab, offsets, lengths, endpoints, count, errors, state) -> sent.
 * udpSendBatch with UDP GSO while state[0] is 1: same arguments, same per-datagram
 * results (a refused GSO message reports its error for each of its datagrams). When the
 * kernel refuses UDP_SEGMENT itself (EIO: no checksum offload or an IPsec route; EINVAL:
 * zero-checksum socket, or an oversized segment on kernels before 6.14) the datagrams go
 * out one by one and state[0] becomes 0 for the socket's lifetime; EMSGSIZE (a segment
 * larger than the path MTU allows, 6.14+) only resends that message's datagrams one by
 * one, so each is fragmented or refused on its own. */
static napi_value udp_send_batch_gso(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab, *eps;
  int32_t *offsets, *lengths, *errors = NULL, *state;
  size_t slab_len, n_off, n_len, n_eps, n_err, n_state;
  int64_t count;
  if (!arg_fd(env, argv[0], "udpSendBatchGso: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "udpSendBatchGso: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "udpSendBatchGso: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "udpSendBatchGso: lengths", &lengths, &n_len)) return NULL;
  if (!arg_bytes(env, argv[4], "udpSendBatchGso: endpoints", &eps, &n_eps)) return NULL;
  size_t cap = n_off < n_len ? n_off : n_len;
  if (n_eps / EP_STRIDE < cap) cap = n_eps / EP_STRIDE;
  if (!arg_int(env, argv[5], "udpSendBatchGso: count (limited by offsets, lengths and endpoints/24)", 0, (int64_t)cap, &count))
    return NULL;
  if (!arg_absent(env, argv[6])) {
    if (!arg_i32s(env, argv[6], "udpSendBatchGso: errors", &errors, &n_err)) return NULL;
    if ((int64_t)n_err < count)
      return throw_rangef(env, "udpSendBatchGso: errors has %zu entries, count is %lld", n_err, (long long)count);
  }
  if (!arg_i32s(env, argv[7], "udpSendBatchGso: state", &state, &n_state)) return NULL;
  if (n_state < GSO_STATE_LEN) return throw_rangef(env, "udpSendBatchGso: state needs %d entries, has %zu", GSO_STATE_LEN, n_state);
  if (!check_windows(env, "udpSendBatchGso", slab_len, offsets, lengths, 0, count)) return NULL;
  for (int64_t i = 0; i < count; i++) {
    uint8_t f = eps[i * EP_STRIDE];
    if (f != 0 && f != 4 && f != 6)
      return throw_rangef(env, "udpSendBatchGso: endpoint %lld has family %u (want 4, 6 or 0)", (long long)i, f);
  }

  bool gso = state[GSO_ON] != 0;
  state[GSO_MESSAGES] = state[GSO_DATAGRAMS] = state[GSO_FALLBACKS] = 0;
  int64_t sent = 0, i = 0, again_from = -1;
  while (i < count && again_from < 0) {
    int64_t end;
    int m = build_messages(slab, offsets, lengths, eps, i, count, gso, &end);
    int j = 0;
    while (j < m) {
      int r = sendmmsg(fd, t_msgs + j, (unsigned)(m - j), MSG_DONTWAIT);
      if (r > 0) {
        for (int q = j; q < j + r; q++) {
          if (errors)
            for (int s = 0; s < t_nseg[q]; s++) errors[t_first[q] + s] = 0;
          sent += t_nseg[q];
          if (t_nseg[q] > 1) {
            state[GSO_MESSAGES]++;
            state[GSO_DATAGRAMS] += t_nseg[q];
          }
        }
        j += r;
        continue;
      }
      int err = r < 0 ? errno : EAGAIN;
      if (err == EINTR) continue;
      if (err == EBADF || err == ENOTSOCK || err == EFAULT) return throw_errno(env, "sendmmsg", err);
      if (err == EAGAIN || err == EWOULDBLOCK) {
        again_from = t_first[j];
        break;
      }
      if (t_nseg[j] > 1 && (err == EIO || err == EINVAL || err == EMSGSIZE)) {
        if (err != EMSGSIZE) {
          gso = false;
          state[GSO_ON] = 0;
        }
        state[GSO_FALLBACKS]++;
        again_from = send_each(fd, j, eps, errors, &sent);
      } else if (errors) {
        for (int s = 0; s < t_nseg[j]; s++) errors[t_first[j] + s] = -err;
      }
      /* Rebuild from the next datagram: the messages after j may have to change. */
      end = t_first[j] + t_nseg[j];
      break;
    }
    i = end;
  }
  if (again_from >= 0 && errors)
    for (int64_t k = again_from; k < count; k++) errors[k] = -EAGAIN;
  napi_value out;
  napi_create_int64(env, sent, &out);
  return out;
}

/* GRO ring: caller memory (a Uint8Array of GRO_RING_BYTES, 8-byte aligned, zeroed when
 * made) that holds what one recvmmsg read until every datagram in it has been handed
 * out: a header, one record per message, then one 64 KiB buffer per message (a
 * coalesced message is at most one IP datagram's worth). Messages are read only into an
 * empty ring, and a message is split only as far as the caller's slots go: the rest
 * waits here for the next call, so nothing is lost and order is kept. */
#define GRO_RING_MSGS 64
#define GRO_BUF_BYTES 65536
#define GRO_RECORDS_AT 64
#define GRO_BUFS_AT 4096
#define GRO_RING_BYTES (GRO_BUFS_AT + GRO_RING_MSGS * GRO_BUF_BYTES)

typedef struct {
  int32_t count; /* messages held, [head, head + count) */
  int32_t head;
  int32_t next;  /* byte offset of the head message's next datagram */
  int32_t coalesced; /* last call: messages read that held more than one datagram */
  int32_t datagrams; /* last call: datagrams in those */
} gro_header;

typedef struct {
  int32_t len; /* bytes, -1 when the message did not fit its buffer */
  int32_t seg; /* datagram size (the UDP_GRO cmsg), len when not coalesced; >= 1 */
  uint8_t ep[EP_STRIDE];
} gro_record;


_Static_assert(GRO_RECORDS_AT >= sizeof(gro_header), "GRO ring header overlaps the records");
_Static_assert(GRO_RECORDS_AT + GRO_RING_MSGS * sizeof(gro_record) <= GRO_BUFS_AT, "GRO ring records overlap the buffers");

static int gro_segment_size(struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      return v;
    }
  }
  return 0;
}

/* The ring is caller memory: check it before trusting any offset in it. */
static bool gro_ring_valid(const gro_header *hdr, const gro_record *rec) {
  if (hdr->count < 0 || hdr->head < 0 || hdr->count > GRO_RING_MSGS - hdr->head) return false;
  if (hdr->count == 0) return true;
  if (hdr->next < 0) return false;
  for (int32_t k = hdr->head; k < hdr->head + hdr->count; k++) {
    if (rec[k].len < -1 || rec[k].len > GRO_BUF_BYTES || rec[k].seg < 1) return false;
  }
  return rec[hdr->head].len < 0 ? hdr->next == 0 : hdr->next < rec[hdr->head].len || (rec[hdr->head].len == 0 && hdr->next == 0);
}

/* udpRecvBatchGro(fd, slab, offsets, lengths, endpoints, maxLen, count, ring) -> n.
 * udpRecvBatch for a socket with UDP_GRO on: same results, one datagram per entry (a
 * coalesced message is split, each datagram copied into its own slot with the message's
 * sender); lengths[i] = -1 for a datagram longer than maxLen (and once for a message
 * larger than a ring buffer). Datagrams left in the ring come first in the next call. */
static napi_value udp_recv_batch_gro(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab, *eps, *ring;
  int32_t *offsets, *lengths;
  size_t slab_len, n_off, n_len, n_eps, ring_len;
  int64_t max_len, count;
  if (!arg_fd(env, argv[0], "udpRecvBatchGro: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "udpRecvBatchGro: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "udpRecvBatchGro: offsets", &offsets, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "udpRecvBatchGro: lengths", &lengths, &n_len)) return NULL;
  if (!arg_bytes(env, argv[4], "udpRecvBatchGro: endpoints", &eps, &n_eps)) return NULL;
  if (!arg_int(env, argv[5], "udpRecvBatchGro: maxLen", 1, 0x7fffffff, &max_len)) return NULL;
  size_t cap = n_off < n_len ? n_off : n_len;
  if (n_eps / EP_STRIDE < cap) cap = n_eps / EP_STRIDE;
  if (!arg_int(env, argv[6], "udpRecvBatchGro: count (limited by offsets, lengths and endpoints/24)", 0, (int64_t)cap, &count))
    return NULL;
  if (!arg_bytes(env, argv[7], "udpRecvBatchGro: ring", &ring, &ring_len)) return NULL;
  if (ring_len < GRO_RING_BYTES || ((uintptr_t)ring & 7) != 0)
    return throw_rangef(env, "udpRecvBatchGro: ring must be an 8-byte aligned Uint8Array of UDP_GRO_RING_BYTES (%d)", GRO_RING_BYTES);
  if (!check_windows(env, "udpRecvBatchGro", slab_len, offsets, NULL, max_len, count)) return NULL;
  gro_header *hdr = (gro_header *)ring;
  gro_record *rec = (gro_record *)(ring + GRO_RECORDS_AT);
  uint8_t *bufs = ring + GRO_BUFS_AT;
  if (!gro_ring_valid(hdr, rec)) return throw_rangef(env, "udpRecvBatchGro: ring state is corrupt");
  hdr->coalesced = hdr->datagrams = 0;

  int64_t total = 0;
  bool kernel_drained = false;
  for (;;) {
    /* Hand out what the ring holds, a datagram per slot. */
    while (hdr->count > 0 && total < count) {
      const gro_record *r = &rec[hdr->head];
      const uint8_t *buf = bufs + (size_t)hdr->head * GRO_BUF_BYTES;
      int32_t len = -1;
      bool done = true;
      if (r->len >= 0) {
        int32_t left = r->len - hdr->next;
        int32_t seg = left < r->seg ? left : r->seg;
        if (seg <= max_len) {
          memcpy(slab + offsets[total], buf + hdr->next, (size_t)seg);
          len = seg;
        }
        hdr->next += seg;
        done = hdr->next >= r->len;
      }
      lengths[total] = len;
      memcpy(eps + total * EP_STRIDE, r->ep, EP_STRIDE);
      total++;
      if (done) {
        hdr->head++;
        hdr->count--;
        hdr->next = 0;
      }
    }
    if (total == count || kernel_drained) break;

    /* The ring is empty: read at most one message per slot still to fill. */
    int want = count - total < GRO_RING_MSGS ? (int)(count - total) : GRO_RING_MSGS;
    for (int j = 0; j < want; j++) {
      t_iovs[j].iov_base = bufs + (size_t)j * GRO_BUF_BYTES;
      t_iovs[j].iov_len = GRO_BUF_BYTES;
      struct msghdr *h = &t_msgs[j].msg_hdr;
      h->msg_name = &t_addrs[j];
      h->msg_namelen = sizeof t_addrs[j];
      h->msg_iov = &t_iovs[j];
      h->msg_iovlen = 1;
      h->msg_control = t_recv_ctrl[j].buf;
      h->msg_controllen = sizeof t_recv_ctrl[j].buf;
      h->msg_flags = 0;
    }
    int n = recvmmsg(fd, t_msgs, (unsigned)want, MSG_DONTWAIT, NULL);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || total > 0) break;
      return throw_errno(env, "recvmmsg", err);
    }
    for (int j = 0; j < n; j++) {
      struct msghdr *h = &t_msgs[j].msg_hdr;
      int32_t len = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)t_msgs[j].msg_len;
      int seg = gro_segment_size(h);
      if (len > 0 && seg > 0 && seg < len) {
        hdr->coalesced++;
        hdr->datagrams += (len + seg - 1) / seg;
      } else {
        seg = len > 0 ? len : 1;
      }
      rec[j].len = len;
      rec[j].seg = seg;
      write_endpoint(rec[j].ep, &t_addrs[j]);
      rec[j].ep[1] = received_tos(h);
    }
    hdr->head = 0;
    hdr->count = n;
    hdr->next = 0;
    kernel_drained = n < want;
  }
  napi_value out;
  napi_create_int64(env, total, &out);
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
  export_fn(env, exports, "udpGsoSupported", udp_gso_supported);
  export_fn(env, exports, "udpSetGro", udp_set_gro);
  export_fn(env, exports, "udpSendBatchGso", udp_send_batch_gso);
  export_fn(env, exports, "udpRecvBatchGro", udp_recv_batch_gro);
  export_fn(env, exports, "closeFd", close_fd);
  export_int(env, exports, "UDP_MAX_BATCH", MAX_BATCH);
  export_int(env, exports, "UDP_GSO_STATE_LENGTH", GSO_STATE_LEN);
  export_int(env, exports, "UDP_GSO_MAX_SEGMENTS", GSO_MAX_SEGMENTS);
  export_int(env, exports, "UDP_GRO_RING_BYTES", GRO_RING_BYTES);
  return exports;
}
