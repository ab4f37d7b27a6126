import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { AdvertisedFault, AgentMessage, AgentMode, HubMessageInput } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';

type Ack = Extract<AgentMessage, { type: 'ack' }>;
type Hello = Extract<AgentMessage, { type: 'hello' }>;
/** A hub→agent message before the connection gives it a request id. */
export type HubRequest = HubMessageInput extends infer M
  ? M extends { requestId: string }
    ? Omit<M, 'requestId'>
    : never
  : never;

/** What the hub knows of one connected agent. */
export interface AgentInfo {
  agentId: string;
  labels: Record<string, string>;
  mode: AgentMode;
  target?: string;
  faults: AdvertisedFault[];
  halted: boolean;
  /** Epoch ms. */
  connectedAt: number;
  /** Epoch ms of the last frame from the agent. */
  lastSeenAt: number;
}

/**
 * One authenticated agent socket: sends requests with fresh ids and resolves them on the matching
 * ack, rejecting on an error ack (with the agent's code), on timeout, or when the socket closes.
 */
export class AgentConnection {
  readonly info: AgentInfo;
  readonly socket: WebSocket;
  private readonly ackTimeoutMs: number;
  private readonly pending = new Map<
    string,
    { resolve: (a: Ack) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  constructor(socket: WebSocket, hello: Hello, ackTimeoutMs: number) {
    this.socket = socket;
    this.ackTimeoutMs = ackTimeoutMs;
    const now = Date.now();
    this.info = {
      agentId: hello.agentId,
      labels: hello.labels,
      mode: hello.mode,
      target: hello.target,
      faults: hello.faults,
      halted: hello.halted,
      connectedAt: now,
      lastSeenAt: now,
    };
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(message: HubMessageInput): void {
    if (this.open) this.socket.send(JSON.stringify(message));
  }

  /** Sends `message` and resolves the agent's successful ack. */
  request(message: HubRequest): Promise<Ack> {
    if (!this.open) {
      return Promise.reject(new FaultlineError('UNREACHABLE', `agent ${this.info.agentId} is not connected`));
    }
    const requestId = randomUUID();
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new FaultlineError(
            'UPSTREAM_TIMEOUT',
            `agent ${this.info.agentId} did not ack ${message.type} within ${this.ackTimeoutMs} ms`,
            {
              agentId: this.info.agentId,
            },
          ),
        );
      }, this.ackTimeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.send({ ...message, requestId } as HubMessageInput);
    });
  }

  /** Settles the request an ack answers. */
  acked(ack: Ack): void {
    const p = this.pending.get(ack.requestId);
    if (!p) return;
    this.pending.delete(ack.requestId);
    clearTimeout(p.timer);
    if (ack.ok) p.resolve(ack);
    else {
      const code = ack.error?.code ?? 'INTERNAL';
      p.reject(
        new FaultlineError(code, ack.error?.message ?? 'agent refused', { agentId: this.info.agentId }),
      );
    }
  }

  /** Rejects every request in flight (the socket closed). */
  failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(
        new FaultlineError('UNREACHABLE', `agent ${this.info.agentId} went away: ${reason}`, {
          agentId: this.info.agentId,
        }),
      );
      this.pending.delete(id);
    }
  }
}
