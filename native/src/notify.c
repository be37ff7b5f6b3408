#include "addon.h"

napi_value init_notify(napi_env env, napi_value exports) {
  return exports;
}
