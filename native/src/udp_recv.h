/* The receive helpers udp_recv.c (plain recvmmsg) shares with udp_gro.c (recvmmsg through
 * the GRO ring): one way to parse arguments, set up a message and treat an error. */
#ifndef FERRY_UDP_RECV_H
#define FERRY_UDP_RECV_H

#include "udp.h"

typedef struct {
  int fd;
  uint8_t *slab, *eps;
  int32_t *offsets, *lengths, *status;
  size_t slab_len, n_off, n_len, n_eps, n_status;
  int64_t max_len, count;
} recv_args;

/* (fd, slab, offsets, lengths, endpoints, maxLen, count) at argv[0..6]; false after throwing. */
bool parse_recv(napi_env env, const char *fn, napi_value *argv, recv_args *a);
/* Message j of the next recvmmsg reads into [base, base + len), with its sender and cmsgs
 * in the thread's arrays. */
void prepare_recv(int j, void *base, size_t len);

/* What recv_messages returns when it read nothing. */
enum {
  RECV_AGAIN = -1, /* call again: EINTR, or an error survived (counted in status) */
  RECV_END = -2,   /* nothing more now: EAGAIN, or a second error survived in this call */
  RECV_FATAL = -3, /* the fd, a buffer or an argument is broken: *fatal holds the errno */
};
/* One recvmmsg of the want messages prepared. Returns how many it read, or a RECV_* code.
 * *survived counts the errors survived in this call. */
int recv_messages(int fd, int want, int32_t *status, int *survived, int *fatal);
/* Writes received message j's sender, local address and TOS into the record ep, and its
 * length into *len (-1 when it was cut: MSG_TRUNC); returns its UDP_GRO segment size (0: none). */
int recv_finish(int j, uint8_t *ep, int32_t *len);

#endif
