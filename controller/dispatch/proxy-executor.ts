import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import type { ProxyFaultSpecInput, ProxyFaultView } from '../../protocol/proxy.ts';
import { AdminClient } from './admin-client.ts';
import {
  type ExecutorEvents,
  type FaultExecutor,
  type FaultHandle,
  type FaultRequest,
  type ProxyUndoRecipe,
  type RevertAllResult,
  revertEach,
  revertWithRetry,
} from './fault-executor.ts';

/** Options for {@link ProxyExecutor}. */
export interface ProxyExecutorOptions {
  /** Proxy admin base URL, e.g. `http://127.0.0.1:8474`. */
  adminUrl: string;
  /** Lease in ms each fault is applied with (the proxy refuses 0); renewed every lease/3. Default 5000. */
  leaseMs?: number;
  /** How long a revert keeps retrying an unreachable admin API, ms. Default 5000 (the lease ends it anyway). */
  revertRetryMs?: number;
  events?: ExecutorEvents;
}

interface Entry {
  handle: FaultHandle;
  timer: NodeJS.Timeout | null;
  /** Set once a revert started, so a renewal failing meanwhile is not reported as a loss. */
  reverting: boolean;
}

/** A fault on a proxy: its undo is the admin API's DELETE. */
export type ProxyFaultHandle = FaultHandle & { undo: ProxyUndoRecipe };

/** The proxy a request names; the executor router sends only proxy targets here. */
function proxyOf(request: FaultRequest): string {
  if (request.target.kind !== 'proxy') {
    throw new FaultlineError('INTERNAL', `fault ${request.id} targets an agent, not a proxy`, {
      faultId: request.id,
    });
  }
  return request.target.proxy;
}

/** Applies faults to a Faultline proxy through its admin API, each with a lease it keeps renewing. */
export class ProxyExecutor implements FaultExecutor {
  private readonly client: AdminClient;
  private readonly leaseMs: number;
  private readonly revertRetryMs: number;
  private readonly events: ExecutorEvents;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: ProxyExecutorOptions) {
    this.client = new AdminClient({ baseUrl: opts.adminUrl });
    this.leaseMs = opts.leaseMs ?? 5_000;
    this.revertRetryMs = opts.revertRetryMs ?? 5_000;
    this.events = opts.events ?? {};
  }

  undoFor(request: FaultRequest): ProxyUndoRecipe {
    return {
      kind: 'proxy-fault',
      adminUrl: this.client.baseUrl,
      proxy: proxyOf(request),
      faultId: request.id,
      http: { method: 'DELETE', url: this.client.url(`/faultline/faults/${encodeURIComponent(request.id)}`) },
    };
  }

  async apply(request: FaultRequest): Promise<ProxyFaultHandle> {
    const proxy = proxyOf(request);
    const spec: ProxyFaultSpecInput = {
      id: request.id,
      type: request.type,
      direction: request.direction,
      params: request.params,
      percent: request.percent,
      leaseMs: this.leaseMs,
      ...(request.match ? { match: request.match } : {}),
      ...(request.cohort ? { cohort: request.cohort } : {}),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.maxConcurrent === undefined ? {} : { maxConcurrent: request.maxConcurrent }),
    };
    try {
      await this.client.send<ProxyFaultView>(
        'POST',
        `/faultline/proxies/${encodeURIComponent(proxy)}/faults`,
        spec,
      );
    } catch (err) {
      const code =
        isFaultlineError(err) && err.code !== 'UPSTREAM_UNAVAILABLE' ? err.code : 'FAULT_APPLY_FAILED';
      throw new FaultlineError(
        code,
        `applying ${request.type} to proxy ${proxy} failed: ${(err as Error).message}`,
        {
          faultId: request.id,
          ...(isFaultlineError(err) ? err.details : {}),
        },
        { cause: err },
      );
    }
    const handle: ProxyFaultHandle = {
      id: request.id,
      request,
      undo: this.undoFor(request),
      appliedAt: Date.now(),
      leaseMs: this.leaseMs,
    };
    const previous = this.entries.get(request.id);
    if (previous?.timer) clearInterval(previous.timer);
    this.entries.set(request.id, { handle, timer: this.startRenewing(handle), reverting: false });
    return handle;
  }

  async update(
    handle: FaultHandle,
    changes: Partial<Pick<FaultRequest, 'percent'>>,
  ): Promise<ProxyFaultHandle> {
    return this.apply({ ...handle.request, ...changes });
  }

  async renew(handle: FaultHandle): Promise<void> {
    const view = await this.client.send<ProxyFaultView>(
      'POST',
      `/faultline/faults/${encodeURIComponent(handle.id)}/renew`,
      {
        leaseMs: handle.leaseMs,
      },
    );
    this.events.renewed?.(handle, view.body?.expiresAt ?? null);
  }

  async revert(handle: FaultHandle): Promise<{ wasActive: boolean }> {
    this.stopRenewing(handle.id);
    const entry = this.entries.get(handle.id);
    if (entry) entry.reverting = true;
    const path = `/faultline/faults/${encodeURIComponent(handle.id)}`;
    return revertWithRetry({
      handle,
      retryMs: this.revertRetryMs,
      attempt: async () => {
        // The admin API answers only after the fault left the proxy's data path, so a 200 is
        // the confirmation (a second GET would double the abort latency for no new information).
        const res = await this.client.send<{ reverted: boolean }>('DELETE', path);
        this.entries.delete(handle.id);
        return { wasActive: res.body?.reverted === true };
      },
    });
  }

  revertAll(): Promise<RevertAllResult> {
    return revertEach(this.active(), (h) => this.revert(h));
  }

  active(): FaultHandle[] {
    return [...this.entries.values()].map((e) => e.handle);
  }

  async close(): Promise<void> {
    for (const id of this.entries.keys()) this.stopRenewing(id);
    await this.client.close();
  }

  private startRenewing(handle: FaultHandle): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        this.renew(handle).catch((err: unknown) => {
          const entry = this.entries.get(handle.id);
          if (!entry || entry.reverting || entry.handle !== handle) return;
          if (isFaultlineError(err, 'LEASE_EXPIRED') || isFaultlineError(err, 'NOT_FOUND')) {
            this.stopRenewing(handle.id);
            this.entries.delete(handle.id);
            this.events.lost?.(handle, (err as Error).message);
          }
          // Other errors (admin briefly unreachable): the next tick tries again before the lease ends.
        });
      },
      Math.max(10, Math.floor(handle.leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  private stopRenewing(id: string): void {
    const e = this.entries.get(id);
    if (e?.timer) clearInterval(e.timer);
    if (e) e.timer = null;
  }
}
