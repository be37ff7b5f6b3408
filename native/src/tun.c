#include "addon.h"

napi_value init_tun(napi_env env, napi_value exports) {
  return exports;
}
