// CPU freeze watch for bench/latency-accuracy.ts, compiled at run time with `cc -O2` by
// bench/support/freeze-watch.ts. Written for this repo; no third-party code.
//
// Pinned to the proxy's CPU at real-time priority (SCHED_FIFO when allowed), it wakes every 1 ms
// and measures how late it woke. A real-time thread that wakes runs at once, whatever the proxy is
// doing, so a late wake means the CPU itself did not run (the host descheduled it, or the kernel
// held it): time in which the proxy could not run either, which no change to the proxy can fix.
//
// Usage: freeze-watch. Each line read on stdin prints one JSON line of what happened since the
// previous one and starts afresh: {"seconds", "freezes" (late by > FREEZE_MS), "frozenMs" (their
// total lateness), "longestMs"}. Exit 0 at end of stdin.
#define _GNU_SOURCE
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/** A wake later than this counts as a freeze, ms (scheduler and timer noise stay well below). */
#define FREEZE_MS 5.0

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
  prctl(PR_SET_TIMERSLACK, 1UL);
  struct sched_param sp = {.sched_priority = 1};
  int realtime = sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct pollfd in = {.fd = 0, .events = POLLIN};
  int64_t since = now_ns(), last = since;
  long freezes = 0;
  double frozen_ms = 0, longest_ms = 0;
  for (;;) {
    int n = poll(&in, 1, 1);
    int64_t now = now_ns();
    double late_ms = (double)(now - last) / 1e6 - 1.0;
    if (late_ms > FREEZE_MS) {
      freezes++;
      frozen_ms += late_ms;
      if (late_ms > longest_ms) longest_ms = late_ms;
    }
    last = now;
    if (n > 0) {
      char buf[256];
      ssize_t r = read(0, buf, sizeof buf);
      if (r <= 0) return 0;
      printf("{\"seconds\":%.3f,\"freezes\":%ld,\"frozenMs\":%.3f,\"longestMs\":%.3f,\"realtime\":%s}\n",
             (double)(now - since) / 1e9, freezes, frozen_ms, longest_ms, realtime ? "true" : "false");
      since = now;
      freezes = 0;
      frozen_ms = longest_ms = 0;
      last = now_ns();
    }
  }
}
