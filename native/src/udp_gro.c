/* Batched UDP receive with UDP GRO (udpRecvBatchGro): the kernel coalesces datagrams of a
 * flow into one message; this file reads whole messages into a ring and hands them out
 * one datagram per pool slot, so callers see exactly what udpRecvBatch gives them (errors
 * too: see udp_recv.c). Also the probe that turns UDP_GRO on (udpSetGro). */
#include "udp_recv.h"
#include <errno.h>

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

/* One record's fields, read once. */
static bool gro_record_valid(int32_t len, int32_t seg) {
  return len >= -1 && len <= GRO_BUF_BYTES && seg >= 1;
}

/* The ring is caller memory: check it before trusting any offset in it. */
static bool gro_ring_valid(int32_t count, int32_t head, int32_t next, const gro_record *rec) {
  if (count < 0 || head < 0 || count > GRO_RING_MSGS - head) return false;
  if (count == 0) return true;
  if (next < 0) return false;
  for (int32_t k = head; k < head + count; k++) {
    if (!gro_record_valid(load_i32(&rec[k].len, 0), load_i32(&rec[k].seg, 0))) return false;
  }
  int32_t len = load_i32(&rec[head].len, 0);
  return len < 0 ? next == 0 : next < len || (len == 0 && next == 0);
}

/* udpRecvBatchGro(fd, slab, offsets, lengths, endpoints, maxLen, count, ring, status?) -> n.
 * udpRecvBatch for a socket with UDP_GRO on: same results, one datagram per entry (a
 * coalesced message is split, each datagram copied into its own slot with the message's
 * endpoint record); lengths[i] = -1 for a datagram longer than maxLen (and once for a
 * message larger than a ring buffer). Datagrams left in the ring come first in the next
 * call. The ring's header and records are read into locals and checked before use. */
static napi_value udp_recv_batch_gro(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *fn = "udpRecvBatchGro";
  recv_args a;
  uint8_t *ring;
  size_t ring_len;
  if (!parse_recv(env, fn, argv, &a)) return NULL;
  if (!arg_bytes(env, argv[7], "udpRecvBatchGro: ring", &ring, &ring_len)) return NULL;
  if (ring_len < GRO_RING_BYTES || ((uintptr_t)ring & 7) != 0)
    return throw_rangef(env, "udpRecvBatchGro: ring must be an 8-byte aligned Uint8Array of UDP_GRO_RING_BYTES (%d)", GRO_RING_BYTES);
  if (!opt_status(env, argv[8], "udpRecvBatchGro: status", &a.status, &a.n_status)) return NULL;
  mem_span spans[] = {
    { "slab", a.slab, a.slab_len }, { "offsets", a.offsets, a.n_off * 4 }, { "lengths", a.lengths, a.n_len * 4 },
    { "endpoints", a.eps, a.n_eps }, { "ring", ring, ring_len },           { "status", a.status, a.n_status * 4 },
  };
  if (!check_disjoint(env, fn, spans, 6)) return NULL;
  if (!check_windows(env, fn, a.slab_len, a.offsets, NULL, a.max_len, a.count)) return NULL;
  gro_header *hdr = (gro_header *)ring;
  gro_record *rec = (gro_record *)(ring + GRO_RECORDS_AT);
  uint8_t *bufs = ring + GRO_BUFS_AT;
  int32_t count = load_i32(&hdr->count, 0), head = load_i32(&hdr->head, 0), next = load_i32(&hdr->next, 0);
  if (!gro_ring_valid(count, head, next, rec)) return throw_rangef(env, "udpRecvBatchGro: ring state is corrupt");
  int32_t coalesced = 0, datagrams = 0;
  if (a.status) a.status[0] = a.status[1] = 0;

  int64_t total = 0;
  int survived = 0;
  bool kernel_drained = false;
  bool thrown = false; /* an exception is pending */
  for (;;) {
    /* Hand out what the ring holds, a datagram per slot. */
    while (count > 0 && total < a.count) {
      const gro_record *r = &rec[head];
      int32_t rlen = load_i32(&r->len, 0), rseg = load_i32(&r->seg, 0);
      if (!gro_record_valid(rlen, rseg) || (rlen >= 0 && next >= rlen && !(rlen == 0 && next == 0))) {
        throw_rangef(env, "udpRecvBatchGro: ring state is corrupt");
        thrown = true;
        goto out;
      }
      int64_t off = load_i32(a.offsets, total);
      if (!window_ok(off, a.max_len, a.slab_len)) {
        throw_changed(env, fn, total);
        thrown = true;
        goto out;
      }
      const uint8_t *buf = bufs + (size_t)head * GRO_BUF_BYTES;
      int32_t len = -1;
      bool done = true;
      if (rlen >= 0) {
        int32_t left = rlen - next;
        int32_t seg = left < rseg ? left : rseg;
        if (seg <= a.max_len) {
          memcpy(a.slab + off, buf + next, (size_t)seg);
          len = seg;
        }
        next += seg;
        done = next >= rlen;
      }
      a.lengths[total] = len;
      memcpy(a.eps + total * EP_STRIDE, r->ep, EP_STRIDE);
      total++;
      if (done) {
        head++;
        count--;
        next = 0;
      }
    }
    if (total == a.count || kernel_drained) break;

    /* The ring is empty: read at most one message per slot still to fill. */
    int want = a.count - total < GRO_RING_MSGS ? (int)(a.count - total) : GRO_RING_MSGS;
    for (int j = 0; j < want; j++) {
      prepare_recv(j, bufs + (size_t)j * GRO_BUF_BYTES, GRO_BUF_BYTES);
    }
    int fatal = 0;
    int n = recv_messages(a.fd, want, a.status, &survived, &fatal);
    if (n == RECV_AGAIN) continue;
    if (n == RECV_END) break;
    if (n == RECV_FATAL) {
      if (total == 0) {
        throw_errno(env, "recvmmsg", fatal);
        thrown = true;
      }
      break;
    }
    for (int j = 0; j < n; j++) {
      int32_t len;
      int seg = recv_finish(j, rec[j].ep, &len);
      if (len > 0 && seg > 0 && seg < len) {
        coalesced++;
        datagrams += (len + seg - 1) / seg;
      } else {
        seg = len > 0 ? len : 1;
      }
      rec[j].len = len;
      rec[j].seg = seg;
    }
    head = 0;
    count = n;
    next = 0;
    kernel_drained = n < want;
  }
out:
  hdr->count = count;
  hdr->head = head;
  hdr->next = next;
  hdr->coalesced = coalesced;
  hdr->datagrams = datagrams;
  if (thrown) return NULL;
  napi_value out;
  napi_create_int64(env, total, &out);
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
  int value = on ? 1 : 0;
  int err = setsockopt(fd, SOL_UDP, UDP_GRO, &value, sizeof value) < 0 ? errno : 0;
  if (err == EBADF || err == ENOTSOCK) return throw_errno(env, "setsockopt UDP_GRO", err);
  napi_value out;
  napi_get_boolean(env, err == 0, &out);
  return out;
}

napi_value init_udp_gro(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpRecvBatchGro", udp_recv_batch_gro);
  export_fn(env, exports, "udpSetGro", udp_set_gro);
  export_int(env, exports, "UDP_GRO_RING_BYTES", GRO_RING_BYTES);
  return exports;
}
