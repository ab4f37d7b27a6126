import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline, type Readable, type Transform, type Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type ErrorCode, FaultlineError } from '../../protocol/errors.ts';
import type { Logger } from '../listener.ts';
import type { Outcome } from '../metrics/metrics-sink.ts';
import { forwardRequestHeaders, forwardResponseHeaders, type RequestBodyInfo } from './hop-headers.ts';
import type { UpstreamHead } from './http-fault.ts';

/** What forwarding needs from the listener that owns the exchange. */
export interface RelayHost {
  readonly proxy: string;
  readonly upstream: string;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  /** How long to wait for the upstream's response head, ms. */
  readonly headersTimeoutMs: number;
  /** Longest pause between two body chunks from the upstream, ms. */
  readonly bodyTimeoutMs: number;
}

/**
 * How much of a parked response is kept in memory before the upstream is paused, bytes. Small
 * answers are read whole, so their upstream connection goes back to the pool at once instead of
 * being held for the whole delay (a 100 ms downstream delay would otherwise need rate × 0.1 s
 * upstream connections).
 */
const PARK_BUFFER_BYTES = 64 * 1024;
const UPSTREAM_TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function noop(): void {}

/** Module-level, like the exchange's wake-ups: the headers timer costs a Timeout and no closure. */
function onHeadersTimeout(relay: UpstreamRelay<RelayHost, unknown>): void {
  relay.headersTimedOut();
}

/**
 * The forwarding half of an exchange: sends the request upstream with undici (this object is the
 * dispatch handler, so the clean path allocates no closures), streams the answer back, parks the
 * answer while downstream faults decide on its head, and answers 400/502/504 itself when the
 * request cannot be forwarded or the upstream fails. HttpExchange adds the faults' side.
 * `H`: what the owning listener provides; `F`: the type of a fault in `downstream`.
 */
export abstract class UpstreamRelay<H extends RelayHost, F>
  implements Dispatcher.DispatchHandler, RequestBodyInfo
{
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  protected readonly host: H;
  /** Kept here: node detaches `req.socket` once the response is done. */
  protected readonly socket: Socket;
  ended = false;
  hasBody = false;
  contentLength = -1;
  /** Faults acting on the response; undefined when none does (the answer streams straight back). */
  downstream: readonly F[] | undefined;
  forwardBody: Buffer | Readable | null = null;
  /** The upstream's response head while downstream faults decide. */
  upstreamHead: UpstreamHead | undefined;
  protected outcome: Outcome | undefined;
  /** The proxy gave up on the upstream request (a fault answered, or the client left). */
  protected abandoned = false;
  /** Response chunks that arrived while downstream faults decided; undefined when not deciding. */
  protected pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private pendingEnd = false;
  /** The upstream body was paused because `pending` outgrew PARK_BUFFER_BYTES. */
  private parkPaused = false;
  private headMessage: string | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private sink: Writable;
  /** Runs from forwarding until the upstream's response head (or an error) arrives. */
  private headersTimer: NodeJS.Timeout | undefined;
  private awaitingDrain = false;

  constructor(host: H, req: IncomingMessage, res: ServerResponse) {
    this.host = host;
    this.req = req;
    this.res = res;
    this.sink = res;
    this.socket = req.socket;
  }

  /** Downstream faults decide on `upstreamHead`; they end in `openResponse`, or answer themselves. */
  protected abstract decideResponse(): void;
  /** Throttles for the response body, in order; undefined when no downstream fault has one. */
  protected abstract responseThrottles(): Transform[] | undefined;

  /** Ended, or a response (head) already went to the client. */
  get answered(): boolean {
    return this.ended || this.res.headersSent;
  }

  forward(): void {
    const req = this.req;
    let path = req.url ?? '/';
    if (path.charCodeAt(0) !== 47 /* '/' */) {
      // Absolute-form (`GET http://host/x`) as sent to forward proxies; `*` and junk get a 400.
      try {
        const u = new URL(path);
        path = u.pathname + u.search;
      } catch {
        this.answerError('INVALID_INPUT', `cannot forward request target ${JSON.stringify(path)}`, 400);
        return;
      }
    }
    const headers = forwardRequestHeaders(req.rawHeaders, this.socket.remoteAddress, this);
    const body = this.forwardBody ?? (this.hasBody ? req : null);
    try {
      this.host.dispatcher.dispatch(
        {
          path,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body,
          // Timed here instead (headersTimer): undici's timers for it fire up to ~1 s late.
          headersTimeout: 0,
          bodyTimeout: this.host.bodyTimeoutMs,
        },
        this,
      );
      this.headersTimer = setTimeout(onHeadersTimeout, this.host.headersTimeoutMs, this);
    } catch (err) {
      this.answerError('INVALID_INPUT', `cannot forward request: ${(err as Error).message}`, 400);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abandoned || this.ended || this.res.headersSent)
      controller.abort(new Error('exchange already ended'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx informational heads are not relayed
    this.clearHeadersTimer();
    if (this.ended || this.res.headersSent) {
      controller.abort(new Error('exchange already ended'));
      return;
    }
    const list = forwardResponseHeaders(headers);
    if (!this.downstream) {
      this.writeHead(statusCode, statusMessage, list);
      return;
    }
    this.controller = controller;
    this.upstreamHead = { statusCode, headers: list, receivedAt: performance.now() };
    this.headMessage = statusMessage;
    try {
      this.decideResponse();
    } catch (err) {
      this.fail(err);
    }
  }

  /** ResponseGate: a downstream hook went async; park the upstream body meanwhile. */
  parkResponse(): void {
    if (this.pending) return;
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** ResponseGate: every downstream hook said continue. */
  openResponse(): void {
    const head = this.upstreamHead!;
    const pending = this.pending;
    this.pending = undefined;
    this.writeHead(head.statusCode, this.headMessage, head.headers);
    if (pending) for (const chunk of pending) this.sink.write(chunk);
    if (this.pendingEnd) this.sink.end();
    else if (this.parkPaused) {
      this.parkPaused = false;
      this.controller?.resume();
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.pending) {
      // `[chunk]`: a pushed-to empty array reserves 17 slots for the whole delay (usually one chunk).
      if (this.pending.length === 0) this.pending = [chunk];
      else this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > PARK_BUFFER_BYTES && !this.parkPaused) {
        this.parkPaused = true;
        controller.pause();
      }
      return;
    }
    // undici can hand over a few already-parsed chunks after pause(): wait for one drain only.
    if (!this.sink.write(chunk) && !this.awaitingDrain) {
      this.awaitingDrain = true;
      controller.pause();
      this.sink.once('drain', () => {
        this.awaitingDrain = false;
        controller.resume();
      });
    }
  }

  onResponseEnd(): void {
    // Nothing is left to pause or abort; letting go of undici's controller (it keeps the raw
    // header buffers) makes a parked exchange much smaller while its delay runs.
    this.controller = undefined;
    if (this.pending) this.pendingEnd = true;
    else this.sink.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.clearHeadersTimer();
    if (this.ended || this.abandoned) return;
    const code = (err as { code?: string }).code ?? '';
    if (this.res.headersSent) {
      // The upstream broke off mid-response: the client must not take a truncated body as whole.
      this.outcome = 'upstream_error';
      this.res.destroy();
      return;
    }
    this.pending = undefined;
    if (UPSTREAM_TIMEOUT_CODES.has(code)) {
      this.answerTimeout(code);
    } else {
      this.outcome = 'upstream_error';
      this.answerError(
        'UPSTREAM_UNAVAILABLE',
        `upstream ${this.host.upstream} is unavailable: ${err.message}`,
        502,
        code,
      );
    }
  }

  /** Something in the proxy threw while handling this exchange: 500, and the upstream request goes. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.host.log.error({ proxy: this.host.proxy, err }, 'http fault pipeline failed');
    this.abortUpstream();
    this.answerError('INTERNAL', `proxy failed: ${(err as Error)?.message ?? String(err)}`, 500);
  }

  /**
   * No response head within headersMs of forwarding (a wait for a free upstream connection
   * included): answer 504 and give up on the upstream request.
   */
  headersTimedOut(): void {
    this.headersTimer = undefined;
    if (this.ended || this.abandoned || this.res.headersSent || this.upstreamHead) return;
    this.abortUpstream();
    this.answerTimeout('UND_ERR_HEADERS_TIMEOUT');
  }

  protected clearHeadersTimer(): void {
    if (this.headersTimer) {
      clearTimeout(this.headersTimer);
      this.headersTimer = undefined;
    }
  }

  protected abortUpstream(): void {
    this.abandoned = true;
    const c = this.controller;
    if (c && !c.aborted) c.abort(new Error('exchange ended by the proxy'));
  }

  private writeHead(statusCode: number, statusMessage: string | undefined, headers: string[]): void {
    const res = this.res;
    if (statusMessage) res.writeHead(statusCode, statusMessage, headers);
    else res.writeHead(statusCode, headers);
    const throttles = this.downstream && this.responseThrottles();
    if (throttles) {
      this.sink = throttles[0]!;
      pipeline([...throttles, res], noop);
    }
  }

  private answerError(code: ErrorCode, message: string, status: number, cause?: string): void {
    if (this.ended || this.res.headersSent) {
      this.res.destroy();
      return;
    }
    const details: Record<string, unknown> = { proxy: this.host.proxy, upstream: this.host.upstream };
    if (cause) details.cause = cause;
    const body = JSON.stringify(new FaultlineError(code, message, details).toBody());
    this.res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }

  /** The upstream did not answer in time (`cause`: undici's code for which limit): 504. */
  private answerTimeout(cause: string): void {
    this.outcome = 'timeout';
    this.answerError('UPSTREAM_TIMEOUT', `upstream ${this.host.upstream} did not answer in time`, 504, cause);
  }
}
