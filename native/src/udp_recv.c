/* Batched UDP receive: recvmmsg straight into pool slots (udpRecvBatch), or through a
 * GRO ring that splits coalesced messages into one slot per datagram (udpRecvBatchGro).
 * Each datagram's sender and the local address it arrived on land in its endpoint record.
 *
 * Errors. A fatal error (a bad fd, buffer or argument) throws when nothing was read yet.
 * Any other (an error the kernel queued on the socket: ICMP unreachable on a connected
 * socket, an error recvmmsg saved after a partial batch, ENOBUFS, ENOMEM...) is survived:
 * counted in status[0], its -errno in status[1], and reading goes on once. The kernel
 * hands a queued socket error to exactly one receive (sock_error clears sk_err), so the
 * failed call consumed it: the next readiness reports new state, and a level-triggered
 * poll cannot spin on one error. A second error in the same call ends the call. */
#include "udp.h"
#include <errno.h>

static __thread recv_cmsg t_rctrl[MAX_BATCH];

/* Message j of the next recvmmsg reads into [base, base + len), with its sender and cmsgs in the thread's arrays. */
static void prepare_recv(int j, void *base, size_t len) {
  t_iovs[j].iov_base = base;
  t_iovs[j].iov_len = len;
  struct msghdr *h = &t_msgs[j].msg_hdr;
  h->msg_name = &t_addrs[j];
  h->msg_namelen = sizeof t_addrs[j];
  h->msg_iov = &t_iovs[j];
  h->msg_iovlen = 1;
  h->msg_control = t_rctrl[j].buf;
  h->msg_controllen = sizeof t_rctrl[j].buf;
  h->msg_flags = 0;
}

static bool recv_fatal(int err) {
  return err == EBADF || err == ENOTSOCK || err == EFAULT || err == EINVAL || err == EOPNOTSUPP;
}

static void note_error(int32_t *status, int err) {
  if (!status) return;
  status[0]++;
  status[1] = -err;
}

typedef struct {
  int fd;
  uint8_t *slab, *eps;
  int32_t *offsets, *lengths, *status;
  size_t slab_len, n_off, n_len, n_eps, n_status;
  int64_t max_len, count;
} recv_args;

/* (fd, slab, offsets, lengths, endpoints, maxLen, count) at argv[0..6]. */
static bool parse_recv(napi_env env, const char *fn, napi_value *argv, recv_args *a) {
  char what[96];
#define WHAT(x) (snprintf(what, sizeof what, "%s: %s", fn, x), what)
  if (!arg_fd(env, argv[0], WHAT("fd"), &a->fd)) return false;
  if (!arg_bytes(env, argv[1], WHAT("slab"), &a->slab, &a->slab_len)) return false;
  if (!arg_i32s(env, argv[2], WHAT("offsets"), &a->offsets, &a->n_off)) return false;
  if (!arg_i32s(env, argv[3], WHAT("lengths"), &a->lengths, &a->n_len)) return false;
  if (!arg_bytes(env, argv[4], WHAT("endpoints"), &a->eps, &a->n_eps)) return false;
  if (!arg_int(env, argv[5], WHAT("maxLen"), 1, 0x7fffffff, &a->max_len)) return false;
  size_t cap = a->n_off < a->n_len ? a->n_off : a->n_len;
  if (a->n_eps / EP_STRIDE < cap) cap = a->n_eps / EP_STRIDE;
  snprintf(what, sizeof what, "%s: count (limited by offsets, lengths and endpoints/%d)", fn, EP_STRIDE);
  if (!arg_int(env, argv[6], what, 0, (int64_t)cap, &a->count)) return false;
#undef WHAT
  return true;
}

/* udpRecvBatch(fd, slab, offsets, lengths, endpoints, maxLen, count, status?) -> n.
 * Datagram i lands at slab[offsets[i]], its size in lengths[i], its sender and local
 * address in endpoints[i * 48]. A datagram longer than maxLen gets lengths[i] = -1
 * (MSG_TRUNC): the caller drops it, never uses the truncated bytes. */
napi_value udp_recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const char *fn = "udpRecvBatch";
  recv_args a;
  if (!parse_recv(env, fn, argv, &a)) return NULL;
  if (!opt_status(env, argv[7], "udpRecvBatch: status", &a.status, &a.n_status)) return NULL;
  mem_span spans[] = {
    { "slab", a.slab, a.slab_len },        { "offsets", a.offsets, a.n_off * 4 }, { "lengths", a.lengths, a.n_len * 4 },
    { "endpoints", a.eps, a.n_eps },       { "status", a.status, a.n_status * 4 },
  };
  if (!check_disjoint(env, fn, spans, 5)) return NULL;
  if (!check_windows(env, fn, a.slab_len, a.offsets, NULL, a.max_len, a.count)) return NULL;
  if (a.status) a.status[0] = a.status[1] = 0;

  int64_t total = 0;
  int survived = 0;
  while (total < a.count) {
    int chunk = a.count - total > MAX_BATCH ? MAX_BATCH : (int)(a.count - total);
    for (int j = 0; j < chunk; j++) {
      int64_t off = load_i32(a.offsets, total + j);
      if (!window_ok(off, a.max_len, a.slab_len)) return throw_changed(env, fn, total + j);
      prepare_recv(j, a.slab + off, (size_t)a.max_len);
    }
    int r = recvmmsg(a.fd, t_msgs, (unsigned)chunk, MSG_DONTWAIT, NULL);
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (recv_fatal(err)) {
        if (total > 0) break;
        return throw_errno(env, "recvmmsg", err);
      }
      note_error(a.status, err);
      if (++survived > 1) break;
      continue;
    }
    for (int j = 0; j < r; j++) {
      int64_t i = total + j;
      struct msghdr *h = &t_msgs[j].msg_hdr;
      a.lengths[i] = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)t_msgs[j].msg_len;
      uint8_t *ep = a.eps + i * EP_STRIDE;
      ep_write_remote(ep, &t_addrs[j]);
      ep_parse_cmsgs(ep, h);
      ep[1] = ep_received_tos(h);
    }
    total += r;
    if (r < chunk) break;
  }
  napi_value out;
  napi_create_int64(env, total, &out);
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

const int udp_gro_ring_bytes = GRO_RING_BYTES;

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
napi_value udp_recv_batch_gro(napi_env env, napi_callback_info info) {
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
    int n = recvmmsg(a.fd, t_msgs, (unsigned)want, MSG_DONTWAIT, NULL);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (recv_fatal(err)) {
        if (total == 0) {
          throw_errno(env, "recvmmsg", err);
          thrown = true;
        }
        break;
      }
      note_error(a.status, err);
      if (++survived > 1) break;
      continue;
    }
    for (int j = 0; j < n; j++) {
      struct msghdr *h = &t_msgs[j].msg_hdr;
      int32_t len = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)t_msgs[j].msg_len;
      int seg = ep_parse_cmsgs(rec[j].ep, h);
      ep_write_remote(rec[j].ep, &t_addrs[j]);
      rec[j].ep[1] = ep_received_tos(h);
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
