/* Batched UDP receive: recvmmsg straight into pool slots (udpRecvBatch). udp_gro.c reads
 * through a ring instead (UDP GRO) and shares the helpers declared in udp_recv.h.
 * Each datagram's sender and the local address it arrived on land in its endpoint record.
 *
 * Errors. A fatal error (a bad fd, buffer or argument) throws when nothing was read yet.
 * Any other (an error the kernel queued on the socket: ICMP unreachable on a connected
 * socket, an error recvmmsg saved after a partial batch, ENOBUFS, ENOMEM...) is survived:
 * counted in status[0], its -errno in status[1], and reading goes on once. The kernel
 * hands a queued socket error to exactly one receive (sock_error clears sk_err), so the
 * failed call consumed it: the next readiness reports new state, and a level-triggered
 * poll cannot spin on one error. A second error in the same call ends the call. */
#include "udp_recv.h"
#include <errno.h>

static __thread recv_cmsg t_rctrl[MAX_BATCH];

void prepare_recv(int j, void *base, size_t len) {
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

int recv_messages(int fd, int want, int32_t *status, int *survived, int *fatal) {
  int n = recvmmsg(fd, t_msgs, (unsigned)want, MSG_DONTWAIT, NULL);
  if (n >= 0) return n;
  int err = errno;
  if (err == EINTR) return RECV_AGAIN;
  if (err == EAGAIN || err == EWOULDBLOCK) return RECV_END;
  if (recv_fatal(err)) {
    *fatal = err;
    return RECV_FATAL;
  }
  if (status) {
    status[0]++;
    status[1] = -err;
  }
  return ++*survived > 1 ? RECV_END : RECV_AGAIN;
}

int recv_finish(int j, uint8_t *ep, int32_t *len) {
  struct msghdr *h = &t_msgs[j].msg_hdr;
  *len = (h->msg_flags & MSG_TRUNC) ? -1 : (int32_t)t_msgs[j].msg_len;
  ep_write_remote(ep, &t_addrs[j]);
  int seg = ep_parse_cmsgs(ep, h);
  ep[1] = ep_received_tos(h);
  return seg;
}

bool parse_recv(napi_env env, const char *fn, napi_value *argv, recv_args *a) {
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
static napi_value udp_recv_batch(napi_env env, napi_callback_info info) {
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
    int fatal = 0;
    int r = recv_messages(a.fd, chunk, a.status, &survived, &fatal);
    if (r == RECV_AGAIN) continue;
    if (r == RECV_END) break;
    if (r == RECV_FATAL) {
      if (total > 0) break;
      return throw_errno(env, "recvmmsg", fatal);
    }
    for (int j = 0; j < r; j++) recv_finish(j, a.eps + (total + j) * EP_STRIDE, &a.lengths[total + j]);
    total += r;
    if (r < chunk) break;
  }
  napi_value out;
  napi_create_int64(env, total, &out);
  return out;
}

napi_value init_udp_recv(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpRecvBatch", udp_recv_batch);
  return exports;
}
