// The cheapest way Node can reach setsockopt: one N-API function, two int
// arguments, no marshalling beyond napi_get_value_int32.
// setUserTimeout(fd, ms) returns setsockopt's result, or -errno on failure.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <node_api.h>
#include <sys/socket.h>

#ifndef TCP_USER_TIMEOUT
#define TCP_USER_TIMEOUT 18
#endif

static napi_value set_user_timeout(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd = -1, ms = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "setUserTimeout(fd, ms): two integers expected");
    return NULL;
  }
  int rc = setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
  napi_value out;
  napi_create_int32(env, rc == 0 ? 0 : -errno, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "setUserTimeout", NAPI_AUTO_LENGTH, set_user_timeout, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "setUserTimeout", fn) != napi_ok) return NULL;
  return exports;
}
