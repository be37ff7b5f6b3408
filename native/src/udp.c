#include "addon.h"

napi_value init_udp(napi_env env, napi_value exports) {
  return exports;
}
