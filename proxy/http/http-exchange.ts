import type { IncomingMessage } from 'node:http';
import { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Transform } from 'node:stream';
import type { Cohort } from '../active-fault.ts';
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
import type { FaultResponse } from './http-fault.ts';
import { type RelayHost, UpstreamRelay } from './upstream-relay.ts';

/** What every exchange of one listener shares; owned by HttpProxyListener. */
export interface ExchangeHost extends RelayHost {
  readonly metrics: MetricsSink;
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

function noop(): void {}

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
 * One request through the proxy: runs the faults that admit it, forwards it (UpstreamRelay), and
 * reports one metrics record when the client side closes.
 */
export class HttpExchange extends UpstreamRelay<ExchangeHost, Fault> implements PipelineExchange {
  readonly startedAt: number;
  facts!: RequestFacts;
  query = '';
  body: Buffer | undefined;
  /** Id of the fault whose hook is running; a `hold` belongs to it. */
  holdFaultId: string | undefined;
  acting: readonly Fault[] | undefined;
  cohort: Cohort | undefined;
  private readonly bytesReadAtStart: number;
  private readonly bytesWrittenAtStart: number;
  private wake: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** A delay step's wait (sleepUntil): when, and where the pipeline picks up. */
  private sleepAt = 0;
  private sleepFrom = 0;
  private resume: Resume | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private held = false;

  constructor(host: ExchangeHost, req: IncomingMessage, res: ProxyResponse) {
    super(host, req, res);
    this.startedAt = performance.now();
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

  protected decideResponse(): void {
    runResponseFaults(this);
  }

  protected responseThrottles(): Transform[] | undefined {
    return responseThrottles(this);
  }

  /** The client side closed (response done, reset, or client gone): settle and report once. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    const res = this.res;
    (res as ProxyResponse).exchange = undefined;
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
    // Declared body length; a fault that answered before forwarding left contentLength unparsed,
    // and the faulted path's `facts` already hold node's parsed headers, so read it from there.
    let bytesIn = this.contentLength;
    if (bytesIn < 0 && this.facts !== undefined) bytesIn = Number(this.facts.headers['content-length'] ?? -1);
    this.host.metrics.record({
      proxy: this.host.proxy,
      faultIds: acting ? acting.map((f) => f.id) : NO_IDS,
      cohort: this.cohort,
      outcome: this.outcome ?? (finished ? outcomeOf(res.statusCode) : 'client_abort'),
      status: res.headersSent ? res.statusCode : undefined,
      latencyMs: performance.now() - this.startedAt,
      // Body bytes as declared; chunked bodies are counted off the socket (approximate under pipelining).
      bytesIn: bytesIn >= 0 ? bytesIn : socket.bytesRead - this.bytesReadAtStart,
      bytesOut: socket.bytesWritten - this.bytesWrittenAtStart,
    });
    this.host.exchangeEnded(this);
  }
}
