/* Batched UDP send: sendmmsg straight out of pool slots, one result per datagram
 * (udpSendBatch). udp_gso.c runs the same engine with grouping into UDP_SEGMENT messages
 * (udpSendBatchGso); the hooks between the two are declared in udp_send.h.
 * A datagram whose endpoint record has a local part leaves from that address
 * (IP_PKTINFO / IPV6_PKTINFO: the sticky source), and is retried without it when the
 * kernel refuses that source.
 *
 * Bounds: every entry is validated first; then each window of MAX_BATCH entries is copied
 * once into thread-local arrays and checked again, and only the copy is used. */
#include "udp_send.h"
#include <errno.h>

static __thread int32_t s_off[MAX_BATCH], s_len[MAX_BATCH];
static __thread uint8_t s_ep[MAX_BATCH * EP_STRIDE];
/* Message m covers datagrams [t_first[m], t_first[m] + t_nseg[m]); t_src[m]: it names a source. */
static __thread int64_t t_first[MAX_BATCH];
static __thread int32_t t_nseg[MAX_BATCH];
static __thread bool t_src[MAX_BATCH];
static __thread bool t_oversize[MAX_BATCH]; /* sent alone for being above the size limit */
static __thread send_cmsg t_sctrl[MAX_BATCH];
static __thread send_cmsg t_one_ctrl;

static bool send_fatal(int err) {
  return err == EBADF || err == ENOTSOCK || err == EFAULT;
}

/* Errors that mean "this source address cannot be used for this destination now": the
 * address went away, or the route to the peer no longer leaves where it did. */
static bool source_error(int err) {
  return err == EINVAL || err == EADDRNOTAVAIL || err == ENETUNREACH || err == ENODEV;
}

static bool family_ok(uint8_t f) {
  return f == 0 || f == 4 || f == 6;
}

/* Copies entries [from, from + MAX_BATCH) and checks them again. */
static bool snapshot(send_ctx *c, int64_t from) {
  int64_t end = c->count - from > MAX_BATCH ? from + MAX_BATCH : c->count;
  for (int64_t i = from; i < end; i++) {
    int64_t k = i - from;
    int32_t off = load_i32(c->offsets, i), len = load_i32(c->lengths, i);
    uint8_t *ep = s_ep + k * EP_STRIDE;
    memcpy(ep, c->eps + i * EP_STRIDE, EP_STRIDE);
    if (!window_ok(off, len, c->slab_len) || !family_ok(ep[0]) || !family_ok(ep[EP_LOCAL])) return false;
    s_off[k] = off;
    s_len[k] = len;
  }
  c->win = from;
  c->win_end = end;
  return true;
}

static socklen_t build_control(send_cmsg *ctl, int nseg, int32_t size, const uint8_t *ep, bool with_source) {
  size_t used = nseg > 1 ? gso_segment_cmsg(size, (uint8_t *)ctl->buf) : 0;
  if (with_source) used += ep_source_cmsg(ep, (uint8_t *)ctl->buf + used);
  /* A GSO run shares its record, TOS byte included. */
  used += ep_tos_cmsg(ep, (uint8_t *)ctl->buf + used);
  return (socklen_t)used;
}

static void set_control(struct msghdr *h, send_cmsg *ctl, socklen_t len) {
  h->msg_control = len ? ctl->buf : NULL;
  h->msg_controllen = len;
}

/* Builds the messages for datagrams [from, win_end) (one iovec each, pointing into the
 * slab: no copy). With GSO, gso_run says how many datagrams one message carries (its
 * UDP_SEGMENT cmsg tells the kernel where to cut). Returns the message count; *end is
 * win_end. */
static int build_messages(send_ctx *c, int64_t from, int64_t *end) {
  int m = 0;
  int64_t i = from;
  while (i < c->win_end) {
    int64_t k = i - c->win;
    int32_t size = s_len[k];
    const uint8_t *ep = s_ep + k * EP_STRIDE;
    bool oversize = false;
    int n = c->gso ? gso_run(c, s_len + k, ep, c->win_end - i, &oversize) : 1;
    t_oversize[m] = oversize; /* counted when sent: messages may be built more than once */
    for (int s = 0; s < n; s++) {
      t_iovs[k + s].iov_base = c->slab + s_off[k + s];
      t_iovs[k + s].iov_len = (size_t)s_len[k + s];
    }
    struct msghdr *h = &t_msgs[m].msg_hdr;
    h->msg_namelen = ep_read_remote(ep, &t_addrs[m]);
    h->msg_name = h->msg_namelen ? &t_addrs[m] : NULL;
    h->msg_iov = &t_iovs[k];
    h->msg_iovlen = (size_t)n;
    h->msg_flags = 0;
    t_src[m] = ep_has_source(ep);
    set_control(h, &t_sctrl[m], build_control(&t_sctrl[m], n, size, ep, t_src[m]));
    t_first[m] = i;
    t_nseg[m] = n;
    m++;
    i += n;
  }
  *end = i;
  return m;
}

static void set_results(send_ctx *c, int64_t first, int n, int32_t result) {
  if (!c->errors) return;
  for (int s = 0; s < n; s++) c->errors[first + s] = result;
}

static void message_sent(send_ctx *c, int m) {
  set_results(c, t_first[m], t_nseg[m], 0);
  c->sent += t_nseg[m];
  if (t_oversize[m]) c->oversize++;
  if (t_nseg[m] > 1) {
    c->messages++;
    c->datagrams += t_nseg[m];
  }
}

/* Clears the local part of entry idx and of every later entry with the same record, in
 * the copy and in the caller's array: the next sends to that peer go without a source
 * until a datagram from it teaches a new one. */
static void forget_source(send_ctx *c, int64_t idx) {
  uint8_t old[EP_STRIDE];
  memcpy(old, s_ep + (idx - c->win) * EP_STRIDE, EP_STRIDE);
  for (int64_t i = idx; i < c->count; i++) {
    uint8_t *mine = i < c->win_end ? s_ep + (i - c->win) * EP_STRIDE : NULL;
    uint8_t *theirs = c->eps + i * EP_STRIDE;
    if (memcmp(mine ? mine : theirs, old, EP_STRIDE) != 0) continue;
    if (mine) memset(mine + EP_LOCAL, 0, EP_STRIDE - EP_LOCAL);
    memset(theirs + EP_LOCAL, 0, EP_STRIDE - EP_LOCAL);
    c->resets++;
  }
}

/* 0 when sent, else errno (EINTR retried). */
static int send_one(int fd, const struct msghdr *h) {
  ssize_t r;
  do r = sendmsg(fd, h, MSG_DONTWAIT);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

/* Sends message m's datagrams one by one. Returns the index of the datagram that met
 * EAGAIN, or -1 when all were tried. */
static int64_t send_each(send_ctx *c, int m) {
  struct msghdr h = t_msgs[m].msg_hdr;
  h.msg_iovlen = 1;
  for (int s = 0; s < t_nseg[m]; s++) {
    int64_t i = t_first[m] + s, k = i - c->win;
    const uint8_t *ep = s_ep + k * EP_STRIDE;
    bool src = ep_has_source(ep);
    h.msg_iov = &t_iovs[k];
    set_control(&h, &t_one_ctrl, build_control(&t_one_ctrl, 1, 0, ep, src));
    int err = send_one(c->fd, &h);
    if (err && src && source_error(err)) {
      forget_source(c, i);
      set_control(&h, &t_one_ctrl, 0);
      err = send_one(c->fd, &h);
    }
    if (err == EAGAIN || err == EWOULDBLOCK) return i;
    set_results(c, i, 1, -err);
    if (!err) c->sent++;
  }
  return -1;
}

/* Message m failed with err (not EAGAIN). Retries without the source when the source may
 * be the cause, resends one by one when GSO was refused, else records the error for its
 * datagrams. Returns the EAGAIN index, or -1. */
static int64_t message_failed(send_ctx *c, int m, int err) {
  int64_t first = t_first[m], k = first - c->win;
  if (t_src[m] && source_error(err)) {
    forget_source(c, first);
    t_src[m] = false;
    struct msghdr *h = &t_msgs[m].msg_hdr;
    set_control(h, &t_sctrl[m], build_control(&t_sctrl[m], t_nseg[m], s_len[k], s_ep + k * EP_STRIDE, false));
    err = send_one(c->fd, h);
    if (err == 0) {
      message_sent(c, m);
      return -1;
    }
    if (err == EAGAIN || err == EWOULDBLOCK) return first;
  }
  if (t_nseg[m] > 1 && gso_refused(c, s_len[k], err)) return send_each(c, m);
  set_results(c, first, t_nseg[m], -err);
  return -1;
}

bool send_all(napi_env env, const char *fn, send_ctx *c) {
  int64_t i = 0, again_from = -1;
  c->win = c->win_end = 0;
  while (i < c->count && again_from < 0) {
    if (i >= c->win_end && !snapshot(c, i)) {
      throw_changed(env, fn, i);
      return false;
    }
    int64_t end;
    int m = build_messages(c, i, &end);
    int j = 0;
    while (j < m) {
      int r = sendmmsg(c->fd, t_msgs + j, (unsigned)(m - j), MSG_DONTWAIT);
      if (r > 0) {
        for (int q = j; q < j + r; q++) message_sent(c, q);
        j += r;
        continue;
      }
      int err = r < 0 ? errno : EAGAIN;
      if (err == EINTR) continue;
      if (send_fatal(err)) {
        throw_errno(env, "sendmmsg", err);
        return false;
      }
      if (err == EAGAIN || err == EWOULDBLOCK) {
        again_from = t_first[j];
        break;
      }
      again_from = message_failed(c, j, err);
      /* Rebuild from the next datagram: the messages after j may have to change. */
      end = t_first[j] + t_nseg[j];
      break;
    }
    i = end;
  }
  if (again_from >= 0 && c->errors)
    for (int64_t k = again_from; k < c->count; k++) c->errors[k] = -EAGAIN;
  return true;
}

bool parse_send(napi_env env, const char *fn, napi_value *argv, int32_t *state, size_t n_state, send_ctx *c) {
  char what[96];
#define WHAT(x) (snprintf(what, sizeof what, "%s: %s", fn, x), what)
  size_t n_off, n_len, n_eps, n_err = 0;
  int32_t *offsets, *lengths;
  memset(c, 0, sizeof *c);
  if (!arg_fd(env, argv[0], WHAT("fd"), &c->fd)) return false;
  if (!arg_bytes(env, argv[1], WHAT("slab"), &c->slab, &c->slab_len)) return false;
  if (!arg_i32s(env, argv[2], WHAT("offsets"), &offsets, &n_off)) return false;
  if (!arg_i32s(env, argv[3], WHAT("lengths"), &lengths, &n_len)) return false;
  if (!arg_bytes(env, argv[4], WHAT("endpoints"), &c->eps, &n_eps)) return false;
  c->offsets = offsets;
  c->lengths = lengths;
  size_t cap = n_off < n_len ? n_off : n_len;
  if (n_eps / EP_STRIDE < cap) cap = n_eps / EP_STRIDE;
  snprintf(what, sizeof what, "%s: count (limited by offsets, lengths and endpoints/%d)", fn, EP_STRIDE);
  if (!arg_int(env, argv[5], what, 0, (int64_t)cap, &c->count)) return false;
  if (!arg_absent(env, argv[6])) {
    if (!arg_i32s(env, argv[6], WHAT("errors"), &c->errors, &n_err)) return false;
    if ((int64_t)n_err < c->count) {
      throw_rangef(env, "%s: errors has %zu entries, count is %lld", fn, n_err, (long long)c->count);
      return false;
    }
  }
#undef WHAT
  mem_span spans[] = {
    { "slab", c->slab, c->slab_len }, { "offsets", offsets, n_off * 4 }, { "lengths", lengths, n_len * 4 },
    { "endpoints", c->eps, n_eps },   { "errors", c->errors, n_err * 4 }, { "state", state, n_state * 4 },
  };
  if (!check_disjoint(env, fn, spans, 6)) return false;
  if (!check_windows(env, fn, c->slab_len, offsets, lengths, 0, c->count)) return false;
  for (int64_t i = 0; i < c->count; i++) {
    const uint8_t *ep = c->eps + i * EP_STRIDE;
    if (!family_ok(ep[0])) {
      throw_rangef(env, "%s: endpoint %lld has family %u (want 4, 6 or 0)", fn, (long long)i, ep[0]);
      return false;
    }
    if (!family_ok(ep[EP_LOCAL])) {
      throw_rangef(env, "%s: endpoint %lld has local family %u (want 4, 6 or 0)", fn, (long long)i, ep[EP_LOCAL]);
      return false;
    }
  }
  return true;
}

/* udpSendBatch(fd, slab, offsets, lengths, endpoints, count, errors?) -> sent.
 * Datagram i is slab[offsets[i], +lengths[i]) to endpoints[i * 48], from its local part
 * when set. A datagram the kernel refuses (ECONNREFUSED, ENETUNREACH, EMSGSIZE, ...) is
 * skipped with errors[i] = -errno; on EAGAIN (send buffer full) it and the rest are
 * reported as -EAGAIN, not sent. A send from a source that fails with EINVAL,
 * EADDRNOTAVAIL, ENETUNREACH or ENODEV clears that local part (in the caller's array too)
 * and is retried once without it. Only a bad fd throws. */
static napi_value udp_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  send_ctx c;
  if (!parse_send(env, "udpSendBatch", argv, NULL, 0, &c)) return NULL;
  if (!send_all(env, "udpSendBatch", &c)) return NULL;
  napi_value out;
  napi_create_int64(env, c.sent, &out);
  return out;
}

napi_value init_udp_send(napi_env env, napi_value exports) {
  export_fn(env, exports, "udpSendBatch", udp_send_batch);
  return exports;
}
