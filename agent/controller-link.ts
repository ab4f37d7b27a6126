import { WebSocket } from 'ws';
import {
  type AgentMessageInput,
  type HubMessage,
  HubMessage as HubMessageSchema,
  parseFrame,
} from '../protocol/agent-wire.ts';

/** Options of {@link ControllerLink}. */
export interface ControllerLinkOptions {
  /** `ws://HOST:PORT` of the controller's agent hub. */
  url: string;
  /** Builds the hello sent on every (re)connect, so it carries the current active faults. */
  hello: () => AgentMessageInput;
  /** Builds each heartbeat. */
  heartbeat: () => AgentMessageInput;
  onMessage: (message: HubMessage) => void;
  /** First reconnect delay, ms; doubles up to `maxBackoffMs`. Default 100. */
  minBackoffMs?: number;
  /** Longest reconnect delay, ms. Default 5000. */
  maxBackoffMs?: number;
  onStatus?: (connected: boolean, detail: string) => void;
}

/**
 * The agent's outbound WebSocket to the hub: dials, says hello, heartbeats at the interval the hub
 * asks in `welcome`, and redials with exponential backoff (with jitter) whenever the socket drops.
 */
export class ControllerLink {
  private readonly opts: ControllerLinkOptions;
  private ws: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private closed = false;
  private welcomed = false;

  constructor(opts: ControllerLinkOptions) {
    this.opts = opts;
    this.backoffMs = opts.minBackoffMs ?? 100;
    this.dial();
  }

  /** True between `welcome` and the socket closing. */
  get connected(): boolean {
    return this.welcomed && this.ws?.readyState === WebSocket.OPEN;
  }

  send(message: AgentMessageInput): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  private dial(): void {
    const ws = new WebSocket(this.opts.url, { handshakeTimeout: 5_000 });
    this.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify(this.opts.hello())));
    ws.on('message', (data) => {
      const message = parseFrame(HubMessageSchema, data.toString());
      if (!message) return;
      if (message.type === 'welcome') {
        this.welcomed = true;
        this.backoffMs = this.opts.minBackoffMs ?? 100;
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.send(this.opts.heartbeat()), message.heartbeatMs);
        this.opts.onStatus?.(true, 'welcomed');
        return;
      }
      this.opts.onMessage(message);
    });
    ws.on('error', () => {}); // 'close' follows and schedules the redial
    ws.on('close', (code, reason) => {
      const wasConnected = this.welcomed;
      this.welcomed = false;
      clearInterval(this.heartbeat);
      if (wasConnected || code !== 1006) this.opts.onStatus?.(false, `closed ${code} ${reason.toString()}`);
      if (this.closed) return;
      const delay = this.backoffMs * (0.5 + Math.random() / 2);
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs ?? 5_000);
      this.retry = setTimeout(() => this.dial(), delay);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      ws.once('close', () => resolve());
      ws.close(1000, 'agent closing');
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1_000).unref();
    });
  }
}
