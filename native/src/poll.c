#include "addon.h"

napi_value init_poll(napi_env env, napi_value exports) {
  return exports;
}
