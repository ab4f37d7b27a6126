import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { FaultlineError } from '../protocol/errors.ts';
import {
  ProxyFaultSpec,
  type ProxyFaultSpecInput,
  type ProxyFaultView,
  type ProxyMode,
  RenewRequest,
} from '../protocol/proxy.ts';
import { randomSeed } from '../protocol/seeded-random.ts';
import { ActiveFault } from './active-fault.ts';
import { faultRegistry } from './faults/registry.ts';

const NO_FAULTS: readonly ActiveFault[] = Object.freeze([]);

/** Spec fields that act per HTTP request; a TCP proxy never sees methods, paths or headers. */
const HTTP_ONLY_FIELDS = ['match', 'cohort'] as const;

/**
 * Refuses `match` and `cohort` on a TCP proxy. Accepted, a `match` would be ignored (the fault hits
 * every connection) and a `cohort` would keep the fault from ever acting.
 */
function refuseHttpOnlyFields(proxy: string, spec: ProxyFaultSpec): void {
  const fields = HTTP_ONLY_FIELDS.filter((f) => spec[f] !== undefined);
  if (!fields.length) return;
  const named = fields.map((f) => `\`${f}\``).join(' and ');
  const message = `${named} ${fields.length > 1 ? 'apply' : 'applies'} to HTTP-mode proxies only; proxy ${proxy} is in tcp mode`;
  throw new FaultlineError('INVALID_INPUT', `invalid fault: ${message}`, {
    proxy,
    mode: 'tcp',
    fields,
    issues: fields.map((f) => ({ path: [f], message: `${f} applies to HTTP-mode proxies only` })),
  });
}

export interface FaultStoreEvents {
  /** The set of faults of one proxy changed (applied, reverted, expired). */
  change: [proxy: string];
  expired: [fault: ProxyFaultView];
}

/**
 * Every active fault of the process, by proxy, each with its lease timer.
 * Lookups by the data path (`forProxy`) return a frozen array that is replaced, never mutated,
 * so a request in flight keeps a consistent view while faults come and go.
 */
export class FaultStore extends EventEmitter<FaultStoreEvents> {
  private readonly byProxy = new Map<string, readonly ActiveFault[]>();
  private readonly byId = new Map<string, ActiveFault>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  private readonly modeOf: (proxy: string) => ProxyMode | undefined;

  /** @param modeOf tells the mode of a proxy by name, or undefined when there is no such proxy. */
  constructor(modeOf: (proxy: string) => ProxyMode | undefined) {
    super();
    this.modeOf = modeOf;
  }

  forProxy(proxy: string): readonly ActiveFault[] {
    return this.byProxy.get(proxy) ?? NO_FAULTS;
  }

  get(id: string): ActiveFault | undefined {
    return this.byId.get(id);
  }

  list(proxy?: string): ProxyFaultView[] {
    const faults = proxy === undefined ? [...this.byId.values()] : this.forProxy(proxy);
    return faults.map((f) => f.view());
  }

  /**
   * Validates and activates a fault. Applying an id that is already active on the same proxy
   * replaces it (so a retried apply is harmless).
   */
  apply(proxy: string, input: ProxyFaultSpecInput): ProxyFaultView {
    const mode = this.modeOf(proxy);
    if (!mode) throw new FaultlineError('NOT_FOUND', `proxy ${proxy} does not exist`, { proxy });
    const parsed = ProxyFaultSpec.safeParse(input);
    if (!parsed.success) {
      throw new FaultlineError('INVALID_INPUT', `invalid fault: ${z.prettifyError(parsed.error)}`, {
        issues: parsed.error.issues,
      });
    }
    const spec = parsed.data;
    if (mode === 'tcp') refuseHttpOnlyFields(proxy, spec);
    const definition = faultRegistry[mode].get(spec.type);
    if (!definition) {
      throw new FaultlineError('UNKNOWN_FAULT_TYPE', `no ${mode} fault named ${spec.type}`, {
        type: spec.type,
        mode,
        known: [...faultRegistry[mode].keys()],
      });
    }
    if (!definition.directions.includes(spec.direction)) {
      throw new FaultlineError('INVALID_INPUT', `${spec.type} does not act in direction ${spec.direction}`, {
        allowed: definition.directions,
      });
    }
    const params = definition.params.safeParse(spec.params);
    if (!params.success) {
      throw new FaultlineError(
        'INVALID_INPUT',
        `invalid params for ${spec.type}: ${z.prettifyError(params.error)}`,
        {
          issues: params.error.issues,
        },
      );
    }
    const id = spec.id ?? randomUUID();
    const existing = this.byId.get(id);
    if (existing && existing.proxy !== proxy) {
      throw new FaultlineError('CONFLICT', `fault ${id} is active on proxy ${existing.proxy}`, { id });
    }
    const fault = new ActiveFault({
      proxy,
      spec: { ...spec, id, seed: spec.seed ?? randomSeed() },
      definition,
      params: params.data,
    });
    const others = this.forProxy(proxy).filter((f) => f.id !== id);
    if (existing) this.clearTimer(id);
    this.byId.set(id, fault);
    this.byProxy.set(proxy, Object.freeze([...others, fault]));
    this.arm(fault, spec.leaseMs);
    this.emit('change', proxy);
    return fault.view();
  }

  /**
   * Extends a fault's lease from now.
   * @param leaseMs new lease, ms, 1 to MAX_LEASE_MS (1 hour); default: the fault's own `leaseMs`.
   *   A new lease becomes the fault's own: the view shows it and later renewals without one use it.
   */
  renew(id: string, leaseMs?: number): ProxyFaultView {
    // Checked here too, not only by the admin route: a timer past Node's limit would fire at once.
    const parsed = RenewRequest.safeParse({ leaseMs });
    if (!parsed.success) {
      throw new FaultlineError('INVALID_INPUT', `invalid renewal: ${z.prettifyError(parsed.error)}`, {
        issues: parsed.error.issues,
      });
    }
    const fault = this.byId.get(id);
    if (!fault)
      throw new FaultlineError('LEASE_EXPIRED', `fault ${id} is not active (reverted or expired)`, { id });
    if (parsed.data.leaseMs !== undefined) fault.relet(parsed.data.leaseMs);
    this.arm(fault, fault.spec.leaseMs);
    return fault.view();
  }

  /** Removes a fault. Idempotent: returns false when it was not active. */
  revert(id: string): boolean {
    const fault = this.byId.get(id);
    if (!fault) return false;
    this.clearTimer(id);
    this.byId.delete(id);
    const rest = this.forProxy(fault.proxy).filter((f) => f.id !== id);
    if (rest.length) this.byProxy.set(fault.proxy, Object.freeze(rest));
    else this.byProxy.delete(fault.proxy);
    this.emit('change', fault.proxy);
    return true;
  }

  /** Removes every fault of one proxy, or of all proxies. Returns how many were removed. */
  reset(proxy?: string): number {
    const ids = proxy === undefined ? [...this.byId.keys()] : this.forProxy(proxy).map((f) => f.id);
    for (const id of ids) this.revert(id);
    return ids.length;
  }

  /** @param leaseMs already checked against MAX_LEASE_MS, which keeps it under Node's timer limit. */
  private arm(fault: ActiveFault, leaseMs: number): void {
    this.clearTimer(fault.id);
    if (leaseMs <= 0) {
      fault.expiresAt = null;
      return;
    }
    fault.expiresAt = Date.now() + leaseMs;
    const timer = setTimeout(() => {
      const view = fault.view();
      if (this.revert(fault.id)) this.emit('expired', view);
    }, leaseMs);
    // A lease timer must not keep a process alive that is otherwise done.
    timer.unref();
    this.timers.set(fault.id, timer);
  }

  private clearTimer(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }
}
