/* The send engine udp_send.c (plain sendmmsg) shares with udp_gso.c (UDP GSO): the
 * context of one call, and the hooks through which GSO groups datagrams and learns from
 * the kernel's refusals. Native code keeps no per-socket state: the GSO switch, the
 * learned size limit and the counters live in the caller's state array (udp_gso.c). */
#ifndef FERRY_UDP_SEND_H
#define FERRY_UDP_SEND_H

#include "udp.h"

typedef struct {
  int fd;
  uint8_t *slab, *eps;
  size_t slab_len;
  const int32_t *offsets, *lengths;
  int32_t *errors;
  int64_t count;
  int64_t win, win_end; /* entries [win, win_end) are copied into s_* at index i - win */
  bool gso;
  int32_t limit;
  int32_t messages, datagrams, fallbacks, oversize, resets;
  int64_t sent;
} send_ctx;

/* udp_send.c. (fd, slab, offsets, lengths, endpoints, count, errors?) at argv[0..6], then
 * checks every entry, and that no two arrays (state included) share bytes; false after
 * throwing. */
bool parse_send(napi_env env, const char *fn, napi_value *argv, int32_t *state, size_t n_state, send_ctx *c);
/* udp_send.c. Sends every entry (grouped while c->gso); false after throwing. */
bool send_all(napi_env env, const char *fn, send_ctx *c);

/* udp_gso.c. How many datagrams, from the one whose length and record are lens[0] and
 * eps[0], one GSO message carries (1: alone); at most avail. *oversize: sent alone for
 * being above the learned size limit. */
int gso_run(const send_ctx *c, const int32_t *lens, const uint8_t *eps, int64_t avail, bool *oversize);
/* udp_gso.c. Writes the UDP_SEGMENT cmsg for segments of size bytes at buf; returns its
 * CMSG_SPACE. */
size_t gso_segment_cmsg(int32_t size, uint8_t *buf);
/* udp_gso.c. A GSO message of size-byte segments failed with err: true when that is the
 * kernel refusing GSO (for this size, or at all), after learning from it (the caller then
 * sends its datagrams one by one); false for any other error. */
bool gso_refused(send_ctx *c, int32_t size, int err);

#endif
