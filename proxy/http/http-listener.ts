import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Pool } from 'undici';
import { FaultlineError } from '../../protocol/errors.ts';
import { formatHostPort, parseHostPort } from '../../protocol/host-port.ts';
import { DEFAULT_TIMEOUTS, DEFAULT_UPSTREAM_CONNECTIONS, type ProxyConfig } from '../../protocol/proxy.ts';
import type { ActiveFault } from '../active-fault.ts';
import type { ListenerContext, Logger, ProxyListener, UpstreamPoolStats } from '../listener.ts';
import type { MetricsSink } from '../metrics/metrics-sink.ts';
import { type ExchangeHost, HttpExchange, ProxyResponse } from './http-exchange.ts';
import type { HttpFault } from './http-fault.ts';
import { tunnelUpgrade } from './upgrade-tunnel.ts';

/** Tuning of the HTTP data path; every field is optional. */
export interface HttpListenerOptions {
  /**
   * How long to wait for the upstream's response head before answering 504, ms, when the proxy's
   * config sets no `timeouts.headersMs`. Default 30000.
   */
  headersTimeoutMs?: number;
  /** Longest silence between two upstream body chunks before the response is cut, ms. Default 300000. */
  bodyTimeoutMs?: number;
  /** How long an idle upstream keep-alive socket is kept, ms. Default 4000 (below node's 5 s server default). */
  upstreamKeepAliveMs?: number;
}

const CLIENT_ERROR_BODY = JSON.stringify(
  new FaultlineError('INVALID_INPUT', 'malformed HTTP request', { proxy: 'faultline' }).toBody(),
);
const CLIENT_ERROR_RESPONSE =
  'HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\n' +
  `content-length: ${Buffer.byteLength(CLIENT_ERROR_BODY)}\r\n\r\n${CLIENT_ERROR_BODY}`;

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Answer what can still be answered, then close; never let a bad client reach an 'error' event.
  if (err.code !== 'ECONNRESET' && socket.writable && !(socket as Socket).writableEnded) {
    socket.end(CLIENT_ERROR_RESPONSE);
    (socket as Socket).destroySoon?.();
  } else socket.destroy();
}

/**
 * HTTP-mode proxy: a node:http server that forwards every request to one upstream through a
 * keep-alive undici Pool, with the proxy's HTTP faults on the way (see HttpExchange).
 */
export class HttpProxyListener implements ProxyListener, ExchangeHost {
  config: ProxyConfig;
  readonly metrics: MetricsSink;
  readonly log: Logger;
  private readonly held = new Set<HttpExchange>();
  readonly bodyTimeoutMs: number;
  private readonly ctx: ListenerContext;
  private readonly opts: HttpListenerOptions;
  private server: Server | undefined;
  private pool: Pool;
  private readonly retiredPools = new Set<Pool>();
  private readonly sockets = new Set<Duplex>();
  private inFlight = 0;
  private onDrained: (() => void) | undefined;

  constructor(ctx: ListenerContext, opts: HttpListenerOptions = {}) {
    this.ctx = ctx;
    this.opts = opts;
    this.config = ctx.config;
    this.metrics = ctx.metrics;
    this.log = ctx.log;
    this.bodyTimeoutMs = opts.bodyTimeoutMs ?? 300_000;
    this.pool = this.createPool();
  }

  get proxy(): string {
    return this.config.name;
  }

  /** Read per request, so a changed `timeouts.headersMs` applies from the next request. */
  get headersTimeoutMs(): number {
    return this.config.timeouts.headersMs ?? this.opts.headersTimeoutMs ?? DEFAULT_TIMEOUTS.headersMs;
  }

  /** How long an idle client keep-alive connection stays open, ms (`timeouts.clientIdleMs`). */
  private get clientIdleMs(): number {
    return this.config.timeouts.clientIdleMs ?? DEFAULT_TIMEOUTS.clientIdleMs;
  }

  get upstream(): string {
    return this.config.upstream;
  }

  get dispatcher(): Pool {
    return this.pool;
  }

  get boundAddress(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? formatHostPort(a.address, a.port) : undefined;
  }

  get connections(): number {
    return this.sockets.size;
  }

  get upstreamPool(): UpstreamPoolStats {
    const { connected, queued } = this.pool.stats;
    return { connected, queued };
  }

  async start(): Promise<void> {
    this.server = await this.listen(this.config.listen);
  }

  async update(config: ProxyConfig): Promise<void> {
    // Bind first: it is the one step that can fail, and a failed update must change nothing.
    if (config.listen !== this.config.listen && this.server) await this.rebind(config);
    const previous = this.config;
    this.config = config;
    if (
      config.upstream !== previous.upstream ||
      config.timeouts.connectMs !== previous.timeouts.connectMs ||
      config.upstreamConnections !== previous.upstreamConnections
    ) {
      // New requests go to the new pool; the old one finishes what it has, then closes.
      const old = this.pool;
      this.pool = this.createPool();
      this.retiredPools.add(old);
      old
        .close()
        .catch(() => undefined)
        .finally(() => this.retiredPools.delete(old));
    }
    // Node reads it each time a connection goes idle, so open connections get the new value too.
    if (this.server) this.server.keepAliveTimeout = this.clientIdleMs;
  }

  async stop(opts: { drainMs?: number } = {}): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.close();
    server.closeIdleConnections();
    // A held exchange (timeout fault) never finishes on its own.
    for (const ex of [...this.held]) ex.closeHeld();
    const drainMs = opts.drainMs ?? 5_000;
    if (this.inFlight > 0 && drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.onDrained = resolve;
        timer = setTimeout(resolve, drainMs);
      });
      clearTimeout(timer);
      this.onDrained = undefined;
    }
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await Promise.all([this.pool, ...this.retiredPools].map((p) => p.destroy().catch(() => undefined)));
  }

  /** Listens for fault changes only while something is held, so idle proxies add no listener. */
  holdStarted(ex: HttpExchange): void {
    if (this.held.size === 0) this.ctx.faults.on('change', this.onFaultsChange);
    this.held.add(ex);
    // A downstream hold begins when the answer arrives, which can be after its fault was reverted
    // (an exchange keeps the faults that admitted it); no change event would come to end it then.
    const faultId = ex.holdFaultId;
    if (!this.ctx.faults.forProxy(this.config.name).some((f) => f.id === faultId)) {
      queueMicrotask(() => ex.closeHeld());
    }
  }

  holdEnded(ex: HttpExchange): void {
    if (this.held.delete(ex) && this.held.size === 0) this.ctx.faults.off('change', this.onFaultsChange);
  }

  exchangeEnded(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.onDrained?.();
  }

  private createPool(): Pool {
    const { host, port } = parseHostPort(this.config.upstream);
    return new Pool(`http://${formatHostPort(host, port)}`, {
      pipelining: 1,
      connections: this.config.upstreamConnections ?? DEFAULT_UPSTREAM_CONNECTIONS,
      keepAliveTimeout: this.opts.upstreamKeepAliveMs ?? 4_000,
      // Each exchange times the response head itself, to the ms (HttpExchange's headersTimer).
      headersTimeout: 0,
      bodyTimeout: this.bodyTimeoutMs,
      connect: { timeout: this.config.timeouts.connectMs ?? DEFAULT_TIMEOUTS.connectMs },
    });
  }

  /**
   * Listens on `config.listen`, then retires the old server. On failure the old server keeps
   * listening and the error is CONFLICT, as for a TCP proxy.
   */
  private async rebind(config: ProxyConfig): Promise<void> {
    let next: Server;
    try {
      next = await this.listen(config.listen);
    } catch (err) {
      throw new FaultlineError(
        'CONFLICT',
        `proxy ${config.name} cannot listen on ${config.listen}: ${(err as Error).message}`,
        { proxy: config.name, listen: config.listen },
      );
    }
    const old = this.server;
    if (!old) {
      // Stopped while binding: the new server must not outlive the listener.
      next.close();
      return;
    }
    // Connections already accepted by the old server keep running, idle keep-alive ones included
    // (until the client or keepAliveTimeout ends them), as in TCP mode. http.Server#close would
    // also close the idle ones; net.Server's only stops accepting. Once the last connection is
    // gone, http's close clears the server's connection-checking timer.
    NetServer.prototype.close.call(old, () => old.close());
    this.server = next;
  }

  private listen(address: string): Promise<Server> {
    const server = createServer({
      ServerResponse: ProxyResponse as unknown as typeof ServerResponse,
      keepAliveTimeout: this.clientIdleMs,
    });
    server.on('request', this.onRequest);
    server.on('upgrade', this.onUpgrade);
    server.on('connection', this.onConnection);
    server.on('clientError', onClientError);
    const { host, port } = parseHostPort(address);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ proxy: this.proxy, err }, 'http listener error'));
        resolve(server);
      });
    });
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlight++;
    const faults = this.ctx.faults.forProxy(this.config.name) as readonly ActiveFault<HttpFault>[];
    new HttpExchange(this, req, res as ProxyResponse).start(faults);
  };

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const connectMs = this.config.timeouts.connectMs ?? DEFAULT_TIMEOUTS.connectMs;
    tunnelUpgrade(req, socket, head, parseHostPort(this.config.upstream), connectMs);
  };

  private readonly onConnection = (socket: Socket): void => {
    this.sockets.add(socket);
    this.metrics.connectionOpened(this.proxy);
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.metrics.connectionClosed(this.proxy);
    });
  };

  /** A held exchange ends when the fault holding it is removed. */
  private readonly onFaultsChange = (proxy: string): void => {
    if (proxy !== this.config.name || this.held.size === 0) return;
    const active = this.ctx.faults.forProxy(proxy);
    for (const ex of [...this.held]) if (!active.some((f) => f.id === ex.holdFaultId)) ex.closeHeld();
  };
}
