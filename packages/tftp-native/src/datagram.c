/*
 * The responder's UDP sockets without node:dgram (`bootpt_datagram.node`), driven from Node's libuv loop.
 *
 * Why: at 1,000 DHCP exchanges/s a perf profile of the agent (cpu-clock, call graphs) put 18% of its
 * samples in dgram's receive machinery outside the responder's own code (a fresh ArrayBuffer per datagram,
 * the `rinfo` object built property by property through the V8 API, MakeCallback and the 'message' event)
 * and another 8% in the user-space half of `socket.send` (argument checks, a SendWrap object per send, the
 * address string parsed again, the completion callback a tick later): more than the responder's own code
 * (25%). A request that finds the CPU cold pays that footprint in cache and TLB misses (apps/agent README).
 *
 * One socket = one fd owned here plus one uv_poll_t. No threads. Each wake reads with recvmmsg(2) into the
 * caller's shared buffer (BATCH slots of SLOT octets) and calls `onBatch(count, 0)` once per read batch,
 * with each datagram's length, source address and port in the shared Int32Array; JavaScript copies what it
 * keeps before returning (the next batch reuses the slots). At most MAX_ROUNDS batches per wake; the poll
 * is level-triggered, so the rest wakes it again after other handles had their turn. A datagram longer
 * than SLOT is reported with the length the kernel gave (SLOT, MSG_TRUNC set), which the responder's
 * decoder refuses as oversized (it accepts at most 1,472 octets). A failed read calls `onBatch(0, errno)`.
 *
 * `send` is synchronous: one sendto(2), MSG_DONTWAIT; it returns 0 or the errno (EAGAIN when the send
 * buffer is full: a DHCP client retransmits, so the caller counts it rather than queueing).
 *
 * SO_BINDTOIFINDEX (Linux 5.0+) is set before bind(2), so a per-interface socket never queues a datagram
 * from another interface (node:dgram can only set it after bind, leaving a window the listener drains).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "napi_util.h"

#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif

enum { BATCH = 16, SLOT = 2048, MAX_ROUNDS = 4, META = 3 };

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  int handle_open;
  int finalized;
  int calling;
  napi_ref on_batch;
  napi_ref data_ref;
  napi_ref meta_ref;
  napi_async_context async;
  unsigned char *data; /* BATCH × SLOT octets, shared with JavaScript */
  int32_t *meta;       /* BATCH × [length, IPv4 address (host order, as int32), port] */
  double wakes, datagrams, truncated, send_errors;
} socket_t;

static void maybe_free(socket_t *s) {
  if (!s->handle_open && s->finalized) free(s);
}

static void on_closed(uv_handle_t *handle) {
  socket_t *s = handle->data;
  s->handle_open = 0;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  maybe_free(s);
}

static void close_socket(socket_t *s) {
  if (s->closing) return;
  s->closing = 1;
  napi_env env = s->env;
  napi_util_delete_ref(env, &s->on_batch);
  napi_util_delete_ref(env, &s->data_ref);
  napi_util_delete_ref(env, &s->meta_ref);
  s->data = NULL;
  s->meta = NULL;
  /* The async context may be in use by the callback that is closing us: destroyed when it returns. */
  if (s->async && s->calling == 0) {
    napi_async_destroy(env, s->async);
    s->async = NULL;
  }
  if (s->handle_open) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else if (s->fd >= 0) {
    close(s->fd);
    s->fd = -1;
  }
}

/* An open that failed: nothing will own `s`; it is freed now, or once its poll handle has closed. */
static void fail_open(socket_t *s) {
  s->finalized = 1;
  close_socket(s);
  maybe_free(s);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  socket_t *s = data;
  s->finalized = 1;
  close_socket(s);
  maybe_free(s);
}

/* onBatch(count, errno) in the socket's async context (microtasks and ticks run after it, as for dgram). */
static void deliver(socket_t *s, int count, int err) {
  napi_env env = s->env;
  napi_value fn, global, argv[2];
  if (!s->on_batch || napi_get_reference_value(env, s->on_batch, &fn) != napi_ok || !fn) return;
  napi_get_global(env, &global);
  napi_create_int32(env, count, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  s->calling++;
  napi_status status = napi_make_callback(env, s->async, global, fn, 2, argv, NULL);
  if (--s->calling == 0 && s->closing && s->async) {
    napi_async_destroy(env, s->async);
    s->async = NULL;
  }
  napi_util_uncaught(env, status);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  socket_t *s = poll->data;
  if (s->closing) return;
  napi_env env = s->env;
  s->wakes += 1;
  if (status < 0) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    deliver(s, 0, -status);
    napi_close_handle_scope(env, scope);
    return;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  for (int round = 0; round < MAX_ROUNDS && !s->closing; round++) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = s->data + (size_t)i * SLOT;
      iov[i].iov_len = SLOT;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    int err = 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      err = errno;
      n = 0;
    }
    /* An AF_INET socket's sources are IPv4 (sockaddr_in), so slot i is datagram i. */
    for (int i = 0; i < n; i++) {
      s->datagrams += 1;
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) s->truncated += 1;
      s->meta[i * META] = (int32_t)msgs[i].msg_len;
      s->meta[i * META + 1] = (int32_t)ntohl(from[i].sin_addr.s_addr);
      s->meta[i * META + 2] = ntohs(from[i].sin_port);
    }
    if (n > 0 || err) {
      napi_handle_scope scope;
      if (napi_open_handle_scope(env, &scope) != napi_ok) return;
      deliver(s, n, err);
      napi_close_handle_scope(env, scope);
    }
    if (err || n < BATCH) break;
  }
}

static socket_t *socket_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  return napi_util_handle_call(env, info, want, argv, "datagram socket");
}

static int get_bytes(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length,
                     napi_ref *ref) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, length, data, &arraybuffer, &offset) != napi_ok || type != want)
    return -1;
  return napi_create_reference(env, value, 1, ref) == napi_ok ? 0 : -1;
}

/*
 * open(address | null, port, ifindex, recvBufferSize, data, meta, onBatch) -> [handle, port]: a UDP socket
 * with SO_REUSEADDR and SO_BROADCAST, SO_RCVBUF when recvBufferSize > 0, tied to interface `ifindex` when
 * > 0 (SO_BINDTOIFINDEX, set before bind and read back), bound to address:port (port 0: any). `data` must
 * be a Uint8Array of BATCH × SLOT octets, `meta` an Int32Array of BATCH × 3 (see `onBatch`).
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], handle, result, bound_port;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 7)
    return napi_util_throw(env, "open: 7 arguments expected");
  uint32_t port, ifindex, rcvbuf;
  struct in_addr local;
  if (napi_util_ipv4(env, argv[0], &local) < 0) return napi_util_throw(env, "open: bad address");
  if (napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535 ||
      napi_get_value_uint32(env, argv[2], &ifindex) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &rcvbuf) != napi_ok)
    return napi_util_throw(env, "open: bad arguments");
  socket_t *s = calloc(1, sizeof *s);
  if (!s) return napi_util_throw(env, "out of memory");
  s->env = env;
  s->fd = -1;
  void *data, *meta;
  size_t data_length, meta_length;
  if (get_bytes(env, argv[4], napi_uint8_array, &data, &data_length, &s->data_ref) != 0 ||
      data_length < (size_t)BATCH * SLOT ||
      get_bytes(env, argv[5], napi_int32_array, &meta, &meta_length, &s->meta_ref) != 0 ||
      meta_length < (size_t)BATCH * META) {
    fail_open(s);
    return napi_util_throw(env, "open: data must be a Uint8Array of 32768 octets and meta an Int32Array of 48");
  }
  s->data = data;
  s->meta = meta;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    fail_open(s);
    return napi_util_throw(env, strerror(e));
  }
  s->fd = fd;
  int one = 1;
  const char *step = "setsockopt";
  int failed = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
               setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0;
  if (!failed && rcvbuf > 0) failed = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0;
  if (!failed && ifindex > 0) {
    int index = (int)ifindex, got = 0;
    socklen_t got_length = sizeof got;
    step = "SO_BINDTOIFINDEX";
    failed = setsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &index, sizeof index) != 0 ||
             getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &got, &got_length) != 0;
    if (!failed && got != index) {
      failed = 1;
      errno = EINVAL;
    }
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = local};
  socklen_t address_length = sizeof address;
  if (!failed) {
    step = "bind";
    failed = bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
             getsockname(fd, (struct sockaddr *)&address, &address_length) != 0;
  }
  if (failed) {
    /* The error's code is the errno's name (EADDRINUSE, EACCES...), as node:dgram's bind errors have. */
    int e = errno;
    char message[160];
    const char *code = strerrorname_np(e);
    snprintf(message, sizeof message, "%s: %s", step, strerror(e));
    fail_open(s);
    napi_throw_error(env, code, message);
    return NULL;
  }
  uv_loop_t *loop;
  napi_value name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) {
    fail_open(s);
    return napi_util_throw(env, "open: poll setup failed");
  }
  s->handle_open = 1;
  s->poll.data = s;
  if (napi_create_reference(env, argv[6], 1, &s->on_batch) != napi_ok ||
      napi_create_string_utf8(env, "BootptDatagram", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok ||
      napi_create_external(env, s, finalize, NULL, &handle) != napi_ok) {
    fail_open(s); /* no handle owns it: freed now, or once the poll handle has closed */
    return napi_util_throw(env, "open: setup failed");
  }
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  napi_create_array_with_length(env, 2, &result);
  napi_create_uint32(env, ntohs(address.sin_port), &bound_port);
  napi_set_element(env, result, 0, handle);
  napi_set_element(env, result, 1, bound_port);
  return result;
}

/* send(handle, datagram, address, port) -> 0 or errno: one sendto(2) now. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[4], result;
  socket_t *s = socket_call(env, info, 4, argv);
  if (!s) return NULL;
  if (s->closing || s->fd < 0) return napi_util_throw(env, "send: socket closed");
  void *data;
  size_t length;
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  uint32_t port;
  struct in_addr to;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return napi_util_throw(env, "send: the datagram must be a Uint8Array");
  if (napi_util_ipv4(env, argv[2], &to) != 0) return napi_util_throw(env, "send: bad address");
  if (napi_get_value_uint32(env, argv[3], &port) != napi_ok || port == 0 || port > 65535)
    return napi_util_throw(env, "send: bad port");
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = to};
  ssize_t n;
  do n = sendto(s->fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&address, sizeof address);
  while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  if (err) s->send_errors += 1;
  napi_create_int32(env, err, &result);
  return result;
}

/* counters(handle) -> [wakes, datagrams, truncated, sendErrors] */
static napi_value js_counters(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  socket_t *s = socket_call(env, info, 1, argv);
  if (!s) return NULL;
  double values[4] = {s->wakes, s->datagrams, s->truncated, s->send_errors};
  return napi_util_numbers(env, values, 4);
}

/* close(handle): no more callbacks; the socket is closed once libuv has released it (idempotent). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  socket_t *s = socket_call(env, info, 1, argv);
  if (s) close_socket(s);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value batch, slot;
  napi_create_uint32(env, BATCH, &batch);
  napi_create_uint32(env, SLOT, &slot);
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"counters", NULL, js_counters, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"BATCH", NULL, NULL, NULL, NULL, batch, napi_enumerable, NULL},
      {"SLOT", NULL, NULL, NULL, NULL, slot, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
