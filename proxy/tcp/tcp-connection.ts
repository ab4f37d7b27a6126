import net, { type Socket } from 'node:net';
import type { ActiveFault } from '../active-fault.ts';
import type { Logger } from '../listener.ts';
import type { MetricsSink, Outcome } from '../metrics/metrics-sink.ts';
import { ChunkReader } from './chunk-reader.ts';
import { FaultLink, type LinkOwner } from './fault-link.ts';
import { NO_STAGES, type PipeOwner, type Stage, TcpDirection } from './tcp-direction.ts';
import type { TcpCloseOutcome, TcpFault } from './tcp-fault.ts';

export interface TcpConnectionContext {
  proxy: string;
  /** The accepted client socket. */
  client: Socket;
  /** The client socket's `onread` reader, when it was accepted with one (else it is read by 'data' events). */
  clientReader?: ChunkReader | undefined;
  /** Where this connection goes; read once, so a later proxy update does not move it. */
  upstream: { host: string; port: number };
  /** How long connecting to the upstream may take before the client is closed, ms. */
  connectTimeoutMs: number;
  /** The proxy's faults now (the FaultStore's frozen array). */
  faults: readonly ActiveFault[];
  metrics: MetricsSink;
  log: Logger;
  onClosed(conn: TcpConnection): void;
}

/** A fault's decision for this connection; `stage` is set when it was admitted. */
interface Decision {
  readonly admitted: boolean;
  readonly stage: Stage | undefined;
}

/** How long a graceful close by a fault may take to flush before the sockets are destroyed, ms. */
const CLOSE_GRACE_MS = 5_000;
const NOT_ADMITTED: Decision = Object.freeze({ admitted: false, stage: undefined });
const NO_IDS: readonly string[] = Object.freeze([]);

/**
 * One client connection and its upstream connection: two directions, the faults acting on them,
 * and how it ended. Reports one record to the metrics sink when both sockets have closed.
 */
export class TcpConnection implements PipeOwner, LinkOwner {
  closing = false;
  bytesIn = 0;
  bytesOut = 0;
  readonly client: Socket;
  readonly upstream: Socket;
  private readonly ctx: TcpConnectionContext;
  private readonly openedAt = performance.now();
  private readonly up: TcpDirection;
  private readonly down: TcpDirection;
  private readonly decisions = new Map<ActiveFault, Decision>();
  private seen: readonly ActiveFault[] | undefined;
  private actedOn: string[] | undefined;
  private outcome: Outcome | undefined;
  private connected = false;
  private openSockets = 2;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(ctx: TcpConnectionContext) {
    this.ctx = ctx;
    this.client = ctx.client;
    const upstreamReader = new ChunkReader();
    this.upstream = net.connect({
      ...ctx.upstream,
      allowHalfOpen: true,
      noDelay: true,
      onread: upstreamReader.onread,
    });
    this.client.on('error', this.onClientError);
    this.upstream.on('error', this.onUpstreamError);
    // net.connect has no timeout of its own: an upstream that drops SYNs would hold the client
    // for the kernel's ~2 min of retransmits.
    const connectTimer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error(`connect timed out after ${ctx.connectTimeoutMs} ms`);
      err.code = 'ETIMEDOUT';
      this.upstream.destroy(err);
    }, ctx.connectTimeoutMs);
    this.upstream.once('connect', () => {
      this.connected = true;
      clearTimeout(connectTimer);
    });
    this.upstream.once('close', () => clearTimeout(connectTimer));
    this.client.once('close', this.onSocketClose);
    this.upstream.once('close', this.onSocketClose);
    this.up = new TcpDirection({
      direction: 'upstream',
      source: this.client,
      reader: ctx.clientReader,
      dest: this.upstream,
      owner: this,
    });
    this.down = new TcpDirection({
      direction: 'downstream',
      source: this.upstream,
      reader: upstreamReader,
      dest: this.client,
      owner: this,
    });
    ctx.metrics.connectionOpened(ctx.proxy);
    this.syncFaults(ctx.faults);
  }

  /**
   * Brings the fault chains in line with the proxy's faults: a new fault is met (admitted or not,
   * once) and acts from the next chunk; a removed one is released and its waits end at once.
   */
  syncFaults(faults: readonly ActiveFault[]): void {
    if (faults === this.seen || this.closing) return;
    this.seen = faults;
    for (const [fault, decision] of this.decisions) {
      if (!faults.includes(fault)) this.forget(fault, decision);
    }
    let up: Stage[] | undefined;
    let down: Stage[] | undefined;
    for (const fault of faults) {
      if ((fault.behavior as TcpFault).scope !== 'connection') continue;
      let decision = this.decisions.get(fault);
      if (!decision) {
        decision = this.meet(fault);
        this.decisions.set(fault, decision);
      }
      const stage = decision.stage;
      if (!stage) continue;
      if (fault.spec.direction === 'upstream') {
        up ??= [];
        up.push(stage);
      } else {
        down ??= [];
        down.push(stage);
      }
    }
    this.up.stages = up ?? NO_STAGES;
    this.down.stages = down ?? NO_STAGES;
  }

  /** Forced close (listener stopping after its drain time). */
  destroy(): void {
    if (!this.beginClose('reset')) return;
    this.client.destroy();
    this.upstream.destroy();
  }

  closeByFault(outcome: TcpCloseOutcome): void {
    if (!this.beginClose(outcome)) return;
    // Flush what was already written, FIN, then release the sockets; a peer that never reads
    // must not keep them forever.
    this.client.destroySoon();
    this.upstream.destroySoon();
    this.graceTimer = setTimeout(() => {
      this.client.destroy();
      this.upstream.destroy();
    }, CLOSE_GRACE_MS);
    this.graceTimer.unref();
  }

  resetByFault(): void {
    if (!this.beginClose('reset')) return;
    this.client.resetAndDestroy();
    // Both sides get an RST, as with Toxiproxy's reset_peer (it sets SO_LINGER 0 on both sockets).
    // A socket still connecting sends its RST once connected (node's resetAndDestroy).
    if (this.upstream.destroyed) return;
    this.upstream.resetAndDestroy();
  }

  onFaultError(err: unknown): void {
    this.ctx.log.error({ proxy: this.ctx.proxy, err }, 'tcp fault failed; resetting the connection');
    if (!this.beginClose('reset')) return;
    this.client.resetAndDestroy();
    this.upstream.destroy();
  }

  private meet(fault: ActiveFault): Decision {
    if (!fault.admit()) return NOT_ADMITTED;
    this.actedOn ??= [];
    this.actedOn.push(fault.id);
    const direction = fault.spec.direction;
    const link = new FaultLink({
      direction,
      pipe: direction === 'upstream' ? this.up : this.down,
      owner: this,
    });
    try {
      const session = (fault.behavior as Extract<TcpFault, { scope: 'connection' }>).open(link);
      return { admitted: true, stage: { fault, session, link } };
    } catch (err) {
      // A bug in the fault, not an effect: log it and let this connection pass clean.
      this.ctx.log.error({ proxy: this.ctx.proxy, fault: fault.id, err }, 'tcp fault failed to open');
      link.release();
      return { admitted: true, stage: undefined };
    }
  }

  private forget(fault: ActiveFault, decision: Decision): void {
    this.decisions.delete(fault);
    decision.stage?.link.release();
    if (decision.admitted) fault.release();
  }

  /** Marks the connection closing (first outcome wins); false when it already was. */
  private beginClose(outcome: Outcome): boolean {
    if (this.closing) return false;
    this.closing = true;
    this.outcome ??= outcome;
    this.client.pause();
    this.upstream.pause();
    this.up.abort();
    this.down.abort();
    for (const [fault, decision] of this.decisions) this.forget(fault, decision);
    return true;
  }

  private readonly onClientError = (err: NodeJS.ErrnoException): void => {
    if (!this.beginClose('client_abort')) return;
    this.ctx.log.info({ proxy: this.ctx.proxy, code: err.code }, 'tcp client connection failed');
    // Pass the abort on as the client did: a reset.
    if (this.connected) this.upstream.resetAndDestroy();
    else this.upstream.destroy();
  };

  private readonly onUpstreamError = (err: NodeJS.ErrnoException): void => {
    const outcome: Outcome = this.connected && err.code === 'ECONNRESET' ? 'reset' : 'upstream_error';
    if (!this.beginClose(outcome)) return;
    this.ctx.log.info({ proxy: this.ctx.proxy, code: err.code, outcome }, 'tcp upstream connection failed');
    // Could not reach the dependency: close the client politely. Lost it mid-way: pass a reset on.
    if (this.connected) this.client.resetAndDestroy();
    else this.client.destroySoon();
  };

  private readonly onSocketClose = (): void => {
    if (--this.openSockets > 0) return;
    if (!this.closing) this.beginClose('ok');
    clearTimeout(this.graceTimer);
    const { proxy, metrics } = this.ctx;
    metrics.connectionClosed(proxy);
    metrics.record({
      proxy,
      faultIds: this.actedOn ?? NO_IDS,
      outcome: this.outcome ?? 'ok',
      latencyMs: performance.now() - this.openedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
    });
    this.ctx.onClosed(this);
  };
}
