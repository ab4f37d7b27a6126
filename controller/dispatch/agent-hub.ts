import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { AgentMessage, type AgentTarget, DEFAULT_LEASE_MS, parseFrame } from '../../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import { formatHostPort } from '../../protocol/host-port.ts';
import { AgentConnection, type AgentInfo } from './agent-hub-connection.ts';

export type { AgentInfo } from './agent-hub-connection.ts';

/** Options of {@link AgentHub.start}. */
export interface AgentHubOptions {
  /** Shared secret agents present in `hello`; compared in constant time. */
  token: string;
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one (see `url`). Default 0. */
  port?: number;
  /** Heartbeat interval agents are told to keep, ms; silence for 3× this drops the agent. Default 2000. */
  heartbeatMs?: number;
  /** How long a request waits for its ack, ms. Default 5000. */
  ackTimeoutMs?: number;
  /** Lease of an apply that does not give one, ms. Default 5000. */
  leaseMs?: number;
  /** How long a new socket has to say hello, ms. Default 5000. */
  helloTimeoutMs?: number;
}

/** What the hub asks an agent to apply. */
export interface AgentApply {
  faultId: string;
  faultType: string;
  /** Default `host` (a sidecar agent maps it to its own target). */
  target?: AgentTarget;
  params: unknown;
  /** Lease, ms; renewed every lease/3 while held. Default: the hub's `leaseMs`. */
  leaseMs?: number;
}

/** A fault the hub applied and keeps renewing. */
export interface HeldFault {
  agentId: string;
  faultId: string;
  faultType: string;
  target: AgentTarget;
  params: unknown;
  leaseMs: number;
  receipt: unknown;
  /** Epoch ms. */
  appliedAt: number;
  /** Epoch ms of the last renewal the agent confirmed (or the apply). */
  renewedAt: number;
}

export interface AgentHubEvents {
  'agent-connected': [agent: AgentInfo];
  'agent-lost': [agentId: string, reason: string];
  /** The agent no longer has the fault (lease ran out, agent gone past the lease); no more renewals. */
  'fault-expired': [fault: HeldFault, reason: string];
  /** The agent reverted a fault on its own (halt, shutdown). */
  'fault-reverted': [fault: HeldFault, reason: string];
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The controller's side of the agent protocol: a WebSocket server agents dial into. It checks
 * tokens, keeps the agent list, sends apply / renew / revert / halt / resume and resolves them on
 * acks, and renews the lease of every fault it holds every lease/3.
 */
export class AgentHub extends EventEmitter<AgentHubEvents> {
  private readonly opts: Required<Omit<AgentHubOptions, 'host' | 'port'>>;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, AgentConnection>();
  private readonly heldFaults = new Map<string, { fault: HeldFault; timer: NodeJS.Timeout }>();
  readonly url: string;

  private constructor(wss: WebSocketServer, opts: AgentHubOptions) {
    super();
    this.wss = wss;
    this.opts = {
      token: opts.token,
      heartbeatMs: opts.heartbeatMs ?? 2_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 5_000,
      leaseMs: opts.leaseMs ?? DEFAULT_LEASE_MS,
      helloTimeoutMs: opts.helloTimeoutMs ?? 5_000,
    };
    const { address, port } = wss.address() as AddressInfo;
    this.url = `ws://${formatHostPort(address, port)}`;
    wss.on('connection', (socket) => this.accept(socket));
  }

  static async start(opts: AgentHubOptions): Promise<AgentHub> {
    const wss = new WebSocketServer({
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      maxPayload: 1 << 20,
    });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new AgentHub(wss, opts);
  }

  agents(): AgentInfo[] {
    return [...this.connections.values()].map((c) => ({ ...c.info }));
  }

  held(): HeldFault[] {
    return [...this.heldFaults.values()].map((h) => ({ ...h.fault }));
  }

  private tokenOk(given: string): boolean {
    return timingSafeEqual(digest(given), digest(this.opts.token));
  }

  private accept(socket: WebSocket): void {
    let conn: AgentConnection | undefined;
    const helloTimer = setTimeout(() => socket.close(4000, 'no hello'), this.opts.helloTimeoutMs);
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => socket.terminate(), this.opts.heartbeatMs * 3);
    };
    socket.on('error', () => {});
    socket.on('message', (data) => {
      const message = parseFrame(AgentMessage, data.toString());
      if (!message) return;
      if (!conn) {
        if (message.type !== 'hello') return socket.close(4000, 'hello first');
        clearTimeout(helloTimer);
        if (!this.tokenOk(message.token)) return socket.close(4001, 'unauthorized');
        const previous = this.connections.get(message.agentId);
        if (previous) previous.socket.close(4002, 'replaced by a new connection');
        conn = new AgentConnection(socket, message, this.opts.ackTimeoutMs);
        this.connections.set(message.agentId, conn);
        conn.send({ type: 'welcome', heartbeatMs: this.opts.heartbeatMs });
        arm();
        this.reconcile(message.agentId, new Set(message.activeFaults));
        this.emit('agent-connected', { ...conn.info });
        return;
      }
      conn.info.lastSeenAt = Date.now();
      arm();
      switch (message.type) {
        case 'ack':
          return conn.acked(message);
        case 'heartbeat':
          conn.info.halted = message.halted;
          return;
        case 'expired':
          return this.drop(conn.info.agentId, message.faultId, 'fault-expired', 'lease expired on the agent');
        case 'reverted':
          return this.drop(conn.info.agentId, message.faultId, 'fault-reverted', message.reason);
        case 'hello':
          return;
      }
    });
    socket.on('close', (code, reason) => {
      clearTimeout(helloTimer);
      clearTimeout(watchdog);
      if (!conn) return;
      conn.failAll(`socket closed ${code}`);
      if (this.connections.get(conn.info.agentId) === conn) {
        this.connections.delete(conn.info.agentId);
        this.emit('agent-lost', conn.info.agentId, `socket closed ${code} ${reason.toString()}`.trim());
      }
    });
  }

  /** After a (re)connect: faults the agent no longer holds are dropped as expired. */
  private reconcile(agentId: string, active: ReadonlySet<string>): void {
    for (const { fault } of [...this.heldFaults.values()]) {
      if (fault.agentId === agentId && !active.has(fault.faultId)) {
        this.drop(agentId, fault.faultId, 'fault-expired', 'not held by the agent after reconnect');
      }
    }
  }

  private key(agentId: string, faultId: string): string {
    return `${agentId}\0${faultId}`;
  }

  private drop(
    agentId: string,
    faultId: string,
    event: 'fault-expired' | 'fault-reverted' | null,
    reason: string,
  ): void {
    const held = this.heldFaults.get(this.key(agentId, faultId));
    if (!held) return;
    clearInterval(held.timer);
    this.heldFaults.delete(this.key(agentId, faultId));
    if (event) this.emit(event, { ...held.fault }, reason);
  }

  private connection(agentId: string): AgentConnection {
    const conn = this.connections.get(agentId);
    if (!conn) throw new FaultlineError('UNREACHABLE', `agent ${agentId} is not connected`, { agentId });
    return conn;
  }

  /** Applies a fault on one agent and starts renewing its lease. Idempotent by fault id. */
  async apply(agentId: string, req: AgentApply): Promise<HeldFault> {
    const leaseMs = req.leaseMs ?? this.opts.leaseMs;
    const target = req.target ?? 'host';
    const ack = await this.connection(agentId).request({
      type: 'apply',
      faultId: req.faultId,
      faultType: req.faultType,
      target,
      params: req.params,
      leaseMs,
    });
    const now = Date.now();
    const fault: HeldFault = {
      agentId,
      faultId: req.faultId,
      faultType: req.faultType,
      target,
      params: req.params,
      leaseMs,
      receipt: ack.receipt,
      appliedAt: now,
      renewedAt: now,
    };
    this.drop(agentId, req.faultId, null, 'reapplied');
    const timer = setInterval(
      () => this.renewTick(agentId, req.faultId),
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    this.heldFaults.set(this.key(agentId, req.faultId), { fault, timer });
    return { ...fault };
  }

  private renewTick(agentId: string, faultId: string): void {
    const held = this.heldFaults.get(this.key(agentId, faultId));
    if (!held) return;
    if (!this.connections.get(agentId)?.open) {
      // The agent reverts on its own once the lease passes without a renewal; so do we.
      if (Date.now() - held.fault.renewedAt > held.fault.leaseMs) {
        this.drop(agentId, faultId, 'fault-expired', 'agent unreachable for longer than the lease');
      }
      return;
    }
    this.renew(agentId, faultId).catch(() => {}); // a lost lease is reported through 'fault-expired'
  }

  /** Renews one lease now; resolves the new expiry (epoch ms). Rejects LEASE_EXPIRED when the agent lost it. */
  async renew(agentId: string, faultId: string): Promise<number> {
    const held = this.heldFaults.get(this.key(agentId, faultId));
    if (!held)
      throw new FaultlineError('LEASE_EXPIRED', `fault ${faultId} is not held on ${agentId}`, {
        agentId,
        faultId,
      });
    try {
      const ack = await this.connection(agentId).request({
        type: 'renew',
        faultId,
        leaseMs: held.fault.leaseMs,
      });
      held.fault.renewedAt = Date.now();
      return ack.expiresAt ?? held.fault.renewedAt + held.fault.leaseMs;
    } catch (err) {
      if (isFaultlineError(err, 'LEASE_EXPIRED')) this.drop(agentId, faultId, 'fault-expired', err.message);
      throw err;
    }
  }

  /**
   * Reverts a fault and stops renewing it. Idempotent: `wasActive: false` when the agent no longer
   * had it. Renewals stop even when the revert fails, so the lease ends the fault on the agent (which
   * tries its revert again at every lease expiry).
   */
  async revert(agentId: string, faultId: string): Promise<{ wasActive: boolean }> {
    const held = this.heldFaults.get(this.key(agentId, faultId));
    if (held) clearInterval(held.timer);
    try {
      const ack = await this.connection(agentId).request({ type: 'revert', faultId });
      return { wasActive: ack.wasActive ?? true };
    } finally {
      this.drop(agentId, faultId, null, 'reverted');
    }
  }

  /** Reverts every held fault on every agent, all at once (the engine's unconditional revert). */
  async revertAll(): Promise<{ reverted: HeldFault[]; failed: { fault: HeldFault; error: Error }[] }> {
    const faults = this.held();
    const results = await Promise.allSettled(faults.map((f) => this.revert(f.agentId, f.faultId)));
    const reverted: HeldFault[] = [];
    const failed: { fault: HeldFault; error: Error }[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') reverted.push(faults[i]!);
      else failed.push({ fault: faults[i]!, error: r.reason as Error });
    });
    return { reverted, failed };
  }

  /** Makes an agent revert everything and refuse new faults until `resume`. */
  async halt(agentId: string): Promise<void> {
    await this.connection(agentId).request({ type: 'halt' });
    for (const { fault } of [...this.heldFaults.values()]) {
      if (fault.agentId === agentId) this.drop(agentId, fault.faultId, 'fault-reverted', 'halt');
    }
  }

  async resume(agentId: string): Promise<void> {
    await this.connection(agentId).request({ type: 'resume' });
  }

  /** Stops renewals and closes every socket and the server. Does not revert (leases do that). */
  async close(): Promise<void> {
    for (const { timer } of this.heldFaults.values()) clearInterval(timer);
    this.heldFaults.clear();
    for (const conn of this.connections.values()) {
      conn.failAll('hub closing');
      conn.socket.terminate();
    }
    this.connections.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
