import type { IncomingMessage } from 'node:http';
import { pipeline, Readable, type Transform } from 'node:stream';
import type { ActiveFault, Cohort } from '../active-fault.ts';
import type { RequestFacts } from '../request-match.ts';
import type {
  DelayStep,
  FaultStep,
  HookResult,
  HttpExchangeView,
  HttpFault,
  UpstreamHead,
} from './http-fault.ts';
import { readBoundedBody } from './read-body.ts';

export type Fault = ActiveFault<HttpFault>;

/** The parts of an exchange the fault pipeline drives (implemented by HttpExchange). */
export interface PipelineExchange extends HttpExchangeView, ResponseGate {
  facts: RequestFacts;
  query: string;
  body: Buffer | undefined;
  /** What to forward instead of the request stream (a buffered or throttled body). */
  forwardBody: Buffer | Readable | null;
  cohort: Cohort | undefined;
  acting: readonly Fault[] | undefined;
  downstream: readonly Fault[] | undefined;
  holdFaultId: string | undefined;
  /** Ended, or a response (head) already went to the client. */
  readonly answered: boolean;
  /** The upstream's response head while downstream faults decide. */
  readonly upstreamHead: UpstreamHead | undefined;
  forward(): void;
  fail(err: unknown): void;
  /**
   * Calls `resume(this, from)` once performance.now() ≥ `atMs`, unless the exchange ends first.
   * One timer, no promise or closure (a delay step's wait).
   */
  sleepUntil(atMs: number, resume: Resume, from: number): void;
}

/** Where a pipeline picks up after a delay step: the next hook to run is `from`. */
export type Resume = (ex: PipelineExchange, from: number) => void;

function isDelay(step: HookResult): step is DelayStep {
  return (step as DelayStep).until !== undefined;
}

function noop(): void {}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Decides which faults act on this request, runs the upstream-direction ones, then forwards.
 * Stays synchronous while hooks answer synchronously (a 0 ms delay costs no promise or timer).
 */
export function runRequestFaults(ex: PipelineExchange, faults: readonly Fault[]): void {
  const req = ex.req;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  ex.query = q < 0 ? '' : url.slice(q + 1);
  ex.facts = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), headers: req.headers };
  for (const f of faults) {
    if (f.behavior.needsBody?.(req) && hasBody(req)) {
      // `.catch` after `.then`: a throw inside the continuation must not become an unhandled rejection.
      readBoundedBody(req)
        .then((read) => {
          ex.body = read.body;
          ex.forwardBody = read.forward;
          if (!ex.ended) admit(ex, faults);
        })
        .catch(ex.fail.bind(ex));
      return;
    }
  }
  admit(ex, faults);
}

function admit(ex: PipelineExchange, faults: readonly Fault[]): void {
  for (const f of faults) {
    if (f.spec.cohort) {
      ex.cohort = f.cohortOf(ex.req.headers);
      break;
    }
  }
  let acting: Fault[] | undefined;
  let downstream: Fault[] | undefined;
  for (const f of faults) {
    if (f.behavior.accepts && !f.behavior.accepts(ex)) continue;
    if (!f.admit(ex.facts, ex.cohort)) continue;
    // `[f]`, not `[]` then push: a pushed-to array reserves 17 slots, and these lists live as long
    // as the exchange (a held request's live set is what every scavenge copies).
    if (acting) acting.push(f);
    else acting = [f];
    if (f.spec.direction === 'downstream') {
      if (downstream) downstream.push(f);
      else downstream = [f];
    }
  }
  // When every fault acts (the usual case) the store's frozen list serves: no per-request copy.
  ex.acting = acting?.length === faults.length ? faults : acting;
  ex.downstream = downstream?.length === faults.length ? faults : downstream;
  if (acting) runUpstream(ex, 0);
  else ex.forward();
}

/** A hook did not finish at once: resume the pipeline at `from` when its delay or promise is done. */
function resumeAfter(
  ex: PipelineExchange,
  step: DelayStep | Promise<FaultStep>,
  resume: Resume,
  from: number,
): void {
  if (isDelay(step)) {
    ex.sleepUntil(step.until, resume, from);
    return;
  }
  // `.catch` after `.then`: a throw inside the continuation must not become an unhandled rejection.
  step
    .then((s) => {
      if (s === 'continue' && !ex.answered) resume(ex, from);
    })
    .catch(ex.fail.bind(ex));
}

function runUpstream(ex: PipelineExchange, from: number): void {
  const acting = ex.acting!;
  for (let i = from; i < acting.length; i++) {
    const f = acting[i]!;
    if (f.spec.direction !== 'upstream' || !f.behavior.onRequest) continue;
    ex.holdFaultId = f.id;
    const step = f.behavior.onRequest(ex);
    if (typeof step !== 'string') {
      resumeAfter(ex, step, runUpstream, i + 1);
      return;
    }
    if (step === 'handled' || ex.answered) return;
  }
  throttleRequestBody(ex, acting);
  ex.forward();
}

function throttleRequestBody(ex: PipelineExchange, acting: readonly Fault[]): void {
  let throttles: Transform[] | undefined;
  for (const f of acting) {
    if (f.spec.direction === 'upstream' && f.behavior.throttle) {
      throttles ??= [];
      throttles.push(f.behavior.throttle());
    }
  }
  if (!throttles || !hasBody(ex.req)) return;
  const source = ex.forwardBody ?? ex.req;
  const body = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  ex.forwardBody = pipeline([body, ...throttles], noop) as unknown as Readable;
}

/** What the response side of the exchange does once downstream faults have decided. */
export interface ResponseGate {
  /**
   * A hook went async: keep the upstream body's chunks until `openResponse` (the upstream is paused
   * only once more than 64 KB waits).
   */
  parkResponse(): void;
  /** Every hook said continue: send the head and what was kept. */
  openResponse(): void;
}

/** Runs the downstream-direction faults' `onResponse` hooks from `from` on; synchronous while they are. */
export function runResponseFaults(ex: PipelineExchange, from = 0): void {
  const list = ex.downstream!;
  const head = ex.upstreamHead!;
  for (let i = from; i < list.length; i++) {
    const f = list[i]!;
    if (!f.behavior.onResponse) continue;
    ex.holdFaultId = f.id;
    const step = f.behavior.onResponse(ex, head);
    if (typeof step !== 'string') {
      ex.parkResponse();
      resumeAfter(ex, step, runResponseFaults, i + 1);
      return;
    }
    if (step === 'handled' || ex.answered) return;
  }
  ex.openResponse();
}

/** Throttles for the response body from the downstream-direction faults, in order. */
export function responseThrottles(ex: PipelineExchange): Transform[] | undefined {
  let throttles: Transform[] | undefined;
  for (const f of ex.downstream ?? []) {
    if (f.behavior.throttle) {
      throttles ??= [];
      throttles.push(f.behavior.throttle());
    }
  }
  return throttles;
}
