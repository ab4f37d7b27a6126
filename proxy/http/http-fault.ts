import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import type { RequestFacts } from '../request-match.ts';

/** What a fault hook tells the pipeline: keep going, or the fault has ended the exchange itself. */
export type FaultStep = 'continue' | 'handled';

/**
 * Keep going once performance.now() ≥ `until` (ms), or stop if the exchange ends first. The data
 * path waits with one timer and no promise, so a delay held on thousands of requests at once keeps
 * little alive (what a scavenge must copy sets the delay's tail under load).
 */
export interface DelayStep {
  readonly until: number;
}

/** What a hook returns: a step now, a delay the data path times, or a step later. */
export type HookResult = FaultStep | DelayStep | Promise<FaultStep>;

/** A response a fault answers with instead of (or in place of) the upstream's. */
export interface FaultResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** The response head the upstream sent, as a downstream fault sees it. */
export interface UpstreamHead {
  statusCode: number;
  /** Flat `[name, value, ...]` list, hop-by-hop headers already removed. */
  headers: string[];
  /** performance.now() when the head arrived, ms. */
  receivedAt: number;
}

/** One request/response exchange as faults see it; implemented by the HTTP data path. */
export interface HttpExchangeView {
  readonly req: IncomingMessage;
  readonly facts: RequestFacts;
  /** Raw query string without the `?`; empty when there is none. */
  readonly query: string;
  /** The request body, buffered only when a fault asked for it (`needsBody`) and it fit the bound. */
  readonly body: Buffer | undefined;
  /** performance.now() when the request arrived, ms. */
  readonly startedAt: number;
  /** True once the exchange is over (answered, reset, or the client went away). */
  readonly ended: boolean;
  /** Resolves at performance.now() ≥ `atMs`, or as soon as the exchange ends. */
  waitUntil(atMs: number): Promise<void>;
  /** Answers the client; any upstream request in flight is abandoned. */
  respond(response: FaultResponse): void;
  /** Resets the client connection (a real TCP RST). */
  reset(): void;
  /**
   * Never answers. Closes the client socket after `timeoutMs` (0 = only when the client gives up or
   * the fault that holds is removed). Resolves when the exchange ends.
   */
  hold(timeoutMs: number): Promise<void>;
}

/**
 * The behaviour of one HTTP fault (`FaultDefinition<P, HttpFault>.create`). The pipeline calls
 * `onRequest` on faults applied in the upstream direction before forwarding, and `onResponse` on
 * faults applied in the downstream direction once the upstream's response head is in.
 */
export interface HttpFault {
  /** True when this request needs its body buffered (bounded) before `accepts` can decide. */
  needsBody?(req: IncomingMessage): boolean;
  /** A condition of the fault type itself, checked before the spec's match rule and sampling. */
  accepts?(ex: HttpExchangeView): boolean;
  onRequest?(ex: HttpExchangeView): HookResult;
  onResponse?(ex: HttpExchangeView, head: UpstreamHead): HookResult;
  /** A stream that slows a body: the request body (upstream) or the response body (downstream). */
  throttle?(): Transform;
}
