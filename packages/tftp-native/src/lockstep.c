/*
 * Native lock-step (windowsize 1) DATA phase of a unicast TFTP read, driven from Node's libuv loop.
 *
 * One transfer = one connected UDP socket owned here, one uv_poll_t watching it, one uv_timer_t. No
 * threads: the ACK -> next DATA round trip (recv, match the 16-bit block number, send the next block
 * from a batch buffer) runs in the poll callback without entering JavaScript; JavaScript is called only
 * to refill a batch buffer (once per batch) and when the data phase ends. Everything that is not a
 * well-formed ACK of the block in flight ends the native phase and goes back to JavaScript, which runs
 * the protocol's server-read machine on it (ERROR from the client, malformed datagrams, other opcodes,
 * the final ACK, retries exhausted), so outcomes, errors and byte counts stay those of the JS path.
 *
 * Before the data phase ("relay" mode) every datagram is handed to JavaScript (option negotiation).
 *
 * Block numbers: absolute (1-based) internally, 16-bit on the wire (n mod 65536), as in the machine.
 * Retransmission: on timeout only (never on a duplicate or stale ACK), backoff min(t * 2^retries, max),
 * give up once retries would exceed maxRetries (that last timeout is reported, the machine ends it).
 *
 * Batch buffers (two, owned by JavaScript, kept alive by references): 4 octets of headroom followed by
 * consecutive file blocks. The DATA header of block k is written into the 4 octets just before its data,
 * i.e. over the tail of block k-1, which lock-step has already had acknowledged, so a block is sent
 * straight from the buffer with one send(2). When the last block of one buffer goes out, the other one
 * is refilled with the blocks that follow, off the ACK -> DATA path.
 *
 * Windowed mode (RFC 7440, windowsize W > 1, `window()`): the same loop, machine hand-back and counters;
 * a window is blocks acked+1 .. acked+W. An ACK maps to the newest block sent with its 16-bit number (as
 * the machine's ackedBlock); one that confirms a new block n (the window end, or short of it: RFC 7440
 * §4, the client lacks n+1) sends blocks n+1 .. n+W at once, with one sendmmsg(2). While a window is in
 * flight the octets before a block still belong to the block before it, so each datagram is an iovec
 * pair [header, data] (headers in a per-transfer array) instead of the overwrite trick. With `gsoSegment`
 * (blksize + 4, when it fits the path MTU) consecutive blocks go as UDP GSO messages (UDP_SEGMENT cmsg,
 * at most 64 segments / 65,507 octets each): one message per window at blksize 512 and 1468. A timeout
 * resends the window from acked+1 (same backoff and retry limit as lock-step); a duplicate or stale ACK
 * sends nothing. Each batch buffer holds at least W blocks, so a window spans at most two buffers and a
 * buffer is refilled only when every block in it is acknowledged.
 */
#define _GNU_SOURCE /* sendmmsg, struct mmsghdr */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/udp.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "napi_util.h"

enum { MODE_RELAY = 0, MODE_LOCKSTEP = 1, MODE_IDLE = 2, MODE_WINDOW = 3 };
enum { END_PACKET = 1, END_TIMER = 2, END_FILL = 3, END_SOCKET = 4 };
enum { MAX_DATAGRAM = 65536, MAX_READS_PER_WAKE = 64 };
/* UDP GSO (Linux 4.18+): segments and payload octets of one message. */
enum { GSO_MAX_SEGMENTS = 64, GSO_MAX_BYTES = 65507 };
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

typedef struct {
  unsigned char *data; /* headroom (4) + blocks */
  size_t capacity;     /* blocks that fit */
  double first;        /* absolute number of its first block, 0 = empty */
  double count;        /* blocks loaded */
  napi_ref ref;
} batch_t;

typedef struct {
  napi_env env;
  uv_poll_t poll;
  uv_timer_t timer;
  int fd;
  int mode;
  int closing;
  int handles_open;
  int finalized;
  int calling; /* depth of JS callbacks running for this transfer */
  napi_ref on_packet;
  napi_ref on_end;
  napi_ref fill;
  napi_async_context async;
  /* lock-step state (absolute block numbers; doubles hold up to 2^53) */
  double blksize;
  double size;
  double last_block;
  double acked;
  double sent;
  double retries;
  double retransmissions;
  double bytes;
  double packets;
  double gso_fallbacks; /* 1 once the kernel refused a GSO message and the windows went unsegmented */
  double timeout_ms;
  double max_timeout_ms;
  double max_retries;
  uint64_t deadline;
  uint64_t timer_at; /* when the armed timer fires (valid while timer_active) */
  int timer_active;
  batch_t batch[2];
  int cur; /* batch holding block `sent` */
  /* windowed mode */
  double windowsize;
  size_t gso_segment;        /* blksize + 4 when UDP GSO is used, else 0 */
  unsigned char *headers;    /* 4 octets per block of a window */
  struct iovec *iov;         /* [header, data] per block */
  struct mmsghdr *msgs;      /* one per datagram, or per GSO run */
  _Alignas(struct cmsghdr) unsigned char gso_cmsg[CMSG_SPACE(sizeof(uint16_t))];
} transfer_t;

static unsigned char recv_buffer[MAX_DATAGRAM];

#define CHECK(call)                                                                                    \
  do {                                                                                                 \
    if ((call) != napi_ok) goto fail;                                                                  \
  } while (0)

static void free_window(transfer_t *t) {
  free(t->headers);
  free(t->iov);
  free(t->msgs);
  t->headers = NULL;
  t->iov = NULL;
  t->msgs = NULL;
}

static void maybe_free(transfer_t *t) {
  if (t->handles_open == 0 && t->finalized) {
    free_window(t);
    free(t);
  }
}

static void on_handle_closed(uv_handle_t *handle) {
  transfer_t *t = handle->data;
  t->handles_open--;
  if (handle == (uv_handle_t *)&t->poll && t->fd >= 0) {
    close(t->fd);
    t->fd = -1;
  }
  maybe_free(t);
}

static void stop_io(transfer_t *t) {
  if (t->closing) return;
  uv_poll_stop(&t->poll);
  uv_timer_stop(&t->timer);
  t->timer_active = 0;
}

static void close_transfer(transfer_t *t) {
  if (t->closing) return;
  stop_io(t);
  t->closing = 1;
  t->mode = MODE_IDLE;
  napi_env env = t->env;
  napi_util_delete_ref(env, &t->on_packet);
  napi_util_delete_ref(env, &t->on_end);
  napi_util_delete_ref(env, &t->fill);
  for (int i = 0; i < 2; i++) napi_util_delete_ref(env, &t->batch[i].ref);
  /* The async context may be in use by the callback that is closing us: destroyed when it returns. */
  if (t->async && t->calling == 0) {
    napi_async_destroy(env, t->async);
    t->async = NULL;
  }
  uv_close((uv_handle_t *)&t->poll, on_handle_closed);
  uv_close((uv_handle_t *)&t->timer, on_handle_closed);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  transfer_t *t = data;
  t->finalized = 1;
  if (!t->closing) close_transfer(t);
  maybe_free(t);
}

/* Calls a JS callback from a libuv callback (own handle scope, async context, exceptions reported). */
static int call_js(transfer_t *t, napi_ref fn_ref, size_t argc, napi_value *argv, napi_value *result) {
  napi_env env = t->env;
  napi_value fn, global;
  if (!fn_ref || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || !fn) return -1;
  napi_get_global(env, &global);
  t->calling++;
  napi_status status = napi_make_callback(env, t->async, global, fn, argc, argv, result);
  if (--t->calling == 0 && t->closing && t->async) {
    napi_async_destroy(env, t->async);
    t->async = NULL;
  }
  return napi_util_uncaught(env, status);
}

static double backoff(const transfer_t *t, double retries) {
  double ms = t->timeout_ms;
  for (double i = 0; i < retries && ms < t->max_timeout_ms; i++) ms *= 2;
  return ms < t->max_timeout_ms ? ms : t->max_timeout_ms;
}

static void on_timer(uv_timer_t *timer);

/* Moves the deadline; the timer is restarted only when it would fire too late (an early one re-arms). */
static void arm(transfer_t *t, double delay_ms) {
  uint64_t now = uv_now(t->timer.loop);
  t->deadline = now + (uint64_t)delay_ms;
  if (t->timer_active && t->timer_at <= t->deadline) return;
  t->timer_active = 1;
  t->timer_at = t->deadline;
  uv_timer_start(&t->timer, on_timer, (uint64_t)delay_ms, 0);
}

/* Ends the lock-step phase and hands the reason (and the datagram, if any) to JavaScript. */
static void end_phase(transfer_t *t, int reason, int err, const unsigned char *packet, size_t length) {
  stop_io(t);
  t->mode = MODE_IDLE;
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[3];
  napi_create_int32(env, reason, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  if (packet) {
    void *copy;
    napi_create_buffer_copy(env, length, packet, &copy, &argv[2]);
  } else {
    napi_get_undefined(env, &argv[2]);
  }
  call_js(t, t->on_end, 3, argv, NULL);
  napi_close_handle_scope(env, scope);
}

/* Asks JavaScript to load blocks first.. into batch `index`; 0 on success. */
static int fill_batch(transfer_t *t, int index, double first) {
  batch_t *b = &t->batch[index];
  double count = t->last_block - first + 1;
  if (count > (double)b->capacity) count = (double)b->capacity;
  double position = (first - 1) * t->blksize;
  double length = count * t->blksize;
  if (position + length > t->size) length = t->size - position;
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return -1;
  napi_value argv[3], result;
  napi_create_int32(env, index, &argv[0]);
  napi_create_double(env, position, &argv[1]);
  napi_create_double(env, length, &argv[2]);
  bool ok = false;
  if (call_js(t, t->fill, 3, argv, &result) == 0) napi_get_value_bool(env, result, &ok);
  napi_close_handle_scope(env, scope);
  if (!ok) {
    b->first = 0;
    b->count = 0;
    return -1;
  }
  b->first = first;
  b->count = count;
  return 0;
}

static int holds(const batch_t *b, double block) {
  return b->first > 0 && block >= b->first && block < b->first + b->count;
}

/* Sends block `sent` from its batch (header written over the acknowledged tail before it). */
static int send_block(transfer_t *t) {
  batch_t *b = &t->batch[t->cur];
  double block = t->sent;
  size_t offset = (size_t)((block - b->first) * t->blksize);
  size_t length =
      block < t->last_block ? (size_t)t->blksize : (size_t)(t->size - (t->last_block - 1) * t->blksize);
  unsigned char *datagram = b->data + offset;
  uint32_t wire = (uint32_t)((uint64_t)block & 0xffff);
  datagram[0] = 0;
  datagram[1] = 3;
  datagram[2] = (unsigned char)(wire >> 8);
  datagram[3] = (unsigned char)(wire & 0xff);
  t->bytes += (double)(length + 4);
  t->packets += 1;
  ssize_t n = send(t->fd, datagram, length + 4, 0);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR) {
    return errno;
  }
  return 0; /* a datagram the kernel could not queue counts as lost: the timer resends it */
}

/* Moves to block sent+1 and sends it; refills the other batch when this one is used up. */
static void send_next(transfer_t *t) {
  double next = t->sent + 1;
  if (!holds(&t->batch[t->cur], next)) {
    int other = 1 - t->cur;
    if (!holds(&t->batch[other], next) && fill_batch(t, other, next) != 0) {
      end_phase(t, END_FILL, 0, NULL, 0);
      return;
    }
    t->cur = other;
  }
  t->sent = next;
  int err = send_block(t);
  if (err) {
    end_phase(t, END_SOCKET, err, NULL, 0);
    return;
  }
  arm(t, backoff(t, 0));
  batch_t *b = &t->batch[t->cur];
  if (next == b->first + b->count - 1 && next < t->last_block) {
    if (fill_batch(t, 1 - t->cur, next + 1) != 0) end_phase(t, END_FILL, 0, NULL, 0);
  }
}

static void send_window(transfer_t *t);

static void on_timer(uv_timer_t *timer) {
  transfer_t *t = timer->data;
  t->timer_active = 0;
  if (t->mode != MODE_LOCKSTEP && t->mode != MODE_WINDOW) return;
  uint64_t now = uv_now(timer->loop);
  if (now < t->deadline) {
    t->timer_active = 1;
    t->timer_at = t->deadline;
    uv_timer_start(&t->timer, on_timer, t->deadline - now, 0);
    return;
  }
  if (t->retries + 1 > t->max_retries) {
    end_phase(t, END_TIMER, 0, NULL, 0);
    return;
  }
  t->retries += 1;
  t->retransmissions += 1;
  if (t->mode == MODE_WINDOW) {
    send_window(t); /* from acked + 1, armed with the new backoff */
    return;
  }
  int err = send_block(t);
  if (err) {
    end_phase(t, END_SOCKET, err, NULL, 0);
    return;
  }
  arm(t, backoff(t, t->retries));
}

/* ---- windowed mode ---- */

enum { BLOCK_OK = 0, BLOCK_FILL_FAILED = -1, BLOCK_STOPPED = -2 };

static double block_length(const transfer_t *t, double block) {
  return block < t->last_block ? t->blksize : t->size - (t->last_block - 1) * t->blksize;
}

/* A batch none of whose blocks is still unacknowledged (empty counts), the older one if both; -1 if none. */
static int free_batch(const transfer_t *t) {
  int target = -1;
  for (int i = 0; i < 2; i++) {
    const batch_t *b = &t->batch[i];
    if (b->first > 0 && b->first + b->count - 1 > t->acked) continue;
    if (target < 0 || b->first < t->batch[target].first) target = i;
  }
  return target;
}

/*
 * The octets of `block`, loading them into a free batch when neither holds them. A batch holds at least a
 * window, so a block past both batches only follows a batch whose start is already acknowledged: the
 * other one is free.
 */
static int block_data(transfer_t *t, double block, unsigned char **data) {
  for (int i = 0; i < 2; i++) {
    batch_t *b = &t->batch[i];
    if (holds(b, block)) {
      *data = b->data + 4 + (size_t)((block - b->first) * t->blksize);
      return BLOCK_OK;
    }
  }
  int target = free_batch(t);
  if (target < 0) return BLOCK_FILL_FAILED;
  int failed = fill_batch(t, target, block) != 0;
  if (t->mode != MODE_WINDOW) return BLOCK_STOPPED; /* JavaScript stopped or closed us meanwhile */
  if (failed) return BLOCK_FILL_FAILED;
  *data = t->batch[target].data + 4;
  return BLOCK_OK;
}

/* Messages for the datagrams from index `from` of the window (`count` in all): GSO runs or one each. */
static size_t build_messages(transfer_t *t, size_t from, size_t count) {
  size_t per = 1;
  if (t->gso_segment) {
    per = GSO_MAX_BYTES / t->gso_segment;
    if (per > GSO_MAX_SEGMENTS) per = GSO_MAX_SEGMENTS;
  }
  size_t m = 0;
  for (size_t i = from; i < count; i += per, m++) {
    size_t run = count - i < per ? count - i : per;
    struct msghdr *h = &t->msgs[m].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &t->iov[2 * i];
    h->msg_iovlen = 2 * run;
    if (run > 1) {
      h->msg_control = t->gso_cmsg;
      h->msg_controllen = sizeof t->gso_cmsg;
    }
  }
  return m;
}

/* sendmmsg(2) of `m` messages; 0 (a datagram the kernel cannot queue counts as lost), or an errno. */
static int send_messages(transfer_t *t, size_t m, size_t *done) {
  *done = 0;
  while (*done < m) {
    int n = sendmmsg(t->fd, t->msgs + *done, (unsigned)(m - *done), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
      return errno;
    }
    *done += (size_t)n;
  }
  return 0;
}

/* Sends blocks acked+1 .. acked+W (at most the last) and re-arms the timer for the current retry count. */
static void send_window(transfer_t *t) {
  double first = t->acked + 1;
  double last = t->acked + t->windowsize;
  if (last > t->last_block) last = t->last_block;
  size_t count = 0;
  for (double block = first; block <= last; block++, count++) {
    unsigned char *data;
    int status = block_data(t, block, &data);
    if (status == BLOCK_STOPPED) return;
    if (status != BLOCK_OK) {
      end_phase(t, END_FILL, 0, NULL, 0);
      return;
    }
    size_t length = (size_t)block_length(t, block);
    unsigned char *header = t->headers + 4 * count;
    uint32_t wire = (uint32_t)((uint64_t)block & 0xffff);
    header[0] = 0;
    header[1] = 3;
    header[2] = (unsigned char)(wire >> 8);
    header[3] = (unsigned char)(wire & 0xff);
    t->iov[2 * count] = (struct iovec){.iov_base = header, .iov_len = 4};
    t->iov[2 * count + 1] = (struct iovec){.iov_base = data, .iov_len = length};
    t->bytes += (double)(length + 4);
  }
  t->packets += (double)count;
  t->sent = last;
  size_t done;
  size_t m = build_messages(t, 0, count);
  int err = send_messages(t, m, &done);
  if ((err == EIO || err == EINVAL || err == EMSGSIZE) && t->gso_segment) {
    /* The kernel refuses GSO here (EMSGSIZE, EINVAL on older kernels: a route MTU below the segment; EIO:
       no TX checksum offload on older kernels, IPsec): datagrams one by one from now, from the first
       message not sent. */
    size_t per = GSO_MAX_BYTES / t->gso_segment;
    if (per > GSO_MAX_SEGMENTS) per = GSO_MAX_SEGMENTS;
    t->gso_segment = 0;
    t->gso_fallbacks += 1;
    err = send_messages(t, build_messages(t, done * per, count), &done);
  }
  if (err) {
    end_phase(t, END_SOCKET, err, NULL, 0);
    return;
  }
  arm(t, backoff(t, t->retries));
  /* Off the ACK -> DATA path: load what the next window needs when a batch is free for it. */
  if (last >= t->last_block) return;
  double need = last + t->windowsize;
  if (need > t->last_block) need = t->last_block;
  for (int i = 0; i < 2; i++)
    if (holds(&t->batch[i], need)) return;
  int cur = holds(&t->batch[0], last) ? 0 : 1;
  int target = free_batch(t);
  if (target < 0 || target == cur) return; /* loaded on demand once the other batch is acknowledged */
  const batch_t *b = &t->batch[cur];
  if (fill_batch(t, target, b->first + b->count) != 0 && t->mode == MODE_WINDOW)
    end_phase(t, END_FILL, 0, NULL, 0);
}

/* An ACK in windowed mode: 0 to read on (duplicate or stale, ignored), 1 when handled. */
static int window_ack(transfer_t *t, const unsigned char *packet) {
  uint32_t wire = ((uint32_t)packet[2] << 8) | packet[3];
  uint32_t behind = ((uint32_t)((uint64_t)t->sent & 0xffff) - wire) & 0xffff;
  double block = t->sent - (double)behind; /* the newest block sent with this number */
  if (block <= t->acked) return 0;
  if (block >= t->last_block) {
    end_phase(t, END_PACKET, 0, packet, 4); /* final ACK: the machine completes */
    return 1;
  }
  t->acked = block;
  t->retries = 0;
  send_window(t);
  return 1;
}

static void relay(transfer_t *t, const unsigned char *packet, size_t length) {
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[1];
  void *copy;
  napi_create_buffer_copy(env, length, packet, &copy, &argv[0]);
  call_js(t, t->on_packet, 1, argv, NULL);
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  transfer_t *t = poll->data;
  (void)events;
  if (status < 0) {
    end_phase(t, END_SOCKET, -status, NULL, 0);
    return;
  }
  for (int i = 0; i < MAX_READS_PER_WAKE && t->mode != MODE_IDLE; i++) {
    ssize_t n = recv(t->fd, recv_buffer, sizeof recv_buffer, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      end_phase(t, END_SOCKET, errno, NULL, 0);
      return;
    }
    if (t->mode == MODE_RELAY) {
      relay(t, recv_buffer, (size_t)n);
      continue;
    }
    if (t->mode == MODE_WINDOW && n == 4 && recv_buffer[0] == 0 && recv_buffer[1] == 4) {
      if (window_ack(t, recv_buffer)) return; /* the window is out: as lock-step, don't read on */
      continue;
    }
    if (n == 4 && recv_buffer[0] == 0 && recv_buffer[1] == 4) {
      uint32_t wire = ((uint32_t)recv_buffer[2] << 8) | recv_buffer[3];
      if (wire != (uint32_t)((uint64_t)t->sent & 0xffff)) continue; /* duplicate or stale: ignored */
      if (t->sent >= t->last_block) {
        end_phase(t, END_PACKET, 0, recv_buffer, (size_t)n); /* final ACK: the machine completes */
        return;
      }
      t->acked = t->sent;
      t->retries = 0;
      send_next(t);
      /* Lock-step: nothing else is due until the client has this block. Not reading on to EAGAIN
         saves a recv(2) per block; the poll is level-triggered, so anything queued wakes us again. */
      return;
    }
    end_phase(t, END_PACKET, 0, recv_buffer, (size_t)n);
    return;
  }
}

static transfer_t *unwrap(napi_env env, napi_value value) {
  return napi_util_external(env, value, "transfer");
}

/* The call's arguments (at most 2) with the transfer handle first; NULL (and a pending exception) if not. */
static transfer_t *handle_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  return napi_util_handle_call(env, info, want, argv, "transfer");
}

/* open(localAddress, clientAddress, clientPort, onPacket, onEnd) -> [handle, localPort] */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  transfer_t *t = NULL;
  int fd = -1;
  napi_value handle = NULL; /* once created, its finalizer owns `t` */
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return napi_util_throw(env, "open: 5 arguments expected");
  struct sockaddr_in local = {.sin_family = AF_INET}, peer = {.sin_family = AF_INET};
  uint32_t port = 0;
  if (napi_util_ipv4(env, argv[0], &local.sin_addr) || napi_util_ipv4(env, argv[1], &peer.sin_addr) ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port == 0 || port > 65535)
    return napi_util_throw(env, "open: bad address");
  peer.sin_port = htons((uint16_t)port);
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return napi_util_throw(env, strerror(errno));
  socklen_t len = sizeof local;
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0 ||
      connect(fd, (struct sockaddr *)&peer, sizeof peer) != 0 ||
      getsockname(fd, (struct sockaddr *)&local, &len) != 0) {
    int err = errno;
    close(fd);
    return napi_util_throw(env, strerror(err));
  }
  t = calloc(1, sizeof *t);
  if (!t) {
    close(fd);
    return napi_util_throw(env, "out of memory");
  }
  t->env = env;
  t->fd = fd;
  t->mode = MODE_RELAY;
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  if (uv_poll_init(loop, &t->poll, fd) != 0) goto fail;
  t->handles_open++;
  t->poll.data = t;
  uv_timer_init(loop, &t->timer);
  t->handles_open++;
  t->timer.data = t;
  CHECK(napi_create_reference(env, argv[3], 1, &t->on_packet));
  CHECK(napi_create_reference(env, argv[4], 1, &t->on_end));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "TftpNativeTransfer", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &t->async));
  napi_value result, port_value;
  CHECK(napi_create_external(env, t, finalize, NULL, &handle));
  uv_poll_start(&t->poll, UV_READABLE, on_readable);
  CHECK(napi_create_array_with_length(env, 2, &result));
  CHECK(napi_set_element(env, result, 0, handle));
  CHECK(napi_create_uint32(env, ntohs(local.sin_port), &port_value));
  CHECK(napi_set_element(env, result, 1, port_value));
  return result;
fail:
  if (t) {
    if (!handle) t->finalized = 1;
    if (t->handles_open) {
      close_transfer(t);
    } else {
      close(fd);
      free(t);
    }
  } else if (fd >= 0) {
    close(fd);
  }
  return napi_util_throw(env, "open: setup failed");
}

/* send(handle, buffer) -> 0 or errno */
static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2], result;
  transfer_t *t = handle_call(env, info, 2, argv);
  if (!t) return NULL;
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok)
    return napi_util_throw(env, "send: expected a Buffer");
  int err = 0;
  if (t->closing || t->fd < 0) err = EBADF;
  else if (send(t->fd, data, length, 0) < 0) err = errno;
  napi_create_int32(env, err, &result);
  return result;
}

static int batch_from(napi_env env, napi_value value, batch_t *b, double blksize) {
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok || length < 4 + (size_t)blksize) return -1;
  b->data = data;
  b->capacity = (length - 4) / (size_t)blksize;
  b->first = 0;
  b->count = 0;
  return napi_create_reference(env, value, 1, &b->ref) == napi_ok ? 0 : -1;
}

/* The data-phase parameters and buffers shared by lockstep() and window(): argv = [blksize, size,
   timeoutMs, maxTimeoutMs, maxRetries, bufferA, bufferB, fill]. NULL with a pending exception. */
static const char *setup_data(napi_env env, transfer_t *t, napi_value *argv) {
  if (t->mode != MODE_RELAY || t->closing) return "transfer not in relay mode";
  double values[5];
  for (int i = 0; i < 5; i++)
    if (napi_get_value_double(env, argv[i], &values[i]) != napi_ok) return "numbers expected";
  t->blksize = values[0];
  t->size = values[1];
  t->timeout_ms = values[2];
  t->max_timeout_ms = values[3];
  t->max_retries = values[4];
  if (t->blksize < 8 || t->blksize > 65464 || t->size < 0 || t->timeout_ms < 1) return "bad parameters";
  t->last_block = (double)((uint64_t)(t->size / t->blksize)) + 1;
  for (int i = 0; i < 2; i++) napi_util_delete_ref(env, &t->batch[i].ref);
  napi_util_delete_ref(env, &t->fill);
  if (batch_from(env, argv[5], &t->batch[0], t->blksize) || batch_from(env, argv[6], &t->batch[1], t->blksize) ||
      napi_create_reference(env, argv[7], 1, &t->fill) != napi_ok)
    return "bad buffers";
  t->acked = 0;
  t->sent = 0;
  t->retries = 0;
  return NULL;
}

/* Loads blocks 1.. into batch 0 in `mode`; false (and the poll stopped: nothing sent) when that fails. */
static bool start_data(transfer_t *t, int mode) {
  t->mode = mode;
  if (fill_batch(t, 0, 1) == 0) return true;
  t->mode = MODE_IDLE;
  uv_poll_stop(&t->poll);
  return false;
}

/*
 * lockstep(handle, blksize, size, timeoutMs, maxTimeoutMs, maxRetries, bufferA, bufferB, fill)
 * Starts the data phase after block 0 (DATA 1 goes out now). fill(index, position, length) loads file
 * octets [position, position + length) at offset 4 of buffer `index` and returns true, or false on failure.
 * Returns false when the first batch could not be loaded (nothing sent).
 */
static napi_value js_lockstep(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9)
    return napi_util_throw(env, "lockstep: 9 arguments expected");
  transfer_t *t = unwrap(env, argv[0]);
  if (!t) return NULL;
  const char *problem = setup_data(env, t, argv + 1);
  if (problem) {
    char message[64];
    snprintf(message, sizeof message, "lockstep: %s", problem);
    return napi_util_throw(env, message);
  }
  t->cur = 1;
  bool ok = start_data(t, MODE_LOCKSTEP);
  if (ok) send_next(t); /* may end the phase (socket error): JS learns it through onEnd */
  napi_get_boolean(env, ok, &result);
  return result;
}

/*
 * window(handle, blksize, windowsize, size, timeoutMs, maxTimeoutMs, maxRetries, gsoSegment, bufferA,
 *        bufferB, fill)
 * Starts the windowed data phase after block 0 (the first window goes out now). Each buffer must hold at
 * least `windowsize` blocks. gsoSegment: blksize + 4 to send runs of blocks as UDP GSO messages (the
 * segment must fit the path MTU unfragmented), or 0. fill and the result as for lockstep().
 */
static napi_value js_window(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11], data_argv[8], result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 11)
    return napi_util_throw(env, "window: 11 arguments expected");
  transfer_t *t = unwrap(env, argv[0]);
  if (!t) return NULL;
  double windowsize, gso;
  if (napi_get_value_double(env, argv[2], &windowsize) != napi_ok ||
      napi_get_value_double(env, argv[7], &gso) != napi_ok)
    return napi_util_throw(env, "window: numbers expected");
  /* blksize, size, timeoutMs, maxTimeoutMs, maxRetries, bufferA, bufferB, fill */
  napi_value picked[8] = {argv[1], argv[3], argv[4], argv[5], argv[6], argv[8], argv[9], argv[10]};
  memcpy(data_argv, picked, sizeof picked);
  const char *problem = setup_data(env, t, data_argv);
  if (!problem && (windowsize < 1 || windowsize > 65535 || windowsize != (double)(uint32_t)windowsize))
    problem = "bad windowsize";
  if (!problem && gso != 0 && gso != t->blksize + 4) problem = "bad gsoSegment";
  if (!problem && (t->batch[0].capacity < windowsize || t->batch[1].capacity < windowsize))
    problem = "a buffer must hold a window";
  if (!problem) {
    size_t w = (size_t)windowsize;
    free_window(t);
    t->headers = malloc(4 * w);
    t->iov = malloc(2 * w * sizeof *t->iov);
    t->msgs = malloc(w * sizeof *t->msgs);
    if (!t->headers || !t->iov || !t->msgs) problem = "out of memory";
  }
  if (problem) {
    char message[64];
    snprintf(message, sizeof message, "window: %s", problem);
    return napi_util_throw(env, message);
  }
  t->windowsize = windowsize;
  t->gso_segment = (size_t)gso;
  memset(t->gso_cmsg, 0, sizeof t->gso_cmsg);
  struct cmsghdr *c = (struct cmsghdr *)t->gso_cmsg;
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t segment = (uint16_t)t->gso_segment;
  memcpy(CMSG_DATA(c), &segment, sizeof segment);
  bool ok = start_data(t, MODE_WINDOW);
  if (ok) send_window(t); /* may end the phase (socket error): JS learns it through onEnd */
  napi_get_boolean(env, ok, &result);
  return result;
}

/* counters(handle) -> [acked, sent, retries, retransmissions, bytes, packets, gsoFallbacks] (data phase) */
static napi_value js_counters(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transfer_t *t = handle_call(env, info, 1, argv);
  if (!t) return NULL;
  double values[7] = {t->acked, t->sent,    t->retries,      t->retransmissions,
                      t->bytes, t->packets, t->gso_fallbacks};
  return napi_util_numbers(env, values, 7);
}

/* stop(handle): no more callbacks (administrative abort); the socket stays open for a final ERROR. */
static napi_value js_stop(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transfer_t *t = handle_call(env, info, 1, argv);
  if (!t) return NULL;
  stop_io(t);
  t->mode = MODE_IDLE;
  return NULL;
}

/* close(handle): stops everything and closes the socket (idempotent). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  transfer_t *t = handle_call(env, info, 1, argv);
  if (t) close_transfer(t);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lockstep", NULL, js_lockstep, NULL, NULL, NULL, napi_enumerable, NULL},
      {"window", NULL, js_window, NULL, NULL, NULL, napi_enumerable, NULL},
      {"counters", NULL, js_counters, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
