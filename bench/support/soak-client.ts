import { Client } from 'undici';

/** Options of a soak: many long-lived keep-alive connections at a low, fixed total rate. */
export interface SoakOptions {
  url: string;
  /** Open keep-alive connections (one undici Client each). */
  connections: number;
  /** Total requests per second over all connections; each connection sends in turn. */
  ratePerSec: number;
  durationSec: number;
  /** Called about once a second with the counters so far. */
  onTick?: (s: SoakStats) => void;
  /** Called after the last answer, while every connection is still open (e.g. a final reading). */
  beforeClose?: () => Promise<void>;
}

export interface SoakStats {
  sent: number;
  ok: number;
  errors: number;
  /** Connections open right now. */
  open: number;
  /** Connections opened in total; above `connections` means some were re-dialled. */
  dials: number;
  /** Errors by kind: `http_5xx` or the client error's code (e.g. `UND_ERR_SOCKET`). */
  errorKinds: Record<string, number>;
}

/**
 * Holds `connections` keep-alive connections open for `durationSec` and sends requests round
 * robin at `ratePerSec`, so every connection stays busy enough not to idle out. Bounded in time:
 * stops sending at the end, waits at most 10 s for answers, runs `beforeClose`, then closes
 * every connection.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakStats> {
  const target = new URL(opts.url);
  const path = target.pathname + target.search;
  const stats: SoakStats = { sent: 0, ok: 0, errors: 0, open: 0, dials: 0, errorKinds: {} };
  const fail = (kind: string): void => {
    stats.errors++;
    stats.errorKinds[kind] = (stats.errorKinds[kind] ?? 0) + 1;
  };
  const clients = Array.from({ length: opts.connections }, () => {
    // keepAliveTimeout (ms) well above the gap between two requests on one connection.
    const c = new Client(target.origin, {
      keepAliveTimeout: 60_000,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    c.on('connect', () => {
      stats.open++;
      stats.dials++;
    });
    c.on('disconnect', () => {
      stats.open--;
    });
    return c;
  });
  const inFlight = new Set<Promise<void>>();
  const send = (client: Client): void => {
    stats.sent++;
    const p = client
      .request({ path, method: 'GET' })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode < 500) stats.ok++;
        else fail('http_5xx');
      })
      .catch((err: { code?: string }) => fail(err.code ?? 'unknown'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const start = performance.now();
  const total = Math.floor(opts.ratePerSec * opts.durationSec);
  const intervalMs = 1_000 / opts.ratePerSec;
  let lastTick = start;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
      while (stats.sent < due) send(clients[stats.sent % clients.length]!);
      if (now - lastTick >= 1_000) {
        lastTick = now;
        opts.onTick?.({ ...stats, errorKinds: { ...stats.errorKinds } });
      }
      if (stats.sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 10_000).unref())]);
  await opts.beforeClose?.();
  const final = { ...stats, errorKinds: { ...stats.errorKinds } };
  await Promise.all(clients.map((c) => c.destroy()));
  return final;
}
