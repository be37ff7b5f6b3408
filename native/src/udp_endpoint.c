/* Endpoint records <-> sockaddrs and pktinfo cmsgs (layout in udp.h and
 * src/io/endpoint.ts), and the scratch arrays shared by the UDP batch calls. */
#include "udp.h"
#include <arpa/inet.h>

__thread struct mmsghdr t_msgs[MAX_BATCH];
__thread struct iovec t_iovs[MAX_BATCH];
__thread sockaddr_any t_addrs[MAX_BATCH];

static void put_u32le(uint8_t *p, uint32_t v) {
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = v >> 24;
}

static uint32_t get_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void ep_write_remote(uint8_t *ep, const sockaddr_any *sa) {
  memset(ep, 0, EP_REMOTE_SIZE);
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
      put_u32le(ep + 20, sa->in6.sin6_scope_id);
    }
  }
}

/* A family-4 record becomes a sockaddr_in even on an AF_INET6 socket: Linux's
 * udpv6_sendmsg hands AF_INET destinations to the IPv4 path exactly as it does
 * ::ffff:a.b.c.d (and refuses both with ENETUNREACH on a v6only socket). Family 0
 * means "no address": the socket's connected peer, or EDESTADDRREQ. */
socklen_t ep_read_remote(const uint8_t *ep, sockaddr_any *sa) {
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
    sa->in6.sin6_scope_id = get_u32le(ep + 20);
    return sizeof sa->in6;
  }
  return 0;
}

/* IP_PKTINFO gives ipi_spec_dst, the local address a reply should come from (the
 * header's destination for unicast). IPV6_PKTINFO gives ipi6_addr; on a dual-stack
 * socket an IPv4 datagram reports it v4-mapped, recorded here as family 4. */
int ep_parse_cmsgs(uint8_t *ep, struct msghdr *h) {
  uint8_t *local = ep + EP_LOCAL;
  memset(local, 0, EP_STRIDE - EP_LOCAL);
  int seg = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      memcpy(&seg, CMSG_DATA(c), sizeof seg);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      local[0] = 4;
      put_u32le(ep + EP_LOCAL_IFINDEX, (uint32_t)pi.ipi_ifindex);
      memcpy(ep + EP_LOCAL_ADDR, &pi.ipi_spec_dst, 4);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      put_u32le(ep + EP_LOCAL_IFINDEX, (uint32_t)pi.ipi6_ifindex);
      if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr)) {
        local[0] = 4;
        memcpy(ep + EP_LOCAL_ADDR, pi.ipi6_addr.s6_addr + 12, 4);
      } else {
        local[0] = 6;
        memcpy(ep + EP_LOCAL_ADDR, pi.ipi6_addr.s6_addr, 16);
      }
    }
  }
  return seg;
}

uint8_t ep_received_tos(struct msghdr *h) {
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

/* IP_TOS also for a family-4 record on an IPv6 socket: Linux sends those on the IPv4 path,
 * whose cmsg parser takes IP_TOS. */
size_t ep_tos_cmsg(const uint8_t *ep, uint8_t *buf) {
  if (ep[1] == 0) return 0;
  struct cmsghdr *c = (struct cmsghdr *)buf;
  int v = ep[1];
  c->cmsg_level = ep[0] == 6 ? IPPROTO_IPV6 : IPPROTO_IP;
  c->cmsg_type = ep[0] == 6 ? IPV6_TCLASS : IP_TOS;
  c->cmsg_len = CMSG_LEN(sizeof v);
  memcpy(CMSG_DATA(c), &v, sizeof v);
  return CMSG_SPACE(sizeof v);
}

bool ep_has_source(const uint8_t *ep) {
  return ep[EP_LOCAL] != 0 && ep[EP_LOCAL] == ep[0];
}

/* IPv4: ipi_spec_dst picks the source; ipi_ifindex stays 0 so the route still picks the
 * interface. IPv6: ipi6_addr picks the source; the interface is pinned only for a
 * link-local source, which is meaningless without it. */
size_t ep_source_cmsg(const uint8_t *ep, uint8_t *buf) {
  struct cmsghdr *c = (struct cmsghdr *)buf;
  if (ep[EP_LOCAL] == 4) {
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    memcpy(&pi.ipi_spec_dst, ep + EP_LOCAL_ADDR, 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
  struct in6_pktinfo pi;
  memset(&pi, 0, sizeof pi);
  memcpy(pi.ipi6_addr.s6_addr, ep + EP_LOCAL_ADDR, 16);
  if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr)) pi.ipi6_ifindex = get_u32le(ep + EP_LOCAL_IFINDEX);
  c->cmsg_level = IPPROTO_IPV6;
  c->cmsg_type = IPV6_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof pi);
  memcpy(CMSG_DATA(c), &pi, sizeof pi);
  return CMSG_SPACE(sizeof pi);
}
