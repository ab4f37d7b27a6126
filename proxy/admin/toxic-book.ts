import { z } from 'zod';
import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import type { ProxyManager } from '../proxy-manager.ts';
import {
  faultToToxic,
  isToxicType,
  normalizeAttributes,
  type Toxic,
  ToxicCreate,
  type ToxicType,
  ToxicUpdate,
  toxicFaultId,
  toxicToFaultSpec,
} from './toxic-mapping.ts';

/** An error answered on the Toxiproxy routes as `{error: message, status}`. */
export function toxiError(status: 400 | 404 | 409, message: string): FaultlineError {
  const code = status === 400 ? 'INVALID_INPUT' : status === 404 ? 'NOT_FOUND' : 'CONFLICT';
  return new FaultlineError(code, message, { toxiproxy: true });
}

/**
 * The toxics of each proxy, kept as faults in the FaultStore (so leases, metrics and the data path
 * are the same as for Faultline's own faults). This remembers each toxic's name and the exact JSON
 * it was given; a fault applied through Faultline's API with a Toxiproxy-like type shows up as a
 * toxic named after its id. Records whose fault is gone (reverted elsewhere) are dropped.
 */
export class ToxicBook {
  private readonly manager: ProxyManager;
  /** Fault id → the toxic it was created as. */
  private readonly records = new Map<string, { proxy: string; toxic: Toxic }>();

  constructor(manager: ProxyManager) {
    this.manager = manager;
    manager.faults.on('change', (proxy) => {
      for (const [id, r] of this.records)
        if (r.proxy === proxy && !manager.faults.get(id)) this.records.delete(id);
    });
  }

  list(proxy: string): Toxic[] {
    const out: Toxic[] = [];
    // Toxics are TCP faults; an HTTP-mode proxy's faults are not shown as toxics.
    if (this.manager.modeOf(proxy) !== 'tcp') return out;
    for (const f of this.manager.faults.forProxy(proxy)) {
      const rec = this.records.get(f.id);
      if (rec && rec.proxy === proxy) {
        out.push(rec.toxic);
        continue;
      }
      const prefix = `${proxy}:`;
      const toxic = faultToToxic(f.view(), f.id.startsWith(prefix) ? f.id.slice(prefix.length) : f.id);
      if (toxic) out.push(toxic);
    }
    return out;
  }

  find(proxy: string, name: string): Toxic | undefined {
    return this.list(proxy).find((t) => t.name === name);
  }

  create(proxy: string, body: unknown): Toxic {
    // Toxics are TCP faults and `list` shows none on an HTTP-mode proxy, so one made there could be
    // neither seen nor removed through this API. A bad toxic is a 400 in Toxiproxy.
    const mode = this.manager.modeOf(proxy);
    if (mode === undefined) throw toxiError(404, 'proxy not found');
    if (mode !== 'tcp')
      throw toxiError(400, `proxy ${proxy} is in ${mode} mode; toxics act only on tcp-mode proxies`);
    const input = parseToxiproxy(ToxicCreate, body);
    const name = input.name || `${input.type}_${input.stream}`;
    if (!isToxicType(input.type)) throw toxiError(400, 'invalid toxic type');
    const id = toxicFaultId(proxy, name);
    if (this.find(proxy, name) || this.manager.faults.get(id)) throw toxiError(409, 'toxic already exists');
    const attributes = normalizeAttributes(input.type, input.attributes);
    if (typeof attributes === 'string') throw toxiError(400, `bad request body: ${attributes}`);
    const toxic = { name, type: input.type, stream: input.stream, toxicity: input.toxicity, attributes };
    return this.apply(proxy, toxic, id);
  }

  update(proxy: string, name: string, body: unknown): Toxic {
    const current = this.find(proxy, name);
    if (!current || !isToxicType(current.type)) throw toxiError(404, 'toxic not found');
    const input = parseToxiproxy(ToxicUpdate, body);
    const attributes = normalizeAttributes(current.type, { ...current.attributes, ...input.attributes });
    if (typeof attributes === 'string') throw toxiError(400, `bad request body: ${attributes}`);
    const toxic = {
      ...current,
      type: current.type,
      toxicity: input.toxicity ?? current.toxicity,
      attributes,
    };
    return this.apply(proxy, toxic, this.idOf(proxy, name));
  }

  remove(proxy: string, name: string): void {
    if (!this.find(proxy, name)) throw toxiError(404, 'toxic not found');
    const id = this.idOf(proxy, name);
    this.manager.faults.revert(id);
    this.records.delete(id);
  }

  private idOf(proxy: string, name: string): string {
    for (const [id, r] of this.records) if (r.proxy === proxy && r.toxic.name === name) return id;
    // Not created through this API: the name is the fault id, with or without the proxy prefix.
    return this.manager.faults.get(`${proxy}:${name}`)?.proxy === proxy ? `${proxy}:${name}` : name;
  }

  private apply(proxy: string, toxic: Toxic & { type: ToxicType }, id: string): Toxic {
    try {
      this.manager.faults.apply(proxy, { ...toxicToFaultSpec(proxy, toxic), id });
    } catch (err) {
      if (isFaultlineError(err, 'UNKNOWN_FAULT_TYPE')) throw toxiError(400, 'invalid toxic type');
      if (isFaultlineError(err, 'INVALID_INPUT')) throw toxiError(400, `bad request body: ${err.message}`);
      throw err;
    }
    this.records.set(id, { proxy, toxic });
    return toxic;
  }
}

/** Zod parse with Toxiproxy's error wording. */
function parseToxiproxy<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw toxiError(400, `bad request body: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
