import { once } from 'node:events';
import { WebSocket } from 'ws';
import {
  type AdvertisedFault,
  type AgentMessageInput,
  HubMessage,
  parseFrame,
} from '../../../protocol/agent-wire.ts';

/**
 * Test support: an agent scripted over a real WebSocket, speaking the wire protocol (controller/
 * may not import agent/). It holds the faults it applied, so a test reads the agent's side.
 * Applies of a type it does not advertise are refused with UNKNOWN_FAULT_TYPE.
 */
export class FakeAgent {
  readonly ws: WebSocket;
  readonly agentId: string;
  readonly labels: Record<string, string>;
  readonly faults: AdvertisedFault[];
  readonly held = new Set<string>();
  /** Every apply received: fault id and the target it was asked to act on. */
  readonly applies: { faultId: string; target: string }[] = [];
  renewals = 0;

  constructor(
    url: string,
    opts: { agentId: string; labels?: Record<string, string>; faults?: AdvertisedFault[] },
  ) {
    this.agentId = opts.agentId;
    this.labels = opts.labels ?? {};
    this.faults = opts.faults ?? [{ type: 'flag', paramsSchema: {}, targets: ['host'] }];
    this.ws = new WebSocket(url);
    this.ws.on('error', () => {});
    this.ws.on('message', (data) => {
      const m = parseFrame(HubMessage, data.toString());
      if (!m || !('requestId' in m)) return;
      const ack = { type: 'ack' as const, requestId: m.requestId };
      if (m.type === 'apply') {
        if (!this.faults.some((f) => f.type === m.faultType)) {
          return this.send({
            ...ack,
            ok: false,
            error: { code: 'UNKNOWN_FAULT_TYPE', message: `unknown fault type ${m.faultType}` },
          });
        }
        this.held.add(m.faultId);
        this.applies.push({ faultId: m.faultId, target: m.target });
        return this.send({ ...ack, ok: true, receipt: { faultId: m.faultId } });
      }
      if (m.type === 'renew') {
        this.renewals++;
        if (!this.held.has(m.faultId))
          return this.send({ ...ack, ok: false, error: { code: 'LEASE_EXPIRED', message: 'gone' } });
        return this.send({ ...ack, ok: true, expiresAt: Date.now() + m.leaseMs });
      }
      if (m.type === 'revert') return this.send({ ...ack, ok: true, wasActive: this.held.delete(m.faultId) });
      this.send({ ...ack, ok: true });
    });
  }

  /** Opens the socket and says hello with token `token`. */
  async hello(token: string): Promise<void> {
    await once(this.ws, 'open');
    this.send({
      type: 'hello',
      token,
      agentId: this.agentId,
      labels: this.labels,
      mode: 'host',
      faults: this.faults,
    });
  }

  /** Reverts everything on its own and says so, as a halted agent does. */
  halt(): void {
    for (const faultId of this.held) this.send({ type: 'reverted', faultId, reason: 'halt' });
    this.held.clear();
  }

  send(m: AgentMessageInput): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(m));
  }
}
