/* UDP GSO on send (docs/offloads.md): runs of equal-size datagrams to one endpoint go out
 * as one UDP_SEGMENT message that the kernel cuts, through the send engine of udp_send.c
 * (udpSendBatchGso). The kernel may refuse a message for its size or refuse GSO itself;
 * each refusal teaches the caller's state a size limit, or turns GSO off. Also the probe
 * for UDP_SEGMENT (udpGsoSupported). */
#include "udp_send.h"
#include <errno.h>

/* One UDP_SEGMENT message carries at most 64 datagrams (UDP_MAX_SEGMENTS before Linux
 * 6.10; 128 since) and at most one IPv4 datagram's worth of payload. */
#define GSO_MAX_SEGMENTS 64
#define GSO_MAX_BYTES 65507
/* A size refusal never teaches a limit below this: such a path gets no GSO at all. */
#define GSO_MIN_LIMIT 512
/* EINVAL for a GSO message whose segments are at most this large is not about the path
 * MTU (every IPv6 path carries 1232-byte UDP payloads): the socket cannot do GSO. */
#define GSO_EINVAL_SIZE 1232

/* The caller's state (Int32Array of GSO_STATE_LEN). [GSO_ON] and [GSO_SIZE_LIMIT] persist
 * across calls; the others report the last call. */
#define GSO_STATE_LEN 8
enum {
  GSO_ON = 0,            /* 1 while the socket sends with UDP_SEGMENT */
  GSO_MESSAGES = 1,      /* GSO messages sent */
  GSO_DATAGRAMS = 2,     /* datagrams in them */
  GSO_FALLBACKS = 3,     /* GSO messages refused and resent one datagram at a time */
  GSO_SIZE_LIMIT = 4,    /* largest datagram grouped (0: no limit learned) */
  GSO_OVERSIZE = 5,      /* datagrams sent alone for being above the limit */
  GSO_SOURCE_RESETS = 6, /* endpoint records whose local part was cleared */
};

int gso_run(const send_ctx *c, const int32_t *lens, const uint8_t *eps, int64_t avail, bool *oversize) {
  int32_t size = lens[0];
  *oversize = false;
  if (size <= 0) return 1;
  if (c->limit > 0 && size > c->limit) {
    *oversize = true;
    return 1;
  }
  /* Identical records (remote and local part), every datagram the first one's length
   * (the last may be shorter), at most one IPv4 datagram's worth in all. */
  int n = 1;
  int64_t bytes = size;
  while (n < avail && n < GSO_MAX_SEGMENTS) {
    int32_t next = lens[n];
    if (next <= 0 || next > size || bytes + next > GSO_MAX_BYTES) break;
    if (memcmp(eps + n * EP_STRIDE, eps, EP_STRIDE) != 0) break;
    bytes += next;
    n++;
    if (next < size) break; /* only the last segment may be short */
  }
  return n;
}

size_t gso_segment_cmsg(int32_t size, uint8_t *buf) {
  struct cmsghdr *cm = (struct cmsghdr *)buf;
  uint16_t gso_size = (uint16_t)size;
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof gso_size);
  memcpy(CMSG_DATA(cm), &gso_size, sizeof gso_size);
  return CMSG_SPACE(sizeof gso_size);
}

bool gso_refused(send_ctx *c, int32_t size, int err) {
  if (err != EIO && err != EINVAL && err != EMSGSIZE) return false;
  c->fallbacks++;
  if (err == EIO || (err == EINVAL && size <= GSO_EINVAL_SIZE)) {
    c->gso = false;
    return true;
  }
  int32_t limit = size - 1;
  if (limit < GSO_MIN_LIMIT) c->gso = false;
  else if (c->limit == 0 || limit < c->limit) c->limit = limit;
  return true;
}

/* udpSendBatchGso(fd, slab, offsets, lengths, endpoints, count, errors, state) -> sent.
 * udpSendBatch with UDP GSO while state[GSO_ON] is 1: same arguments, same per-datagram
 * results (a refused GSO message reports its error for each of its datagrams).
 * When the kernel refuses a GSO message, its datagrams go out one by one in that call,
 * and the socket learns:
 *   EMSGSIZE (a segment larger than the path MTU allows, 6.14+), or EINVAL for segments
 *   above GSO_EINVAL_SIZE (the same, before 6.14): datagrams of that size and larger are
 *   no longer grouped (state[GSO_SIZE_LIMIT] = size - 1); GSO stays on for the rest;
 *   EIO (no checksum offload, IPsec route), EINVAL for small segments (zero-checksum
 *   socket), or a limit below GSO_MIN_LIMIT: GSO off for the socket's lifetime. */
static napi_value udp_send_batch_gso(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t *state;
  size_t n_state;
  if (!arg_i32s(env, argv[7], "udpSendBatchGso: state", &state, &n_state)) return NULL;
  if (n_state < GSO_STATE_LEN) return throw_rangef(env, "udpSendBatchGso: state needs %d entries, has %zu", GSO_STATE_LEN, n_state);
  send_ctx c;
  if (!parse_send(env, "udpSendBatchGso", argv, state, n_state, &c)) return NULL;
  c.gso = load_i32(state, GSO_ON) != 0;
  c.limit = load_i32(state, GSO_SIZE_LIMIT);
  if (c.limit < 0) c.limit = 0;
  bool ok = send_all(env, "udpSendBatchGso", &c);
  state[GSO_ON] = c.gso ? 1 : 0;
  state[GSO_SIZE_LIMIT] = c.limit;
  state[GSO_MESSAGES] = c.messages;
  state[GSO_DATAGRAMS] = c.datagrams;
  state[GSO_FALLBACKS] = c.fallbacks;
  state[GSO_OVERSIZE] = c.oversize;
  state[GSO_SOURCE_RESETS] = c.resets;
  if (!ok) return NULL;
  napi_value out;
  napi_create_int64(env, c.sent, &out);
  return out;
}

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

napi_value init_udp_gso(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpSendBatchGso", udp_send_batch_gso);
  export_fn(env, exports, "udpGsoSupported", udp_gso_supported);
  export_int(env, exports, "UDP_GSO_STATE_LENGTH", GSO_STATE_LEN);
  export_int(env, exports, "UDP_GSO_MAX_SEGMENTS", GSO_MAX_SEGMENTS);
  return exports;
}
