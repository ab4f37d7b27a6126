import { type IncomingHttpHeaders, type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline, type Readable, type Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { type ErrorCode, FaultlineError } from '../../protocol/errors.ts';
import type { Cohort } from '../active-fault.ts';
import type { Logger } from '../listener.ts';
import type { MetricsSink, Outcome } from '../metrics/metrics-sink.ts';
import type { RequestFacts } from '../request-match.ts';
import {
  type Fault,
  type PipelineExchange,
  type Resume,
  responseThrottles,
  runRequestFaults,
  runResponseFaults,
} from './fault-pipeline.ts';
import { forwardRequestHeaders, forwardResponseHeaders, type RequestBodyInfo } from './hop-headers.ts';
import type { FaultResponse, UpstreamHead } from './http-fault.ts';

/** What every exchange of one listener shares; owned by HttpProxyListener. */
export interface ExchangeHost {
  readonly proxy: string;
  readonly upstream: string;
  readonly dispatcher: Dispatcher;
  readonly metrics: MetricsSink;
  readonly log: Logger;
  /** How long to wait for the upstream's response head, ms. */
  readonly headersTimeoutMs: number;
  /** Longest pause between two body chunks from the upstream, ms. */
  readonly bodyTimeoutMs: number;
  /** An exchange is held open by a `hold` (timeout fault) and must be closed when its fault goes. */
  holdStarted(ex: HttpExchange): void;
  holdEnded(ex: HttpExchange): void;
  exchangeEnded(ex: HttpExchange): void;
}

/** node:http response that knows its exchange, so one shared 'close' listener serves every request. */
export class ProxyResponse extends ServerResponse<IncomingMessage> {
  exchange: HttpExchange | undefined;
}

const NO_IDS: readonly string[] = Object.freeze([]);
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

/** Module-level, like wakeFromSleep: the headers timer costs a Timeout and no closure. */
function onHeadersTimeout(ex: HttpExchange): void {
  ex.headersTimedOut();
}

/** Module-level so a sleeping exchange costs a Timeout and no closure. */
function wakeFromSleep(ex: HttpExchange): void {
  ex.sleepTick();
}

function onResponseClose(this: ProxyResponse): void {
  this.exchange?.closed();
}

function outcomeOf(status: number): Outcome {
  return status >= 500 ? 'http_5xx' : status >= 400 ? 'http_4xx' : 'ok';
}

/**
 * One request through the proxy: runs the faults that admit it, forwards it with undici (this
 * object is the dispatch handler, so the clean path allocates no closures), streams the answer
 * back, and reports one metrics record when the client side closes.
 */
export class HttpExchange implements PipelineExchange, Dispatcher.DispatchHandler, RequestBodyInfo {
  readonly req: IncomingMessage;
  readonly res: ProxyResponse;
  readonly startedAt: number;
  private readonly host: ExchangeHost;
  facts!: RequestFacts;
  query = '';
  body: Buffer | undefined;
  ended = false;
  hasBody = false;
  contentLength = -1;
  /** Id of the fault whose hook is running; a `hold` belongs to it. */
  holdFaultId: string | undefined;
  acting: readonly Fault[] | undefined;
  cohort: Cohort | undefined;
  downstream: readonly Fault[] | undefined;
  forwardBody: Buffer | Readable | null = null;
  /** The upstream's response head while downstream faults decide. */
  upstreamHead: UpstreamHead | undefined;
  private headMessage: string | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private sink: Writable;
  /** Response chunks that arrived while downstream faults decided; undefined when not deciding. */
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private pendingEnd = false;
  /** The upstream body was paused because `pending` outgrew PARK_BUFFER_BYTES. */
  private parkPaused = false;
  private outcome: Outcome | undefined;
  /** The proxy gave up on the upstream request (a fault answered, or the client left). */
  private abandoned = false;
  /** Kept here: node detaches `req.socket` once the response is done. */
  private readonly socket: Socket;
  private readonly bytesReadAtStart: number;
  private readonly bytesWrittenAtStart: number;
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** A delay step's wait (sleepUntil): when, and where the pipeline picks up. */
  private sleepAt = 0;
  private sleepFrom = 0;
  private resume: Resume | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Runs from forwarding until the upstream's response head (or an error) arrives. */
  private headersTimer: NodeJS.Timeout | undefined;
  private held = false;
  private awaitingDrain = false;

  constructor(host: ExchangeHost, req: IncomingMessage, res: ProxyResponse) {
    this.host = host;
    this.req = req;
    this.res = res;
    this.sink = res;
    this.startedAt = performance.now();
    this.socket = req.socket;
    this.bytesReadAtStart = this.socket.bytesRead;
    this.bytesWrittenAtStart = this.socket.bytesWritten;
    res.exchange = this;
    // `on`, not `once`: once wraps the listener in a new closure per request; closed() runs once anyway.
    res.on('close', onResponseClose);
    // A client that goes away mid-body makes the request emit 'error'; the 'close' path handles it.
    req.on('error', noop);
  }

  /** Runs the exchange. With no active fault this is a straight forward with no fault logic at all. */
  start(faults: readonly Fault[]): void {
    if (faults.length === 0) {
      this.forward();
      return;
    }
    try {
      runRequestFaults(this, faults);
    } catch (err) {
      this.fail(err);
    }
  }

  get answered(): boolean {
    return this.ended || this.res.headersSent;
  }

  // ---- fault-facing API (HttpExchangeView) ----

  waitUntil(atMs: number): Promise<void> {
    return new Promise((resolve) => {
      const tick = (): void => {
        const left = atMs - performance.now();
        if (this.ended || left <= 0) {
          this.wake = undefined;
          this.wakeTimer = undefined;
          resolve();
          return;
        }
        // Timers fire on whole ms and can be a little early against the monotonic clock: re-check.
        this.wakeTimer = setTimeout(tick, Math.ceil(left));
      };
      this.wake = tick;
      tick();
    });
  }

  sleepUntil(atMs: number, resume: Resume, from: number): void {
    this.sleepAt = atMs;
    this.sleepFrom = from;
    this.resume = resume;
    wakeFromSleep(this);
  }

  /** Runs the stored continuation when its time has come, else re-arms the timer (see wakeFromSleep). */
  sleepTick(): void {
    this.wakeTimer = undefined;
    const resume = this.resume;
    if (!resume || this.ended) return;
    const left = this.sleepAt - performance.now();
    if (left > 0) {
      // Timers fire on whole ms and can be a little early against the monotonic clock: re-check.
      this.wakeTimer = setTimeout(wakeFromSleep, Math.ceil(left), this);
      return;
    }
    this.resume = undefined;
    try {
      resume(this, this.sleepFrom);
    } catch (err) {
      this.fail(err);
    }
  }

  respond(r: FaultResponse): void {
    if (this.ended || this.res.headersSent) return;
    this.abortUpstream();
    this.pending = undefined;
    const body = r.body ?? '';
    const headers: Record<string, string | number> = { ...r.headers };
    headers['content-length'] = Buffer.byteLength(body);
    this.res.writeHead(r.status, headers);
    this.res.end(body);
  }

  reset(): void {
    if (this.ended) return;
    this.outcome = 'reset';
    this.abortUpstream();
    const socket = this.socket;
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  }

  hold(timeoutMs: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.outcome = 'timeout';
    this.abortUpstream();
    this.held = true;
    this.host.holdStarted(this);
    if (timeoutMs > 0) this.holdTimer = setTimeout(() => this.closeHeld(), timeoutMs);
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Ends a held exchange by closing the client's socket (a FIN: the client sees the connection close). */
  closeHeld(): void {
    if (!this.ended) this.res.destroy();
  }

  // ---- forwarding (undici dispatch handler) ----

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
      runResponseFaults(this);
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

  private writeHead(statusCode: number, statusMessage: string | undefined, headers: string[]): void {
    const res = this.res;
    if (statusMessage) res.writeHead(statusCode, statusMessage, headers);
    else res.writeHead(statusCode, headers);
    const throttles = this.downstream && responseThrottles(this);
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

  /** The upstream did not answer in time (`cause`: undici's code for which limit): 504. */
  private answerTimeout(cause: string): void {
    this.outcome = 'timeout';
    this.answerError('UPSTREAM_TIMEOUT', `upstream ${this.host.upstream} did not answer in time`, 504, cause);
  }

  private clearHeadersTimer(): void {
    if (this.headersTimer) {
      clearTimeout(this.headersTimer);
      this.headersTimer = undefined;
    }
  }

  private abortUpstream(): void {
    this.abandoned = true;
    const c = this.controller;
    if (c && !c.aborted) c.abort(new Error('exchange ended by the proxy'));
  }

  /** The client side closed (response done, reset, or client gone): settle and report once. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    const res = this.res;
    res.exchange = undefined;
    const finished = res.writableFinished;
    if (!finished) this.abortUpstream();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.clearHeadersTimer();
    this.resume = undefined;
    if (this.holdTimer) clearTimeout(this.holdTimer);
    if (this.held) this.host.holdEnded(this);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
    const acting = this.acting;
    if (acting) for (const f of acting) f.release();
    const socket = this.socket;
    this.host.metrics.record({
      proxy: this.host.proxy,
      faultIds: acting ? acting.map((f) => f.id) : NO_IDS,
      cohort: this.cohort,
      outcome: this.outcome ?? (finished ? outcomeOf(res.statusCode) : 'client_abort'),
      status: res.headersSent ? res.statusCode : undefined,
      latencyMs: performance.now() - this.startedAt,
      // Body bytes as declared; chunked bodies are counted off the socket (approximate under pipelining).
      bytesIn: this.contentLength >= 0 ? this.contentLength : socket.bytesRead - this.bytesReadAtStart,
      bytesOut: socket.bytesWritten - this.bytesWrittenAtStart,
    });
    this.host.exchangeEnded(this);
  }
}
