// The latency bench's TCP reference outside Node: a one-thread epoll TCP pipe that forwards every
// chunk it reads a fixed delay later, timed by a timerfd in ns. No GC, no fault chain, no metrics.
// Compiled at run time with `cc -O2` by bench/support/tcp-delayer.ts. Written for this repo; no
// third-party code.
//
// Usage: tcp-delayer UPSTREAM_HOST UPSTREAM_PORT
// Listens on an ephemeral 127.0.0.1 port, dials the upstream once per accepted connection, and then
// answers one line on stdout per line read on stdin:
//   port                      → the listening port
//   delay upstream|downstream MS  → ok   (upstream: client → upstream chunks; MS whole ms ≥ 0)
//   reset                     → ok   (both directions back to 0)
// A change of delay first forwards every chunk still held, in order (as a fault's removal does).
// Either side closing or failing closes both. Exit 0 at end of stdin; 2 when it could not start or
// a line is malformed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000LL
#define READ_BYTES 65536
#define MAX_EVENTS 512

typedef struct Pair Pair;

/** One socket of a pair: 0 = the client's, 1 = the upstream's. */
typedef struct {
  Pair *pair;
  int side;
  int fd;
  /** Bytes waiting for this socket to take them (a short write), and whether EPOLLOUT is on. */
  char *out;
  size_t out_len, out_cap;
  int want_out;
} End;

struct Pair {
  End end[2];
  int closed;
  /** Chunks in the held queue that point here: the pair is freed once closed and unreferenced. */
  int refs;
  Pair *next_dead;
};

/** A chunk held until `due_ns`, then written to `pair->end[to]`. */
typedef struct Chunk {
  struct Chunk *next;
  Pair *pair;
  int to;
  int64_t due_ns;
  size_t len;
  char data[];
} Chunk;

static int ep, timer_fd, listen_fd;
static struct sockaddr_in upstream;
/** Delay per direction, ns: [0] client → upstream ("upstream"), [1] upstream → client ("downstream"). */
static int64_t delay_ns[2];
/** Held chunks in arrival order; with one delay per direction at a time their due times only grow. */
static Chunk *head, *tail;
static Pair *dead;
static int64_t armed_ns = -1;
static char read_buf[READ_BYTES];

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void watch(End *e, int op) {
  struct epoll_event ev = {.events = EPOLLIN | (e->want_out ? EPOLLOUT : 0), .data.ptr = e};
  if (epoll_ctl(ep, op, e->fd, &ev) < 0) die("epoll_ctl");
}

static void close_pair(Pair *p) {
  if (p->closed) return;
  p->closed = 1;
  for (int i = 0; i < 2; i++) {
    close(p->end[i].fd);  // also leaves the epoll set
    free(p->end[i].out);
    p->end[i].out = NULL;
  }
  // Freed after the current batch of events, which may still name it.
  p->next_dead = dead;
  dead = p;
}

/** Writes what `e` has queued; on a short write keeps the rest and waits for EPOLLOUT. */
static void flush_out(End *e) {
  size_t done = 0;
  while (done < e->out_len) {
    ssize_t n = write(e->fd, e->out + done, e->out_len - done);
    if (n > 0) {
      done += (size_t)n;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ENOTCONN)) break;
    close_pair(e->pair);
    return;
  }
  memmove(e->out, e->out + done, e->out_len - done);
  e->out_len -= done;
  int want = e->out_len > 0;
  if (want != e->want_out) {
    e->want_out = want;
    watch(e, EPOLL_CTL_MOD);
  }
}

/** Sends `len` bytes to `e` after whatever it has queued already. */
static void send_to(End *e, const char *data, size_t len) {
  if (e->pair->closed) return;
  if (e->out_len + len > e->out_cap) {
    e->out_cap = (e->out_len + len) * 2;
    e->out = realloc(e->out, e->out_cap);
    if (!e->out) die("realloc");
  }
  memcpy(e->out + e->out_len, data, len);
  e->out_len += len;
  flush_out(e);
}

static void arm_timer(void) {
  int64_t at = head ? head->due_ns : 0;
  if (at == armed_ns) return;
  struct itimerspec its = {0};
  if (head) {
    its.it_value.tv_sec = at / 1000000000LL;
    its.it_value.tv_nsec = at % 1000000000LL;
    if (at == 0) its.it_value.tv_nsec = 1;  // 0 would disarm
  }
  if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime");
  armed_ns = at;
}

/** Forwards every held chunk due by `until_ns` (INT64_MAX: all of them), in order. */
static void release(int64_t until_ns) {
  while (head && head->due_ns <= until_ns) {
    Chunk *c = head;
    head = c->next;
    if (!head) tail = NULL;
    send_to(&c->pair->end[c->to], c->data, c->len);
    c->pair->refs--;
    free(c);
  }
}

static void hold(Pair *p, int to, const char *data, size_t len, int64_t due) {
  Chunk *c = malloc(sizeof(Chunk) + len);
  if (!c) die("malloc");
  c->next = NULL;
  c->pair = p;
  c->to = to;
  c->due_ns = due;
  c->len = len;
  memcpy(c->data, data, len);
  p->refs++;
  if (tail) tail->next = c;
  else head = c;
  tail = c;
}

static void on_readable(End *e) {
  Pair *p = e->pair;
  int to = 1 - e->side;
  for (;;) {
    if (p->closed) return;
    ssize_t n = read(e->fd, read_buf, sizeof read_buf);
    if (n > 0) {
      // Reading client → upstream is the "upstream" direction, as in Faultline's faults.
      int64_t d = delay_ns[e->side];
      if (d > 0) hold(p, to, read_buf, (size_t)n, now_ns() + d);
      else send_to(&p->end[to], read_buf, (size_t)n);
      if ((size_t)n < sizeof read_buf) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close_pair(p);  // EOF or error on either side ends the pair
    return;
  }
}

static void on_accept(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or out of fds: the client sees a refused or pending dial
    int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
      close(fd);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(up, (struct sockaddr *)&upstream, sizeof upstream) < 0 && errno != EINPROGRESS) {
      close(fd);
      close(up);
      continue;
    }
    Pair *p = calloc(1, sizeof(Pair));
    if (!p) die("calloc");
    for (int i = 0; i < 2; i++) {
      p->end[i].pair = p;
      p->end[i].side = i;
      p->end[i].fd = i == 0 ? fd : up;
    }
    watch(&p->end[0], EPOLL_CTL_ADD);
    // Bytes for the upstream wait in `out` until the connect completes (EPOLLOUT).
    watch(&p->end[1], EPOLL_CTL_ADD);
  }
}

/** One control line; returns 0 when malformed. */
static int on_command(char *line) {
  char dir[32];
  long ms;
  if (strcmp(line, "port") == 0) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(listen_fd, (struct sockaddr *)&a, &len);
    printf("%d\n", ntohs(a.sin_port));
  } else if (strcmp(line, "reset") == 0) {
    release(INT64_MAX);
    delay_ns[0] = delay_ns[1] = 0;
    printf("ok\n");
  } else if (sscanf(line, "delay %31s %ld", dir, &ms) == 2 && ms >= 0 &&
             (strcmp(dir, "upstream") == 0 || strcmp(dir, "downstream") == 0)) {
    release(INT64_MAX);
    delay_ns[strcmp(dir, "upstream") == 0 ? 0 : 1] = ms * NS_PER_MS;
    printf("ok\n");
  } else {
    fprintf(stderr, "tcp-delayer: malformed line: %s\n", line);
    return 0;
  }
  fflush(stdout);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: tcp-delayer UPSTREAM_HOST UPSTREAM_PORT\n");
    return 2;
  }
  // Ends with the bench that started it, even if that one is killed.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  upstream.sin_family = AF_INET;
  upstream.sin_port = htons((uint16_t)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &upstream.sin_addr) != 1) die("upstream host");

  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 4096) < 0)
    die("listen");
  timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (timer_fd < 0 || ep < 0) die("timerfd/epoll");
  // Tags for the three descriptors that are not a pair's: compared by address.
  static int tag_listen, tag_timer, tag_stdin;
  struct epoll_event ev = {.events = EPOLLIN};
  ev.data.ptr = &tag_listen;
  epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.ptr = &tag_timer;
  epoll_ctl(ep, EPOLL_CTL_ADD, timer_fd, &ev);
  ev.data.ptr = &tag_stdin;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);

  char line[256];
  size_t line_len = 0;
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      void *tag = events[i].data.ptr;
      if (tag == &tag_listen) {
        on_accept();
      } else if (tag == &tag_timer) {
        uint64_t ticks;
        (void)!read(timer_fd, &ticks, sizeof ticks);
        armed_ns = -1;
        release(now_ns());
      } else if (tag == &tag_stdin) {
        ssize_t got = read(0, line + line_len, sizeof line - 1 - line_len);
        if (got <= 0) return 0;  // end of stdin: the bench is done with us
        line_len += (size_t)got;
        char *nl;
        while ((nl = memchr(line, '\n', line_len))) {
          *nl = '\0';
          if (!on_command(line)) return 2;
          line_len -= (size_t)(nl + 1 - line);
          memmove(line, nl + 1, line_len);
        }
        if (line_len == sizeof line - 1) return 2;  // a line too long to be a command
      } else {
        End *e = tag;
        if (e->pair->closed) continue;
        if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) flush_out(e);
        if (!e->pair->closed && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(e);
      }
    }
    // Pairs closed in this batch, once no held chunk names them.
    Pair **link = &dead;
    while (*link) {
      Pair *p = *link;
      if (p->refs == 0) {
        *link = p->next_dead;
        free(p);
      } else {
        link = &p->next_dead;
      }
    }
    arm_timer();
  }
}
