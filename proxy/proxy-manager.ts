import { z } from 'zod';
import { FaultlineError } from '../protocol/errors.ts';
import { ProxyConfig, type ProxyConfigInput, type ProxyMode, ProxyPatch } from '../protocol/proxy.ts';
import { FaultStore } from './fault-store.ts';
import { HttpProxyListener } from './http/http-listener.ts';
import { type Logger, type ProxyListener, silentLogger, type UpstreamPoolStats } from './listener.ts';
import { type MetricsSink, nullMetrics } from './metrics/metrics-sink.ts';
import { TcpProxyListener } from './tcp/tcp-listener.ts';

export interface ProxyView extends ProxyConfig {
  /** Bound address (port 0 resolved); null while disabled. */
  boundAddress: string | null;
  connections: number;
  /** HTTP mode, while listening: connections open to the upstream and requests waiting for one. */
  upstreamPool?: UpstreamPoolStats;
}

export interface ProxyManagerOptions {
  metrics?: MetricsSink;
  log?: Logger;
}

/** A proxy as the manager holds it: a listener, or the config of a disabled one. */
type ProxyEntry = ProxyListener | { config: ProxyConfig; disabled: true };

function invalid(what: string, error: z.ZodError): FaultlineError {
  return new FaultlineError('INVALID_INPUT', `invalid ${what}: ${z.prettifyError(error)}`, {
    issues: error.issues,
  });
}

/**
 * The named proxies of one process and the faults on them. Adding, changing or removing one
 * proxy never touches another's listener or connections.
 */
export class ProxyManager {
  readonly faults: FaultStore;
  readonly metrics: MetricsSink;
  private readonly log: Logger;
  private readonly proxies = new Map<string, ProxyEntry>();

  constructor(opts: ProxyManagerOptions = {}) {
    this.metrics = opts.metrics ?? nullMetrics;
    this.log = opts.log ?? silentLogger;
    this.faults = new FaultStore((name) => this.proxies.get(name)?.config.mode);
  }

  has(name: string): boolean {
    return this.proxies.has(name);
  }

  get(name: string): ProxyView {
    const p = this.proxies.get(name);
    if (!p) throw new FaultlineError('NOT_FOUND', `proxy ${name} does not exist`, { proxy: name });
    return this.view(p);
  }

  list(): ProxyView[] {
    return [...this.proxies.values()].map((p) => this.view(p));
  }

  async add(input: ProxyConfigInput): Promise<ProxyView> {
    const parsed = ProxyConfig.safeParse(input);
    if (!parsed.success) throw invalid('proxy', parsed.error);
    const config = parsed.data;
    if (this.proxies.has(config.name)) {
      throw new FaultlineError('CONFLICT', `proxy ${config.name} already exists`, { proxy: config.name });
    }
    const entry = config.enabled ? this.createListener(config) : { config, disabled: true as const };
    // Reserve the name before the await so two concurrent adds cannot both pass the check.
    this.proxies.set(config.name, entry);
    if ('start' in entry) {
      try {
        await startListener(entry);
      } catch (err) {
        this.proxies.delete(config.name);
        throw err;
      }
    }
    this.log.info(
      { proxy: config.name, listen: config.listen, upstream: config.upstream, mode: config.mode },
      'proxy added',
    );
    return this.view(entry);
  }

  async update(name: string, patchInput: unknown): Promise<ProxyView> {
    const current = this.proxies.get(name);
    if (!current) throw new FaultlineError('NOT_FOUND', `proxy ${name} does not exist`, { proxy: name });
    const patch = ProxyPatch.safeParse(patchInput);
    if (!patch.success) throw invalid('proxy update', patch.error);
    const next = ProxyConfig.parse({ ...current.config, ...patch.data, name });
    const modeChanged = next.mode !== current.config.mode;
    if ('start' in current && next.enabled && !modeChanged) {
      await current.update(next);
      return this.view(current);
    }
    // Enabling, disabling or switching mode needs a new listener; other proxies are untouched.
    if (modeChanged) this.faults.reset(name);
    if ('start' in current) await current.stop({ drainMs: 0 });
    const entry = next.enabled ? this.createListener(next) : { config: next, disabled: true as const };
    this.proxies.set(name, entry);
    if ('start' in entry) {
      try {
        await startListener(entry);
      } catch (err) {
        await this.restore(current);
        throw err;
      }
    }
    return this.view(entry);
  }

  /**
   * After a failed update, puts the proxy back as it was: a new listener on its old config (faults a
   * mode change reverted stay reverted). Should even that fail to listen, it is left disabled, so
   * its view does not claim a listener it lacks.
   */
  private async restore(previous: ProxyEntry): Promise<void> {
    const name = previous.config.name;
    if (!('start' in previous)) {
      this.proxies.set(name, previous);
      return;
    }
    const again = this.createListener(previous.config);
    this.proxies.set(name, again);
    try {
      await startListener(again);
    } catch (err) {
      this.proxies.set(name, { config: { ...previous.config, enabled: false }, disabled: true });
      this.log.error({ proxy: name, err }, 'proxy could not listen again after a failed update; disabled');
    }
  }

  /** Removes a proxy, reverting its faults first. */
  async remove(name: string): Promise<void> {
    const p = this.proxies.get(name);
    if (!p) throw new FaultlineError('NOT_FOUND', `proxy ${name} does not exist`, { proxy: name });
    this.faults.reset(name);
    this.proxies.delete(name);
    if ('stop' in p) await p.stop({ drainMs: 0 });
  }

  /** Stops every listener, draining for up to `drainMs`, and clears every fault. */
  async close(drainMs = 5_000): Promise<void> {
    this.faults.reset();
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map((p) => ('stop' in p ? p.stop({ drainMs }) : undefined)));
  }

  modeOf(name: string): ProxyMode | undefined {
    return this.proxies.get(name)?.config.mode;
  }

  private createListener(config: ProxyConfig): ProxyListener {
    const ctx = { config, faults: this.faults, metrics: this.metrics, log: this.log };
    return config.mode === 'tcp' ? new TcpProxyListener(ctx) : new HttpProxyListener(ctx);
  }

  private view(p: ProxyListener | { config: ProxyConfig; disabled: true }): ProxyView {
    const live = 'start' in p;
    return {
      ...p.config,
      boundAddress: live ? (p.boundAddress ?? null) : null,
      connections: live ? p.connections : 0,
      ...(live && p.upstreamPool ? { upstreamPool: p.upstreamPool } : {}),
    };
  }
}

/** Starts a listener; a failure to listen is CONFLICT, for an add and an update alike. */
async function startListener(listener: ProxyListener): Promise<void> {
  const { name, listen } = listener.config;
  try {
    await listener.start();
  } catch (err) {
    throw new FaultlineError(
      'CONFLICT',
      `proxy ${name} cannot listen on ${listen}: ${(err as Error).message}`,
      {
        proxy: name,
        listen,
      },
    );
  }
}
