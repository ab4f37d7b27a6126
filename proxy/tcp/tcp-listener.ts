import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { FaultlineError } from '../../protocol/errors.ts';
import { formatHostPort, parseHostPort } from '../../protocol/host-port.ts';
import { DEFAULT_TIMEOUTS, type ProxyConfig } from '../../protocol/proxy.ts';
import type { ActiveFault } from '../active-fault.ts';
import type { ListenerContext, ProxyListener } from '../listener.ts';
import { acceptWithReader } from './accept-with-reader.ts';
import type { ChunkReader } from './chunk-reader.ts';
import { TcpConnection } from './tcp-connection.ts';
import type { TcpFault } from './tcp-fault.ts';

/** Pause before trying again to listen after a refuse fault ended but the port was taken, ms. */
const RELISTEN_RETRY_MS = 500;
const DONE: Promise<void> = Promise.resolve();
/** Half-open so each direction ends on its own; no Nagle delay on what the proxy writes. */
const SERVER_OPTIONS = { allowHalfOpen: true, noDelay: true } as const;

function refuses(faults: readonly ActiveFault[]): boolean {
  return faults.some((f) => (f.behavior as TcpFault).scope === 'listener');
}

/**
 * A TCP-mode proxy: a node:net server whose connections each dial the upstream current at accept
 * time. Follows the fault store: chunk faults reach open connections at once; while a `refuse`
 * fault is active the listening socket is closed (open connections stay) and it listens again on
 * the same port when the last one goes.
 */
export class TcpProxyListener implements ProxyListener {
  private readonly ctx: ListenerContext;
  private cfg: ProxyConfig;
  private readonly conns = new Set<TcpConnection>();
  private server: Server | undefined;
  /** The address `server` was asked to bind (then the one it bound). */
  private serverAddress: string | undefined;
  private listening: Promise<void> | undefined;
  /** The address last bound, and the `listen` setting it was bound for (port 0 resolved). */
  private bound: { spec: string; address: string } | undefined;
  private refused = false;
  private stopped = false;
  private subscribed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(ctx: ListenerContext) {
    this.ctx = ctx;
    this.cfg = ctx.config;
  }

  get config(): ProxyConfig {
    return this.cfg;
  }

  get boundAddress(): string | undefined {
    return this.bound?.address;
  }

  get connections(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    const faults = this.ctx.faults;
    if (!this.subscribed) {
      this.subscribed = true;
      // One listener per proxy on the shared store: raise the leak-warning bound accordingly.
      if (faults.getMaxListeners() > 0) faults.setMaxListeners(faults.getMaxListeners() + 1);
      faults.on('change', this.onFaultsChange);
    }
    this.refused = refuses(faults.forProxy(this.cfg.name));
    await this.reconcile();
  }

  async update(config: ProxyConfig): Promise<void> {
    const previous = this.cfg;
    this.cfg = config;
    if (config.listen === previous.listen) return;
    try {
      await this.reconcile();
    } catch (err) {
      this.cfg = previous;
      await this.reconcile().catch((e: unknown) =>
        this.ctx.log.error({ proxy: config.name, err: e }, 'relisten failed'),
      );
      throw new FaultlineError(
        'CONFLICT',
        `proxy ${config.name} cannot listen on ${config.listen}: ${(err as Error).message}`,
        {
          proxy: config.name,
          listen: config.listen,
        },
      );
    }
  }

  async stop(opts: { drainMs?: number } = {}): Promise<void> {
    const drainMs = opts.drainMs ?? 0;
    if (!this.stopped) {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      if (this.subscribed) {
        const faults = this.ctx.faults;
        faults.off('change', this.onFaultsChange);
        if (faults.getMaxListeners() > 1) faults.setMaxListeners(faults.getMaxListeners() - 1);
        this.subscribed = false;
      }
      await this.reconcile().catch(() => {});
    }
    if (this.conns.size > 0 && drainMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        void this.idle().then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const conn of this.conns) conn.destroy();
    await this.idle();
  }

  private readonly onFaultsChange = (proxy: string): void => {
    if (proxy !== this.cfg.name || this.stopped) return;
    const faults = this.ctx.faults.forProxy(proxy);
    const refused = refuses(faults);
    if (refused !== this.refused) {
      this.refused = refused;
      this.reconcile().catch(this.onRelistenError);
    }
    for (const conn of this.conns) conn.syncFaults(faults);
  };

  private readonly onRelistenError = (err: Error): void => {
    this.ctx.log.warn({ proxy: this.cfg.name, err: err.message }, 'tcp proxy cannot listen again; retrying');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.reconcile().catch(this.onRelistenError);
    }, RELISTEN_RETRY_MS);
    this.retryTimer.unref();
  };

  /** Where the server should listen now; undefined = it should not. */
  private wantedAddress(): string | undefined {
    if (this.stopped || this.refused) return undefined;
    const spec = this.cfg.listen;
    // Listening again after a refuse keeps the port that `:0` resolved to.
    return this.bound?.spec === spec ? this.bound.address : spec;
  }

  /**
   * Brings the listening socket in line with the wanted address. Closing is synchronous, so a
   * refuse fault takes effect before any connect attempted after it was applied.
   */
  private reconcile(): Promise<void> {
    const want = this.wantedAddress();
    if (this.server && this.serverAddress !== want) this.closeServer();
    if (want === undefined) return DONE;
    if (this.server) return this.listening ?? DONE;
    return this.openServer(want);
  }

  private closeServer(): void {
    const server = this.server!;
    this.server = undefined;
    this.serverAddress = undefined;
    this.listening = undefined;
    // close() leaves accepted connections open; they are ours to drain.
    if (server.listening) server.close();
    else server.once('listening', () => server.close());
  }

  private openServer(address: string): Promise<void> {
    const spec = this.cfg.listen;
    const server = net.createServer(SERVER_OPTIONS, this.onConnection);
    this.server = server;
    this.serverAddress = address;
    const listening = new Promise<void>((resolve, reject) => {
      server.once('listening', () => {
        acceptWithReader(server, SERVER_OPTIONS, this.onConnection);
        const a = server.address() as AddressInfo;
        const actual = formatHostPort(a.address, a.port);
        if (this.server === server) {
          this.serverAddress = actual;
          this.bound = { spec, address: actual };
        }
        resolve();
      });
      server.on('error', (err) => {
        // After listening, errors are per accept (EMFILE...): keep listening.
        if (server.listening) {
          this.ctx.log.error({ proxy: this.cfg.name, err: err.message }, 'tcp proxy accept failed');
          return;
        }
        if (this.server === server) {
          this.server = undefined;
          this.serverAddress = undefined;
          this.listening = undefined;
        }
        reject(err);
      });
    });
    // Callers may await it; nobody must have to for a failure not to go unhandled.
    listening.catch(() => {});
    this.listening = listening;
    server.listen(parseHostPort(address));
    return listening;
  }

  private readonly onConnection = (client: Socket, clientReader?: ChunkReader): void => {
    if (this.stopped) {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    const conn = new TcpConnection({
      proxy: this.cfg.name,
      client,
      clientReader,
      upstream: parseHostPort(this.cfg.upstream),
      connectTimeoutMs: this.cfg.timeouts.connectMs ?? DEFAULT_TIMEOUTS.connectMs,
      faults: this.ctx.faults.forProxy(this.cfg.name),
      metrics: this.ctx.metrics,
      log: this.ctx.log,
      onClosed: this.onConnectionClosed,
    });
    this.conns.add(conn);
  };

  private readonly onConnectionClosed = (conn: TcpConnection): void => {
    this.conns.delete(conn);
    if (this.conns.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  };

  private idle(): Promise<void> {
    if (this.conns.size === 0) return DONE;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
