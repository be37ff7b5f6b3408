/* Shared by the UDP files: udp_socket.c (setup and options), udp_endpoint.c (endpoint
 * records and cmsgs), udp_recv.c + udp_gro.c (recvmmsg, plain and through the GRO ring,
 * see udp_recv.h), udp_send.c + udp_gso.c (sendmmsg, plain and with UDP GSO, see
 * udp_send.h). */
#ifndef FERRY_UDP_H
#define FERRY_UDP_H

#include "addon.h"
#include <netinet/in.h>
#include <sys/socket.h>

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

/* Datagrams per recvmmsg/sendmmsg call; longer batches go in chunks. */
#define MAX_BATCH 1024

/* Endpoint record (src/io/endpoint.ts), EP_STRIDE bytes per datagram:
 *   remote part [0, 24): family (4, 6; 0 unset), TOS, port BE, address 16, scope id LE
 *   local part [24, 48): family (4, 6; 0 unset), 3 reserved, ifindex LE, address 16
 * The local part is the address a datagram was received on (IP_PKTINFO / IPV6_PKTINFO)
 * and, when set on send, the source address the reply leaves from. The TOS byte is the
 * received datagram's TOS / traffic class (recvTos sockets) and, when not 0 on send, the
 * one to send with (IP_TOS / IPV6_TCLASS). */
#define EP_STRIDE 48
#define EP_REMOTE_SIZE 24
#define EP_LOCAL 24
#define EP_LOCAL_IFINDEX (EP_LOCAL + 4)
#define EP_LOCAL_ADDR (EP_LOCAL + 8)

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in4;
  struct sockaddr_in6 in6;
} sockaddr_any;

/* Room for the cmsgs of one received message: UDP_GRO, IPV6_PKTINFO or IP_PKTINFO, and
 * IP_TOS or IPV6_TCLASS. */
typedef union {
  char buf[128];
  struct cmsghdr align;
} recv_cmsg;

/* Room for the cmsgs of one sent message: UDP_SEGMENT, a source (IPV6_PKTINFO) and a TOS. */
typedef union {
  char buf[96];
  struct cmsghdr align;
} send_cmsg;

_Static_assert(CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) <= sizeof(recv_cmsg),
               "receive cmsg buffer too small for UDP_GRO and pktinfo");
_Static_assert(CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) <= sizeof(send_cmsg),
               "send cmsg buffer too small for UDP_SEGMENT and a source");

/* Thread-local scratch (the addon may run in several worker threads at once). */
extern __thread struct mmsghdr t_msgs[MAX_BATCH];
extern __thread struct iovec t_iovs[MAX_BATCH];
extern __thread sockaddr_any t_addrs[MAX_BATCH];

/* Writes the remote part of a record from a received sockaddr (v4-mapped become family 4). */
void ep_write_remote(uint8_t *ep, const sockaddr_any *sa);
/* Reads the remote part into a sockaddr; 0 for family 0 ("no address"). */
socklen_t ep_read_remote(const uint8_t *ep, sockaddr_any *sa);
/* Fills the local part from a received message's IP_PKTINFO / IPV6_PKTINFO (zero when
 * there is none) and returns the UDP_GRO segment size it carries (0: none). */
int ep_parse_cmsgs(uint8_t *ep, struct msghdr *h);
/* The TOS (IP_TOS) or traffic class (IPV6_TCLASS) a received message reports, or 0. */
uint8_t ep_received_tos(struct msghdr *h);
/* Appends the cmsg that sends with TOS ep[1] (IP_TOS toward family 4, IPV6_TCLASS toward
 * family 6) at buf; returns its CMSG_SPACE, or 0 (nothing) when ep[1] is 0. */
size_t ep_tos_cmsg(const uint8_t *ep, uint8_t *buf);
/* True when the local part names a source to send from: set, and of the remote's family. */
bool ep_has_source(const uint8_t *ep);
/* Appends a source cmsg (IP_PKTINFO or IPV6_PKTINFO) for the record at buf; returns its
 * CMSG_SPACE. Call only when ep_has_source. */
size_t ep_source_cmsg(const uint8_t *ep, uint8_t *buf);

#endif
