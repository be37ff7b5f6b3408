/* TUN offloads (IFF_VNET_HDR devices): ask the kernel for checksum and segmentation
 * offloads, and write groups of iovecs with one writev each (a coalesced super-packet:
 * its virtio header and head packet, then the payloads of the packets merged into it,
 * straight from the pool slots). Reads need nothing new: tunReadBatch reads the virtio
 * header into the slot in front of the packet. */
#include "addon.h"
#include <errno.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* The system headers may predate these (USO came in Linux 6.2). */
#ifndef TUN_F_CSUM
#define TUN_F_CSUM 0x01
#endif
#ifndef TUN_F_TSO4
#define TUN_F_TSO4 0x02
#endif
#ifndef TUN_F_TSO6
#define TUN_F_TSO6 0x04
#endif
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif
#ifndef TUNSETOFFLOAD
#define TUNSETOFFLOAD _IOW('T', 208, unsigned int)
#endif

/* Most iovecs one group may have (the kernel's UIO_MAXIOV). */
#define GROUP_MAX_IOV 1024

/* tunSetOffload(fd, flags) -> accepted flags, or -errno when the kernel refused them all.
 * flags are TUN_F_* bits; when the whole set is refused and it holds USO bits, the set
 * without them is tried (kernels before 6.2 refuse unknown bits with EINVAL). 0 turns
 * every offload off. */
static napi_value tun_set_offload(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  int64_t flags;
  if (!arg_fd(env, argv[0], "tunSetOffload: fd", &fd)) return NULL;
  if (!arg_int(env, argv[1], "tunSetOffload: flags", 0, 0x7f, &flags)) return NULL;
  unsigned int want = (unsigned int)flags;
  int result;
  if (ioctl(fd, TUNSETOFFLOAD, want) == 0) {
    result = (int)want;
  } else {
    int err = errno;
    unsigned int without_uso = want & ~(unsigned int)(TUN_F_USO4 | TUN_F_USO6);
    if (err == EINVAL && without_uso != want && ioctl(fd, TUNSETOFFLOAD, without_uso) == 0) result = (int)without_uso;
    else if (err == EBADF) return throw_errno(env, "ioctl TUNSETOFFLOAD", err);
    else result = -err;
  }
  napi_value out;
  napi_create_int32(env, result, &out);
  return out;
}

/* Checks group g's iovec range against the iovec arrays: start >= 0, 1 <= count <= GROUP_MAX_IOV, start + count <= n_iov. */
static bool group_ok(int64_t start, int64_t count, size_t n_iov) {
  return start >= 0 && count >= 1 && count <= GROUP_MAX_IOV && (uint64_t)(start + count) <= n_iov;
}

/* tunWritevBatch(fd, slab, iovOffsets, iovLengths, groupIovStart, groupIovCount, groupCount, results) -> groups written.
 * Group g is the iovecs [groupIovStart[g], +groupIovCount[g]) of (iovOffsets, iovLengths),
 * windows of the slab, written with one writev. results[g] = 0 when written, else -errno
 * (EINVAL for a super-packet the kernel will not take, EIO, EAGAIN...): never thrown,
 * only a bad fd throws. Every group and window is checked before the first writev. */
static napi_value tun_writev_batch(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  uint8_t *slab;
  int32_t *iov_off, *iov_len, *g_start, *g_count, *results;
  size_t slab_len, n_off, n_len, n_start, n_count, n_res;
  int64_t groups;
  const char *fn = "tunWritevBatch";
  if (!arg_fd(env, argv[0], "tunWritevBatch: fd", &fd)) return NULL;
  if (!arg_bytes(env, argv[1], "tunWritevBatch: slab", &slab, &slab_len)) return NULL;
  if (!arg_i32s(env, argv[2], "tunWritevBatch: iovOffsets", &iov_off, &n_off)) return NULL;
  if (!arg_i32s(env, argv[3], "tunWritevBatch: iovLengths", &iov_len, &n_len)) return NULL;
  if (!arg_i32s(env, argv[4], "tunWritevBatch: groupIovStart", &g_start, &n_start)) return NULL;
  if (!arg_i32s(env, argv[5], "tunWritevBatch: groupIovCount", &g_count, &n_count)) return NULL;
  size_t n_groups = n_start < n_count ? n_start : n_count;
  if (!arg_int(env, argv[6], "tunWritevBatch: groupCount", 0, (int64_t)n_groups, &groups)) return NULL;
  if (!arg_i32s(env, argv[7], "tunWritevBatch: results", &results, &n_res)) return NULL;
  if ((int64_t)n_res < groups) return throw_rangef(env, "tunWritevBatch: results has %zu entries, groupCount is %lld", n_res, (long long)groups);
  mem_span spans[] = {
    { "slab", slab, slab_len },
    { "iovOffsets", iov_off, n_off * 4 },
    { "iovLengths", iov_len, n_len * 4 },
    { "groupIovStart", g_start, n_start * 4 },
    { "groupIovCount", g_count, n_count * 4 },
    { "results", results, n_res * 4 },
  };
  if (!check_disjoint(env, fn, spans, 6)) return NULL;
  size_t n_iov = n_off < n_len ? n_off : n_len;
  for (int64_t g = 0; g < groups; g++) {
    int64_t start = g_start[g], count = g_count[g];
    if (!group_ok(start, count, n_iov)) {
      return throw_rangef(env, "%s: group %lld (iovecs %lld + %lld) lies outside the iovec arrays (%zu entries, at most %d per group)", fn,
                          (long long)g, (long long)start, (long long)count, n_iov, GROUP_MAX_IOV);
    }
    if (!check_windows(env, fn, slab_len, iov_off + start, iov_len + start, 0, count)) return NULL;
  }

  struct iovec iov[GROUP_MAX_IOV];
  int64_t written = 0;
  for (int64_t g = 0; g < groups; g++) {
    int64_t start = load_i32(g_start, g), count = load_i32(g_count, g);
    if (!group_ok(start, count, n_iov)) return throw_changed(env, fn, g);
    for (int64_t k = 0; k < count; k++) {
      int64_t off = load_i32(iov_off, start + k), len = load_i32(iov_len, start + k);
      if (!window_ok(off, len, slab_len)) return throw_changed(env, fn, g);
      iov[k].iov_base = slab + off;
      iov[k].iov_len = (size_t)len;
    }
    ssize_t r;
    do r = writev(fd, iov, (int)count);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int err = errno;
      if (err == EBADF) return throw_errno(env, "writev", err);
      results[g] = -err;
    } else {
      results[g] = 0;
      written++;
    }
  }
  napi_value out;
  napi_create_int64(env, written, &out);
  return out;
}

napi_value init_tun_offload(napi_env env, napi_value exports) {
  export_fn(env, exports, "tunSetOffload", tun_set_offload);
  export_fn(env, exports, "tunWritevBatch", tun_writev_batch);
  export_int(env, exports, "TUN_F_CSUM", TUN_F_CSUM);
  export_int(env, exports, "TUN_F_TSO4", TUN_F_TSO4);
  export_int(env, exports, "TUN_F_TSO6", TUN_F_TSO6);
  export_int(env, exports, "TUN_F_USO4", TUN_F_USO4);
  export_int(env, exports, "TUN_F_USO6", TUN_F_USO6);
  export_int(env, exports, "TUN_WRITEV_MAX_IOV", GROUP_MAX_IOV);
  return exports;
}
