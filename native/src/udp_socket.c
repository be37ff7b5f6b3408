/* UDP socket setup: open (options, IP_PKTINFO / IPV6_RECVPKTINFO for the sticky source),
 * query the bound port, set the mark. The batch calls live in udp_recv.c / udp_gro.c and
 * udp_send.c / udp_gso.c (each with its offload probe), the endpoint records in
 * udp_endpoint.c (layout in udp.h and src/io/endpoint.ts); closeFd in fd.c. */
#include "udp.h"
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <unistd.h>

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
 * dontFragment }. For tunnels: recvTos (IP_RECVTOS, and IPV6_RECVTCLASS on an IPv6 socket)
 * reports each datagram's TOS in its endpoint record; zeroChecksum6 (UDP_NO_CHECK6_RX)
 * accepts IPv6 datagrams with a zero UDP checksum (RFC 6935, 6936); dontFragment
 * (IP_PMTUDISC_DO, IPV6_PMTUDISC_DO) sets DF and never fragments locally (EMSGSIZE instead);
 * freebind (IP_FREEBIND) binds an address the host does not have yet (an interface that
 * comes up later, such as the TUN the daemon is about to configure). IPv6 sockets are
 * dual-stack unless v6only: IPv4 peers then appear as family-4 endpoint records.
 * noChecksum (SO_NO_CHECK) sends IPv4 datagrams with a zero UDP checksum, as VXLAN
 * commonly does; the kernel then refuses UDP_SEGMENT (EINVAL). */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t family, port, rcvbuf = 0, sndbuf = 0, mark = 0;
  bool has_rcv, has_snd, has_mark, has_reuse, has_v6only, has_nocheck, has_tos, has_zero6, has_df, has_free, reuseport = false,
       v6only = false, nocheck = false, recvtos = false, zero6 = false, df = false, freebind = false;
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
  if (!opt_bool(env, opts, "dontFragment", "udpOpen: options.dontFragment", &df, &has_df)) return NULL;
  if (!opt_bool(env, opts, "freebind", "udpOpen: options.freebind", &freebind, &has_free)) return NULL;
  if (has_v6only && family == 4) return throw_rangef(env, "udpOpen: options.v6only applies to family 6 only");
  if (zero6 && family == 4) return throw_rangef(env, "udpOpen: options.zeroChecksum6 applies to family 6 only");

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
  /* The local address of each datagram, for the sticky source (an IPv6 socket reports
   * IPv4 datagrams' as v4-mapped IPV6_PKTINFO). */
  else if (family == 4 && (r = setopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1)) < 0) step = "setsockopt IP_PKTINFO";
  else if (family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)) < 0) step = "setsockopt IPV6_RECVPKTINFO";
  /* IP_RECVTOS and IP_MTU_DISCOVER on an IPv6 socket too: its IPv4 datagrams take the IPv4 path. */
  else if (recvtos && (r = setopt_int(fd, IPPROTO_IP, IP_RECVTOS, 1)) < 0) step = "setsockopt IP_RECVTOS";
  else if (recvtos && family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1)) < 0) step = "setsockopt IPV6_RECVTCLASS";
  else if (zero6 && (r = setopt_int(fd, SOL_UDP, UDP_NO_CHECK6_RX, 1)) < 0) step = "setsockopt UDP_NO_CHECK6_RX";
  else if (df && (r = setopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)) < 0) step = "setsockopt IP_MTU_DISCOVER";
  else if (df && family == 6 && (r = setopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO)) < 0) step = "setsockopt IPV6_MTU_DISCOVER";
  /* IP_FREEBIND covers IPv6 sockets too (Linux reads it for both families). */
  else if (freebind && (r = setopt_int(fd, IPPROTO_IP, IP_FREEBIND, 1)) < 0) step = "setsockopt IP_FREEBIND";
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

napi_value init_udp_socket(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpOpen", udp_open);
  export_fn(env, exports, "udpLocalPort", udp_local_port);
  export_fn(env, exports, "udpSetMark", udp_set_mark);
  export_int(env, exports, "UDP_MAX_BATCH", MAX_BATCH);
  export_int(env, exports, "UDP_ENDPOINT_STRIDE", EP_STRIDE);
  return exports;
}
