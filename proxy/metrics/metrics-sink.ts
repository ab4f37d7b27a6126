import type { Cohort } from '../active-fault.ts';

/** How one exchange (an HTTP request, or a whole TCP connection) ended. */
export const OUTCOMES = [
  'ok',
  'http_4xx',
  'http_5xx',
  'reset',
  'timeout',
  'upstream_error',
  'client_abort',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Outcomes that count as errors in error rates. */
export const ERROR_OUTCOMES: ReadonlySet<Outcome> = new Set([
  'http_5xx',
  'reset',
  'timeout',
  'upstream_error',
]);

export interface ExchangeRecord {
  proxy: string;
  /** Ids of the faults that acted on this exchange; empty = clean traffic. */
  faultIds: readonly string[];
  /** Set when a fault with a cohort rule sorted this exchange. */
  cohort?: Cohort;
  outcome: Outcome;
  /** HTTP status sent to the client, when there was one. */
  status?: number;
  /** Request start to response end (HTTP) or connection open to close (TCP), ms. */
  latencyMs: number;
  /** Bytes from the client. */
  bytesIn: number;
  /** Bytes to the client. */
  bytesOut: number;
}

/** What the data path reports to. Calls are on the hot path: implementations must be O(1). */
export interface MetricsSink {
  record(r: ExchangeRecord): void;
  connectionOpened(proxy: string): void;
  connectionClosed(proxy: string): void;
}

export const nullMetrics: MetricsSink = {
  record() {},
  connectionOpened() {},
  connectionClosed() {},
};
