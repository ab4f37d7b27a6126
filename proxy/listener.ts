import type { ProxyConfig } from '../protocol/proxy.ts';
import type { FaultStore } from './fault-store.ts';
import type { MetricsSink } from './metrics/metrics-sink.ts';

/** Minimal structured logger (pino's shape), so tests can pass a silent one. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Everything a listener needs, passed as one object. */
export interface ListenerContext {
  config: ProxyConfig;
  faults: FaultStore;
  metrics: MetricsSink;
  log: Logger;
}

/** An HTTP-mode proxy's connections to its upstream, now. */
export interface UpstreamPoolStats {
  /** Connections open to the upstream. */
  connected: number;
  /** Requests waiting in the proxy for a free connection (the pool is at `upstreamConnections`). */
  queued: number;
}

/** One named proxy's listening socket and its connections (TCP or HTTP mode). */
export interface ProxyListener {
  readonly config: ProxyConfig;
  /** The address actually bound (`host:port`), known after `start`; port 0 resolves here. */
  readonly boundAddress: string | undefined;
  /** Open client connections. */
  readonly connections: number;
  /** HTTP mode only: the upstream connection pool. */
  readonly upstreamPool?: UpstreamPoolStats;
  start(): Promise<void>;
  /**
   * Applies a changed config without disturbing open connections: a new upstream is used by
   * new connections or requests; a new listen address rebinds the listener.
   */
  update(config: ProxyConfig): Promise<void>;
  /** Stops listening; waits up to `drainMs` for open exchanges to finish, then destroys the rest. */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

export type ListenerFactory = (ctx: ListenerContext) => ProxyListener;
