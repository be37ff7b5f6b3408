/* Bounds checks shared by the batch calls (tun.c, udp_recv.c, udp_send.c): every window
 * of a batch lies inside the slab, and no array the call writes shares bytes with
 * another array of the call. The second rule is what keeps a validated offset valid:
 * without it, writing lengths[i] (or an endpoint record, or an error) could rewrite an
 * offset, a ring record or a length that was checked a moment ago. */
#include "addon.h"

bool check_windows(napi_env env, const char *fn, size_t slab_len, const int32_t *offsets, const int32_t *lengths,
                   int64_t fixed_len, int64_t count) {
  for (int64_t i = 0; i < count; i++) {
    int64_t off = offsets[i];
    int64_t len = lengths ? lengths[i] : fixed_len;
    if (!window_ok(off, len, slab_len)) {
      throw_rangef(env, "%s: packet %lld (offset %lld, length %lld) lies outside the slab (%zu bytes)", fn, (long long)i,
                   (long long)off, (long long)len, slab_len);
      return false;
    }
  }
  return true;
}

bool check_disjoint(napi_env env, const char *fn, const mem_span *spans, int n) {
  for (int a = 0; a < n; a++) {
    if (!spans[a].data || spans[a].bytes == 0) continue;
    uintptr_t a0 = (uintptr_t)spans[a].data, a1 = a0 + spans[a].bytes;
    for (int b = a + 1; b < n; b++) {
      if (!spans[b].data || spans[b].bytes == 0) continue;
      uintptr_t b0 = (uintptr_t)spans[b].data, b1 = b0 + spans[b].bytes;
      if (a0 < b1 && b0 < a1) {
        throw_rangef(env, "%s: %s and %s share memory (each array must have bytes of its own)", fn, spans[a].name, spans[b].name);
        return false;
      }
    }
  }
  return true;
}
