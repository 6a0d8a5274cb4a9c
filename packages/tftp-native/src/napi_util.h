/*
 * N-API helpers shared by the add-ons (`lockstep.c` -> tftp_native.node, `receive.c` -> tftp_receive.node,
 * `datagram.c` -> bootpt_datagram.node). Header-only: each add-on is a shared object of its own.
 */
#ifndef BOOTPT_NAPI_UTIL_H
#define BOOTPT_NAPI_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <node_api.h>

/* Throws an Error with `message`; returns NULL, for `return napi_util_throw(env, "...")`. */
static inline napi_value napi_util_throw(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* Deletes a reference, if any, and clears it. */
static inline void napi_util_delete_ref(napi_env env, napi_ref *ref) {
  if (*ref) napi_delete_reference(env, *ref);
  *ref = NULL;
}

/*
 * After a call into JavaScript from a libuv callback: an exception it threw has nobody to catch it here,
 * so it goes to the process's uncaughtException handling, as an exception in a dgram 'message' listener
 * would. Returns 0 when the call succeeded, -1 otherwise.
 */
static inline int napi_util_uncaught(napi_env env, napi_status status) {
  if (status == napi_ok) return 0;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
  return -1;
}

/* The external behind `value`; NULL with a TypeError ("expected a <what> handle") pending if none. */
static inline void *napi_util_external(napi_env env, napi_value value, const char *what) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok || !data) {
    char message[64];
    snprintf(message, sizeof message, "expected a %s handle", what);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  return data;
}

/*
 * A call's first `want` arguments into `argv`, the handle (an external, see above) first: the handle's
 * data, or NULL with a TypeError pending.
 */
static inline void *napi_util_handle_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                                          const char *what) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return NULL;
  }
  return napi_util_external(env, argv[0], what);
}

/* An IPv4 address argument: 0 when parsed, 1 when null/undefined (INADDR_ANY in *out), -1 when bad. */
static inline int napi_util_ipv4(napi_env env, napi_value value, struct in_addr *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return -1;
  if (type == napi_null || type == napi_undefined) {
    out->s_addr = htonl(INADDR_ANY);
    return 1;
  }
  char text[64];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, text, sizeof text, &length) != napi_ok) return -1;
  return inet_pton(AF_INET, text, out) == 1 ? 0 : -1;
}

/* A JavaScript array of the `n` numbers in `values` (counters and totals handed to JS). */
static inline napi_value napi_util_numbers(napi_env env, const double *values, uint32_t n) {
  napi_value result, v;
  napi_create_array_with_length(env, n, &result);
  for (uint32_t i = 0; i < n; i++) {
    napi_create_double(env, values[i], &v);
    napi_set_element(env, result, i, v);
  }
  return result;
}

#endif
