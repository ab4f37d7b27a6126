// Open-loop paced HTTP/1.1 load client for bench/latency-accuracy.ts, compiled at run time with
// `cc -O2` by bench/support/paced-client.ts. Written for this repo; no third-party code.
//
// Request i is due at t0 + i / rate whatever the server does (open loop). Its latency is taken
// from that due time, not from when it left, so a stalled server or a late client cannot hide a
// stall (no coordinated omission, as in wrk2). One thread, epoll, non-blocking keep-alive
// sockets, one request in flight per connection. A due request that finds every connection busy
// waits in a queue, and that wait counts in its latency. The most recently freed idle connection
// is used first (last in, first out), as Node's http.Agent and Go's http.Transport do.
//
// Usage: paced-client HOST PORT PATH CONNECTIONS
// Opens the connections, then runs one phase per line read on stdin, on those same connections:
//   RATE DURATION_S WARMUP_S OUT_FILE
// so a fault can be applied between phases to traffic whose connections already exist, as it is
// to a running service. After each phase: OUT_FILE holds one line per answered request due at or
// after the warm-up, "LATENCY_NS SEND_LAG_NS" (send lag = when it left minus when it was due), and
// stdout one JSON line of counters. Exit 0 at end of stdin (errors are counted, not fatal); 2 when
// it could not start or a phase line is malformed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL
/** Room for one answer (head + body), bytes; the bench's upstream answers ~300 bytes. */
#define BUF_BYTES 16384
/** After the last request is due, answers may take this long before they count as errors, ns. */
#define DRAIN_NS (30LL * NS_PER_S)
#define MAX_EVENTS 512
/** Connections opened back to back, then a pause of DIAL_PAUSE_NS (≤ 6 400 dials a second). */
#define DIAL_BATCH 128
#define DIAL_PAUSE_NS (20LL * 1000000LL)
/** Pause between opening the connections and the first due request, ns. */
#define SETTLE_NS (500LL * 1000000LL)
/** Pause between reading a later phase's line and its first due request, ns. */
#define PHASE_START_NS (1000000LL)

typedef struct {
  int fd;     /* -1 when not connected */
  int busy;   /* a request is in flight on it */
  int64_t due_ns;
  int64_t lag_ns;
  size_t used; /* bytes of the answer read so far */
  char buf[BUF_BYTES];
} Conn;

static struct sockaddr_in server;
static char request[1024];
static size_t request_len;
static int epfd;
static Conn *conns;
static int n_conns;
static int *idle; /* stack of idle connection indexes, most recently freed on top */
static int idle_n;

static struct {
  long long sent, answered, errors, dial_errors, queued, max_queue, reported;
} count;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void push_idle(int i) { idle[idle_n++] = i; }

static int pop_idle(void) { return idle[--idle_n]; }

static void fail(const char *what) {
  fprintf(stderr, "paced-client: %s: %s\n", what, strerror(errno));
  exit(2);
}

/** Loopback connect is immediate, so a blocking connect is fine; then non-blocking, Nagle off. */
static int dial(int i) {
  Conn *c = &conns[i];
  c->fd = -1;
  c->busy = 0;
  c->used = 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&server, sizeof server) < 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  return 0;
}

static void hang_up(int i) {
  if (conns[i].fd >= 0) close(conns[i].fd); /* close also removes it from epoll */
  conns[i].fd = -1;
  conns[i].busy = 0;
  conns[i].used = 0;
}

/** Sends one request due at `due` on idle connection i; on failure counts an error. */
static void send_on(int i, int64_t due) {
  Conn *c = &conns[i];
  for (int attempt = 0; attempt < 2; attempt++) {
    if (c->fd < 0 && dial(i) < 0) {
      count.dial_errors++;
      break;
    }
    ssize_t n = send(c->fd, request, request_len, MSG_NOSIGNAL);
    if (n == (ssize_t)request_len) {
      c->busy = 1;
      c->due_ns = due;
      c->lag_ns = now_ns() - due;
      c->used = 0;
      count.sent++;
      return;
    }
    /* The server closed this idle keep-alive connection: dial again once and retry. */
    hang_up(i);
  }
  count.errors++;
  push_idle(i);
}

/** Case-insensitive: does the header block [p, end) hold `name` with a value containing `word`? */
static int header_has(const char *p, const char *end, const char *name, const char *word, long *number) {
  size_t name_len = strlen(name);
  while (p < end) {
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    if (!eol) eol = end;
    if ((size_t)(eol - p) > name_len && strncasecmp(p, name, name_len) == 0 && p[name_len] == ':') {
      const char *v = p + name_len + 1;
      while (v < eol && (*v == ' ' || *v == '\t')) v++;
      if (number) {
        *number = strtol(v, NULL, 10);
        return 1;
      }
      for (const char *w = v; w + strlen(word) <= eol; w++) {
        if (strncasecmp(w, word, strlen(word)) == 0) return 1;
      }
    }
    p = eol + 2;
  }
  return 0;
}

/**
 * Whether buf[0, used) holds one whole answer: 1 = complete (status and keep-alive set),
 * 0 = not yet, -1 = malformed or too big for the buffer.
 */
static int answer_complete(const char *buf, size_t used, int *status, int *keep_alive) {
  const char *head_end = memmem(buf, used, "\r\n\r\n", 4);
  if (!head_end) return used >= BUF_BYTES ? -1 : 0;
  if (used < 12 || strncmp(buf, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(buf + 9);
  const char *first = memchr(buf, '\n', used) + 1;
  size_t body_at = (size_t)(head_end - buf) + 4;
  *keep_alive = !header_has(first, head_end + 2, "connection", "close", NULL);
  long length = -1;
  if (header_has(first, head_end + 2, "content-length", "", &length)) {
    if (length < 0 || body_at + (size_t)length > BUF_BYTES) return -1;
    return used >= body_at + (size_t)length ? 1 : 0;
  }
  if (header_has(first, head_end + 2, "transfer-encoding", "chunked", NULL)) {
    size_t p = body_at;
    for (;;) {
      const char *eol = p < used ? memmem(buf + p, used - p, "\r\n", 2) : NULL;
      if (!eol) return used >= BUF_BYTES ? -1 : 0;
      long size = strtol(buf + p, NULL, 16);
      p = (size_t)(eol - buf) + 2;
      if (size == 0) return used >= p + 2 ? 1 : 0; /* no trailers expected */
      p += (size_t)size + 2;
      if (p > used) return p > BUF_BYTES ? -1 : 0;
    }
  }
  /* No length: only answers without a body are understood. */
  return (*status == 204 || *status == 304 || (*status >= 100 && *status < 200)) ? 1 : -1;
}

/**
 * One phase on the open connections: `rate` req/s for `duration_s` (the first `warmup_s` not
 * reported), starting `start_in_ns` from now; then answers drain. Writes OUT_FILE and prints the
 * counters. Returns 0, or -1 when OUT_FILE cannot be written.
 */
static int run_phase(double rate, double duration_s, double warmup_s, const char *out_path, int64_t start_in_ns) {
  memset(&count, 0, sizeof count);
  long long total = (long long)(rate * duration_s);
  int64_t *queue = calloc((size_t)total + 1, sizeof *queue); /* due times waiting for a connection */
  int64_t *lat = calloc((size_t)total + 1, sizeof *lat);
  int64_t *lag = calloc((size_t)total + 1, sizeof *lag);
  if (!queue || !lat || !lag) fail("calloc");

  const int64_t t0 = now_ns() + start_in_ns;
  const int64_t report_from = t0 + (int64_t)(warmup_s * NS_PER_S);
  const double interval_ns = (double)NS_PER_S / rate;
  long long next = 0, q_head = 0, q_tail = 0, in_flight = 0;
  static int use_pwait2 = 1;
  struct epoll_event events[MAX_EVENTS];

  for (;;) {
    int64_t now = now_ns();
    for (; next < total; next++) {
      int64_t due = t0 + (int64_t)((double)next * interval_ns);
      if (due > now) break;
      if (idle_n > 0) {
        int i = pop_idle();
        send_on(i, due);
        if (conns[i].busy) in_flight++;
      } else {
        queue[q_tail++] = due;
        count.queued++;
        if (q_tail - q_head > count.max_queue) count.max_queue = q_tail - q_head;
      }
    }
    int64_t last_due = t0 + (int64_t)((double)(total - 1) * interval_ns);
    if (next >= total && in_flight == 0 && q_head == q_tail) break;
    if (next >= total && now > last_due + DRAIN_NS) {
      count.errors += in_flight + (q_tail - q_head);
      /* Give up on what is still in flight so the next phase starts with every connection idle. */
      for (int i = 0; i < n_conns; i++) {
        if (conns[i].busy) {
          hang_up(i);
          push_idle(i);
        }
      }
      break;
    }
    int64_t wait = next < total ? t0 + (int64_t)((double)next * interval_ns) - now : 100000000LL;
    if (wait < 0) wait = 0;
    int n;
    if (use_pwait2) {
      struct timespec ts = {.tv_sec = wait / NS_PER_S, .tv_nsec = wait % NS_PER_S};
      n = (int)syscall(SYS_epoll_pwait2, epfd, events, MAX_EVENTS, &ts, NULL, 0);
      if (n < 0 && errno == ENOSYS) {
        use_pwait2 = 0; /* old kernel or a sandbox without it: whole-ms waits */
        continue;
      }
    } else {
      n = epoll_wait(epfd, events, MAX_EVENTS, (int)((wait + 999999) / 1000000));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int e = 0; e < n; e++) {
      int i = (int)events[e].data.u32;
      Conn *c = &conns[i];
      if (c->fd < 0) continue;
      int closed = 0;
      for (;;) {
        ssize_t r = read(c->fd, c->buf + c->used, BUF_BYTES - c->used);
        if (r > 0) {
          c->used += (size_t)r;
          if (c->used == BUF_BYTES) break;
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = 1;
        if (r < 0 && errno == EINTR) continue;
        break;
      }
      if (!c->busy) {
        /* An idle keep-alive connection the server closed: it stays on the idle stack and is
           dialled again when next used. Bytes nobody asked for are dropped. */
        if (closed) hang_up(i);
        c->used = 0;
        continue;
      }
      int status = 0, keep_alive = 1;
      int done = answer_complete(c->buf, c->used, &status, &keep_alive);
      if (done == 0 && !closed) continue;
      if (done == 1) {
        int64_t end = now_ns();
        count.answered++;
        if (status >= 400) count.errors++;
        else if (c->due_ns >= report_from) {
          lat[count.reported] = end - c->due_ns;
          lag[count.reported] = c->lag_ns;
          count.reported++;
        }
      } else {
        count.errors++; /* malformed answer, or the connection closed mid-request */
      }
      in_flight--;
      c->busy = 0;
      c->used = 0;
      if (done != 1 || closed || !keep_alive) hang_up(i);
      if (q_head < q_tail) {
        send_on(i, queue[q_head++]);
        if (conns[i].busy) in_flight++;
      } else {
        push_idle(i);
      }
    }
  }

  FILE *out = fopen(out_path, "w");
  int ok = out != NULL;
  for (long long k = 0; ok && k < count.reported; k++) {
    fprintf(out, "%lld %lld\n", (long long)lat[k], (long long)lag[k]);
  }
  if (out && fclose(out) != 0) ok = 0;
  free(queue);
  free(lat);
  free(lag);
  if (!ok) return -1;
  printf("{\"scheduled\":%lld,\"sent\":%lld,\"answered\":%lld,\"errors\":%lld,\"dialErrors\":%lld,"
         "\"queued\":%lld,\"maxQueue\":%lld,\"reported\":%lld}\n",
         total, count.sent, count.answered, count.errors, count.dial_errors, count.queued, count.max_queue,
         count.reported);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s HOST PORT PATH CONNECTIONS < phases (RATE DURATION_S WARMUP_S OUT_FILE per line)\n",
            argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  const char *path = argv[3];
  n_conns = atoi(argv[4]);
  if (n_conns <= 0 || port <= 0) {
    fprintf(stderr, "paced-client: connections and port must be positive\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  /* Sleep to the ns asked (default slack is 50 µs), so sends leave on time. */
  prctl(PR_SET_TIMERSLACK, 1UL);
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
    fprintf(stderr, "paced-client: HOST must be an IPv4 address\n");
    return 2;
  }
  request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path,
                                 host, port);

  conns = calloc((size_t)n_conns, sizeof *conns);
  idle = calloc((size_t)n_conns, sizeof *idle);
  if (!conns || !idle) fail("calloc");
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) fail("epoll_create1");
  for (int i = 0; i < n_conns; i++) {
    /* In batches: a server that cannot accept as fast as we dial overflows its listen backlog,
       and each SYN it drops costs a 1 s retransmit. */
    if (i > 0 && i % DIAL_BATCH == 0) {
      struct timespec pause = {.tv_sec = 0, .tv_nsec = DIAL_PAUSE_NS};
      nanosleep(&pause, NULL);
    }
    if (dial(i) < 0) fail("connect");
    push_idle(i);
  }

  /* The server is still accepting (and a TCP proxy dialling its upstream for each connection):
     the first phase starts SETTLE_NS later, so that burst is over before its first request is due. */
  int64_t start_in_ns = SETTLE_NS;
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    double rate = 0, duration_s = 0, warmup_s = 0;
    char out_path[sizeof line];
    if (sscanf(line, "%lf %lf %lf %4095s", &rate, &duration_s, &warmup_s, out_path) != 4 || rate <= 0 ||
        duration_s <= 0 || warmup_s < 0) {
      fprintf(stderr, "paced-client: bad phase line (want RATE DURATION_S WARMUP_S OUT_FILE): %s", line);
      return 2;
    }
    if (run_phase(rate, duration_s, warmup_s, out_path, start_in_ns) < 0) fail("write OUT_FILE");
    start_in_ns = PHASE_START_NS;
  }
  return 0;
}
