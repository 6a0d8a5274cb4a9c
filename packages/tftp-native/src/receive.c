/*
 * Batched native receive of a TFTP group stream (RFC 2090 multicast DATA, IBM sbroadcast BDATA) for the
 * client's reads, driven from Node's libuv loop. A separate add-on (`tftp_receive.node`) from the agent's
 * lock-step one.
 *
 * One receiver = one UDP socket owned here (bound to the group port, member of the multicast group or
 * broadcast-enabled), one uv_poll_t watching it. No threads. Each wake drains the socket with recvmmsg(2)
 * (at most MAX_ROUNDS batches of BATCH datagrams; the poll is level-triggered, so the rest wakes it again).
 * A non-master member on the fast path of a file of up to 65,535 blocks then rests REST_MS (poll
 * stopped, a uv_timer_t to wake it) so a storm's members wake a few hundred times a second, not once per
 * datagram each.
 * JavaScript is called only when a wake has datagrams for the machine (`onBatch`, once per such wake) or the
 * socket failed; blocks taken by the fast path are only counted here, and JavaScript collects the totals
 * with `take` before it steps the machine on anything (timer, a datagram, the end).
 *
 * The protocol's client machine stays the single source of truth. This file only fast-paths what the
 * machine would do identically for a member whose file size is known (tsize; a master: see below): a group
 * DATA/BDATA from the server's transfer address and port, of this stream (sbid), whose block number is unambiguous
 * (no rollover doubt), within 1 … lastBlock, of the right length (full, or short exactly at lastBlock),
 * not yet held and not the one completing the file: its payload is copied straight into the destination
 * buffer JS gave at (block - 1) × blksize, or written there into the file descriptor JS gave (a pwritev per
 * run of adjacent blocks per batch), and its bit set in the machine's own bitmap (shared memory).
 * A block already held only counts as heard. Datagrams from any other address or port are dropped and
 * counted. Everything else from the server (a master's ACK-triggering blocks, the completing block,
 * anything unusual or malformed) is copied into a Buffer and handed to JavaScript in the wake's `onBatch`
 * call, in order; it takes the fast-path totals first, so the machine sees the same blocks it would have
 * seen one by one.
 *
 * JavaScript tells C the machine's view with `sync` whenever it changes (master flag through a hand-over
 * OACK, blocks the machine took itself, a master's new request): C's `count` is the machine's count of held
 * blocks. A master (only up to 65,535 blocks: past the wrap it unwraps numbers in JS) gets the same fast
 * path for the blocks that would not make it ACK under the machine's rule (half a window new since its
 * last request, the end of the requested window, the last block): those go to the machine, which sends
 * the ACK and re-arms its timer, so the stream's pace and every protocol decision stay in JS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "napi_util.h"

enum { KIND_MULTICAST = 0, KIND_SBROADCAST = 1 };
enum { BATCH = 32, MAX_ROUNDS = 16, MAX_DATAGRAM = 65536 };
/*
 * A non-master member on the fast path rests this long after a wake that read datagrams (its poll
 * stopped) and then drains what came meanwhile in one go: a wake per few milliseconds instead of one per
 * datagram, for a member that has nothing to answer. The socket's buffer (4 MiB asked, 8 MiB granted
 * here) holds about 100 ms of a 46 MB/s stream (estimate below); a master never rests (its ACKs pace the
 * stream). Only up to 65,535 blocks: past the wrap a block number means the block nearest the master's
 * request, so datagrams of the old stream left queued across a hand-over would be read as blocks of the
 * new master's window (the wrap test in apps/client/src/tftp-read-native.integration.test.ts fails when a
 * member rests there); below it a number is one block and a late datagram is still that block.
 */
enum { REST_MS = 5 };
/*
 * ... and only when the kernel granted the socket this much receive buffer (SO_RCVBUF as read back, which
 * the kernel doubles and caps at 2 × net.core.rmem_max). Estimated, not measured: a block of 8 KiB
 * reassembled from six fragments charges ~14 KiB of buffer, so 1 MiB holds ~70 of them, 12 ms of a
 * 46 MB/s stream; with Debian's default rmem_max (208 KiB) the buffer would hold ~30, and a member keeps
 * waking per datagram rather than risk dropping blocks while it rests.
 */
enum { REST_MIN_RCVBUF = 1 << 20 };
enum { V_HAND = 0, V_FRESH = 1, V_HELD = 2 };

typedef struct {
  napi_env env;
  uv_poll_t poll;
  uv_timer_t rest; /* a resting member's wake-up (REST_MS) */
  int resting;
  int rcvbuf; /* SO_RCVBUF as the kernel granted it */
  int fd;
  int closing;
  int handle_open; /* libuv handles not yet closed (poll, rest) */
  int finalized;
  int calling; /* depth of JS callbacks running for this receiver */
  napi_ref on_batch;
  napi_async_context async;
  /* the stream (configure) */
  int configured;
  int kind;
  struct in_addr server;
  uint16_t server_port; /* network order */
  uint32_t sbid;
  double blksize;
  double last_block; /* 0 = unknown: no fast path */
  unsigned char *bitmap;
  size_t bitmap_length;
  napi_ref bitmap_ref;
  unsigned char *dest;
  size_t dest_length; /* of dest, or of the file behind dest_fd (lastBlock × blksize) */
  napi_ref dest_ref;
  int dest_fd; /* -1, or a file descriptor JS owns: fresh blocks are written into it (pwritev) */
  /* this round's fresh blocks for dest_fd, pointing into `buffers` until the next recvmmsg */
  struct iovec writes[BATCH];
  off_t write_at[BATCH];
  int nwrites;
  /* the machine's view (sync) */
  int fast;
  int master;
  double count;
  /* master: the window it last asked for, the count then, the window size (its ACK rule) */
  double requested_from, count_at_request, window;
  /* counters */
  double fast_blocks, held, handed, foreign, wakes, datagrams;
  /* not yet taken by JavaScript: fresh blocks and their octets, stream blocks heard, octets from the server */
  double pending_fresh, pending_bytes, pending_heard, pending_wire;
  uint64_t heard_at; /* uv_hrtime() of the last block heard */
} receiver_t;

static unsigned char buffers[BATCH][MAX_DATAGRAM];

static void maybe_free(receiver_t *r) {
  if (!r->handle_open && r->finalized) free(r);
}

static void on_closed(uv_handle_t *handle) {
  receiver_t *r = handle->data;
  if (--r->handle_open > 0) return;
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  maybe_free(r);
}

static void close_receiver(receiver_t *r) {
  if (r->closing) return;
  r->closing = 1;
  r->fast = 0;
  napi_env env = r->env;
  napi_util_delete_ref(env, &r->on_batch);
  napi_util_delete_ref(env, &r->bitmap_ref);
  napi_util_delete_ref(env, &r->dest_ref);
  r->bitmap = NULL;
  r->dest = NULL;
  r->dest_fd = -1;
  /* The async context may be in use by the callback that is closing us: destroyed when it returns. */
  if (r->async && r->calling == 0) {
    napi_async_destroy(env, r->async);
    r->async = NULL;
  }
  if (r->handle_open) {
    uv_poll_stop(&r->poll);
    uv_timer_stop(&r->rest);
    r->resting = 0;
    uv_close((uv_handle_t *)&r->poll, on_closed);
    uv_close((uv_handle_t *)&r->rest, on_closed);
  } else if (r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  receiver_t *r = data;
  r->finalized = 1;
  close_receiver(r);
  maybe_free(r);
}

/* Decides one datagram from the server: fast-pathed (fresh or already held) or handed to JavaScript. */
static int fast_path(receiver_t *r, const unsigned char *p, size_t length, double *bytes) {
  if (!r->fast || r->last_block < 1 || !r->bitmap || (!r->dest && r->dest_fd < 0)) return V_HAND;
  size_t header = r->kind == KIND_MULTICAST ? 4 : 8;
  if (length < header || p[0] != 0 || p[1] != (r->kind == KIND_MULTICAST ? 3 : 7)) return V_HAND;
  if (r->kind == KIND_SBROADCAST) {
    uint32_t sbid = ((uint32_t)p[4] << 24) | ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    if (sbid != r->sbid) return V_HAND;
  }
  double wire = (double)(((uint32_t)p[2] << 8) | p[3]);
  double block = wire;
  if (r->last_block > 65535) {
    /* Past the wrap a non-master keeps a number only when one block in 1 … lastBlock fits (SPEC §11). */
    if (wire == 0) block = 65536;
    if (r->master || block + 65536 <= r->last_block) return V_HAND; /* a master unwraps in JS */
  }
  size_t data_length = length - header;
  if (block < 1 || block > r->last_block || (double)data_length > r->blksize) return V_HAND;
  if (((double)data_length < r->blksize) != (block == r->last_block)) return V_HAND;
  size_t index = (size_t)block;
  if ((index >> 3) >= r->bitmap_length) return V_HAND;
  unsigned char bit = (unsigned char)(1u << (index & 7));
  int held = (r->bitmap[index >> 3] & bit) != 0;
  if (r->master) {
    /* The machine's master ACK rule: any block that would make it ask for more goes to the machine. */
    double since = r->count + (held ? 0 : 1) - r->count_at_request;
    double half = (double)(((uint64_t)r->window + 1) / 2);
    if (since >= half || block >= r->requested_from + r->window - 1 || block == r->last_block) return V_HAND;
  }
  if (held) return V_HELD;
  if (r->count + 1 >= r->last_block) return V_HAND; /* completes the file: the machine ends it */
  size_t offset = (size_t)((block - 1) * r->blksize);
  if (offset + data_length > r->dest_length) return V_HAND;
  if (r->dest_fd < 0) {
    memcpy(r->dest + offset, p + header, data_length);
  } else if (data_length > 0) {
    /* Not an empty block (the last of a file of n × blksize octets): one queued alone would be a run of
       nothing, a pwritev returning 0, which flush_writes must not meet. */
    r->writes[r->nwrites].iov_base = (void *)(p + header);
    r->writes[r->nwrites].iov_len = data_length;
    r->write_at[r->nwrites++] = (off_t)offset;
  }
  r->bitmap[index >> 3] |= bit;
  r->count += 1;
  *bytes = (double)data_length;
  return V_FRESH;
}

/*
 * Writes this round's fresh blocks into dest_fd: one pwritev per run of adjacent blocks (a stream in order
 * is one run per round), so a member costs a write per batch, as a stdio client does, and holds no copy
 * of the file in memory. Returns 0 or an errno (the blocks are already in the bitmap: JS ends the read).
 */
static int flush_writes(receiver_t *r) {
  int err = 0;
  for (int i = 0; i < r->nwrites && !err;) {
    int j = i + 1;
    while (j < r->nwrites && r->write_at[j] == r->write_at[j - 1] + (off_t)r->writes[j - 1].iov_len) j++;
    /* One run: pwritev until all of it is written; a short write (a full disk, a signal) resumes after
       what went, advancing the run's iovecs in place (they are dropped after this round). */
    struct iovec *iov = &r->writes[i];
    int left = j - i;
    off_t at = r->write_at[i];
    while (left > 0) {
      ssize_t n = pwritev(r->dest_fd, iov, left, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        err = n < 0 ? errno : EIO;
        break;
      }
      at += n;
      for (; left > 0 && (size_t)n >= iov->iov_len; iov++, left--) n -= (ssize_t)iov->iov_len;
      if (left > 0) {
        iov->iov_base = (unsigned char *)iov->iov_base + n;
        iov->iov_len -= (size_t)n;
      }
    }
    i = j;
  }
  r->nwrites = 0;
  return err;
}

/* onBatch(packets | null, errno, source) in the receiver's async context; source 0 the socket, 1 dest_fd. */
static void deliver(receiver_t *r, napi_value packets, int err, int source) {
  napi_env env = r->env;
  napi_value fn, global, argv[3];
  if (!r->on_batch || napi_get_reference_value(env, r->on_batch, &fn) != napi_ok || !fn) return;
  napi_get_global(env, &global);
  if (packets) argv[0] = packets;
  else napi_get_null(env, &argv[0]);
  napi_create_int32(env, err, &argv[1]);
  napi_create_int32(env, source, &argv[2]);
  r->calling++;
  napi_status status = napi_make_callback(env, r->async, global, fn, 3, argv, NULL);
  if (--r->calling == 0 && r->closing && r->async) {
    napi_async_destroy(env, r->async);
    r->async = NULL;
  }
  napi_util_uncaught(env, status);
}

static void on_rest_end(uv_timer_t *timer);

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  receiver_t *r = poll->data;
  if (r->closing) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  napi_value packets = NULL;
  uint32_t count = 0;
  int err = status < 0 ? -status : 0;
  int write_err = 0;
  int got = 0;
  r->wakes += 1;
  for (int round = 0; !err && round < MAX_ROUNDS; round++) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = buffers[i];
      iov[i].iov_len = MAX_DATAGRAM;
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(r->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
      break;
    }
    r->nwrites = 0;
    got += n;
    for (int i = 0; i < n; i++) {
      size_t length = msgs[i].msg_len;
      r->datagrams += 1;
      if (!r->configured || msgs[i].msg_hdr.msg_namelen < sizeof from[i] || from[i].sin_family != AF_INET ||
          from[i].sin_addr.s_addr != r->server.s_addr || from[i].sin_port != r->server_port) {
        r->foreign += 1; /* not the server's transfer port (RFC 1350 TID): dropped */
        continue;
      }
      r->pending_wire += (double)length;
      double bytes = 0;
      switch (fast_path(r, buffers[i], length, &bytes)) {
        case V_FRESH:
          r->pending_fresh += 1;
          r->pending_bytes += bytes;
          r->pending_heard += 1;
          r->heard_at = uv_hrtime();
          r->fast_blocks += 1;
          break;
        case V_HELD:
          r->pending_heard += 1;
          r->heard_at = uv_hrtime();
          r->held += 1;
          break;
        default: {
          napi_value copy;
          void *unused;
          if (!packets && napi_create_array(env, &packets) != napi_ok) packets = NULL;
          if (packets && napi_create_buffer_copy(env, length, buffers[i], &unused, &copy) == napi_ok) {
            napi_set_element(env, packets, count++, copy);
            r->handed += 1;
          }
          break;
        }
      }
    }
    if (r->nwrites > 0 && (write_err = flush_writes(r)) != 0) break;
    if (n < BATCH) break;
  }
  if (write_err) deliver(r, packets, write_err, 1);
  else if (count > 0 || err) deliver(r, packets, err, 0);
  napi_close_handle_scope(env, scope);
  /* JS may have closed the receiver or made it master in deliver: checked after. */
  if (got > 0 && !r->closing && !r->resting && r->fast && !r->master && r->last_block <= 65535 &&
      r->rcvbuf >= REST_MIN_RCVBUF) {
    uv_poll_stop(&r->poll);
    r->resting = 1;
    uv_timer_start(&r->rest, on_rest_end, REST_MS, 0);
  }
}

static void on_rest_end(uv_timer_t *timer) {
  receiver_t *r = timer->data;
  r->resting = 0;
  if (r->closing) return;
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  on_readable(&r->poll, 0, UV_READABLE); /* what came meanwhile, now (it rests again if there was any) */
}

/* A member that became master (or left the fast path) stops resting: its poll runs again at once. */
static void stop_resting(receiver_t *r) {
  if (!r->resting || r->closing) return;
  uv_timer_stop(&r->rest);
  r->resting = 0;
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
}

/* A call's first `want` arguments, the receiver handle first; NULL (and a pending exception) if not. */
static receiver_t *receiver_call(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  return napi_util_handle_call(env, info, want, argv, "receiver");
}

static int get_bytes(napi_env env, napi_value value, unsigned char **data, size_t *length, napi_ref *ref) {
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  void *pointer;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, &arraybuffer, &offset) != napi_ok ||
      type != napi_uint8_array)
    return -1;
  *data = pointer;
  return napi_create_reference(env, value, 1, ref) == napi_ok ? 0 : -1;
}

/* open(kind, groupAddress | null, port, localAddress | null, recvBufferSize, onBatch) -> handle */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], handle;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6)
    return napi_util_throw(env, "open: 6 arguments expected");
  int32_t kind;
  uint32_t port, rcvbuf;
  struct in_addr group, local;
  if (napi_get_value_int32(env, argv[0], &kind) != napi_ok || (kind != KIND_MULTICAST && kind != KIND_SBROADCAST) ||
      napi_get_value_uint32(env, argv[2], &port) != napi_ok || port == 0 || port > 65535 ||
      napi_get_value_uint32(env, argv[4], &rcvbuf) != napi_ok)
    return napi_util_throw(env, "open: bad arguments");
  int group_kind = napi_util_ipv4(env, argv[1], &group);
  if (group_kind < 0 || (kind == KIND_MULTICAST && group_kind != 0) || napi_util_ipv4(env, argv[3], &local) < 0)
    return napi_util_throw(env, "open: bad address");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return napi_util_throw(env, strerror(errno));
  int one = 1;
  struct sockaddr_in bound = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  bound.sin_addr.s_addr = htonl(INADDR_ANY);
  int failed = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0;
  if (!failed && rcvbuf > 0) failed = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0;
  if (!failed) failed = bind(fd, (struct sockaddr *)&bound, sizeof bound) != 0;
  if (!failed && kind == KIND_MULTICAST) {
    struct ip_mreq mreq = {.imr_multiaddr = group, .imr_interface = local};
    failed = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0;
  } else if (!failed) {
    failed = setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0;
  }
  if (failed) {
    int e = errno;
    close(fd);
    return napi_util_throw(env, strerror(e));
  }
  receiver_t *r = calloc(1, sizeof *r);
  if (!r) {
    close(fd);
    return napi_util_throw(env, "out of memory");
  }
  r->env = env;
  r->fd = fd;
  r->dest_fd = -1;
  socklen_t rcvbuf_length = sizeof r->rcvbuf;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &r->rcvbuf, &rcvbuf_length) != 0) r->rcvbuf = 0;
  r->kind = kind;
  uv_loop_t *loop;
  napi_value name;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &r->poll, fd) != 0) {
    close(fd);
    free(r);
    return napi_util_throw(env, "open: poll setup failed");
  }
  uv_timer_init(loop, &r->rest); /* cannot fail */
  r->handle_open = 2;
  r->poll.data = r;
  r->rest.data = r;
  if (napi_create_reference(env, argv[5], 1, &r->on_batch) != napi_ok ||
      napi_create_string_utf8(env, "TftpNativeReceiver", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &r->async) != napi_ok ||
      napi_create_external(env, r, finalize, NULL, &handle) != napi_ok) {
    r->finalized = 1; /* no handle owns it: freed once the poll handle has closed */
    close_receiver(r);
    return napi_util_throw(env, "open: setup failed");
  }
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  return handle;
}

/* configure(handle, server, serverPort, sbid, blksize, lastBlock, bitmap, dest | fd | null) */
static napi_value js_configure(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  receiver_t *r = receiver_call(env, info, 8, argv);
  if (!r) return NULL;
  if (r->closing) return napi_util_throw(env, "configure: receiver closed");
  uint32_t port, sbid;
  double blksize, last_block;
  if (napi_util_ipv4(env, argv[1], &r->server) != 0 || napi_get_value_uint32(env, argv[2], &port) != napi_ok ||
      port == 0 || port > 65535 || napi_get_value_uint32(env, argv[3], &sbid) != napi_ok ||
      napi_get_value_double(env, argv[4], &blksize) != napi_ok || blksize < 1 || blksize > 65464 ||
      napi_get_value_double(env, argv[5], &last_block) != napi_ok || last_block < 0)
    return napi_util_throw(env, "configure: bad arguments");
  napi_util_delete_ref(env, &r->bitmap_ref);
  napi_util_delete_ref(env, &r->dest_ref);
  r->bitmap = NULL;
  r->dest = NULL;
  r->dest_fd = -1;
  r->dest_length = 0;
  if (get_bytes(env, argv[6], &r->bitmap, &r->bitmap_length, &r->bitmap_ref) != 0)
    return napi_util_throw(env, "configure: the bitmap must be a Uint8Array");
  napi_valuetype type;
  napi_typeof(env, argv[7], &type);
  if (type == napi_number) {
    int32_t fd;
    if (napi_get_value_int32(env, argv[7], &fd) != napi_ok || fd < 0)
      return napi_util_throw(env, "configure: the destination descriptor must be a non-negative integer");
    r->dest_fd = fd;
    r->dest_length = (size_t)(last_block * blksize);
  } else if (type != napi_null && type != napi_undefined &&
             get_bytes(env, argv[7], &r->dest, &r->dest_length, &r->dest_ref) != 0) {
    return napi_util_throw(env, "configure: the destination must be a Uint8Array or a file descriptor");
  }
  r->server_port = htons((uint16_t)port);
  r->sbid = sbid;
  r->blksize = blksize;
  r->last_block = last_block;
  r->configured = 1;
  return NULL;
}

/*
 * sync(handle, mode, count, requestedFrom, countAtRequest, windowsize): the machine's view. mode 0 = no
 * fast path, 1 = non-master member, 2 = master (its blocks that would not trigger an ACK only); count =
 * blocks held; the rest is the master's last request and the granted window.
 */
static napi_value js_sync(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  receiver_t *r = receiver_call(env, info, 6, argv);
  if (!r) return NULL;
  int32_t mode;
  double values[4];
  if (napi_get_value_int32(env, argv[1], &mode) != napi_ok || mode < 0 || mode > 2)
    return napi_util_throw(env, "sync: bad mode");
  for (int i = 0; i < 4; i++)
    if (napi_get_value_double(env, argv[2 + i], &values[i]) != napi_ok)
      return napi_util_throw(env, "sync: bad arguments");
  if (values[3] < 1) return napi_util_throw(env, "sync: bad windowsize");
  r->fast = mode != 0 && !r->closing;
  r->master = mode == 2;
  r->count = values[0];
  r->requested_from = values[1];
  r->count_at_request = values[2];
  r->window = values[3];
  if (r->master || !r->fast) stop_resting(r);
  return NULL;
}

/*
 * take(handle) -> [fresh, freshBytes, heard, wireBytes, heardAgoMs]: the fast path's totals since the last
 * take (fresh blocks written and their octets, stream blocks heard, octets from the server) and how long
 * ago the last block was heard (-1 when none), then zeroed.
 */
static napi_value js_take(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  receiver_t *r = receiver_call(env, info, 1, argv);
  if (!r) return NULL;
  double ago = r->pending_heard > 0 ? (double)(uv_hrtime() - r->heard_at) / 1e6 : -1;
  double values[5] = {r->pending_fresh, r->pending_bytes, r->pending_heard, r->pending_wire, ago};
  r->pending_fresh = r->pending_bytes = r->pending_heard = r->pending_wire = 0;
  return napi_util_numbers(env, values, 5);
}

/* counters(handle) -> [fastBlocks, held, handed, foreign, wakes, datagrams] */
static napi_value js_counters(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  receiver_t *r = receiver_call(env, info, 1, argv);
  if (!r) return NULL;
  double values[6] = {r->fast_blocks, r->held, r->handed, r->foreign, r->wakes, r->datagrams};
  return napi_util_numbers(env, values, 6);
}

/* close(handle): no more callbacks, socket closed (idempotent; safe inside onBatch). */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  receiver_t *r = receiver_call(env, info, 1, argv);
  if (r) close_receiver(r);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"configure", NULL, js_configure, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sync", NULL, js_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"take", NULL, js_take, NULL, NULL, NULL, napi_enumerable, NULL},
      {"counters", NULL, js_counters, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
