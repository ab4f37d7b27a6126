import type { Traffic } from '../../protocol/experiment.ts';

export interface TrafficSummary {
  requests: number;
  errors: number;
  non2xx: number;
}

export interface RunningTraffic {
  /** Stops sending and resolves with what was sent. */
  stop(): Promise<TrafficSummary>;
}

/** Longest a run's traffic may last, s; the engine stops it much sooner. */
const MAX_TRAFFIC_S = 3_600;

/**
 * Sends steady load (`rate` req/s over `connections`) for the life of the run, so the proxy's
 * windows and the guards have data. autocannon as a library, loaded on first use; bounded by
 * `stop()` and a 1 h cap.
 */
export async function startTraffic(t: Traffic): Promise<RunningTraffic> {
  // Loaded only when an experiment asks for traffic (~300 ms of start-up otherwise).
  const { default: autocannon } = await import('autocannon');
  let resolveDone!: (s: TrafficSummary) => void;
  const done = new Promise<TrafficSummary>((resolve) => {
    resolveDone = resolve;
  });
  const instance = autocannon(
    {
      url: t.url,
      connections: t.connections,
      overallRate: t.rate,
      duration: MAX_TRAFFIC_S,
      method: t.method.toUpperCase() as 'GET',
      headers: t.headers,
      ...(t.body === undefined ? {} : { body: t.body }),
      requests: t.paths.map((path) => ({ path })),
      // Slow responses under a latency fault are the point; do not count them as timeouts early.
      timeout: 30,
    },
    (err, r) => {
      resolveDone(
        err || !r
          ? { requests: 0, errors: 1, non2xx: 0 }
          : { requests: r.requests.total, errors: r.errors, non2xx: r.non2xx },
      );
    },
  );
  let stopped: Promise<TrafficSummary> | null = null;
  // autocannon emits errors per request too; keep them out of the process's unhandled errors.
  instance.on('error', () => {});
  return {
    stop() {
      stopped ??= (async () => {
        instance.stop();
        return done;
      })();
      return stopped;
    },
  };
}
