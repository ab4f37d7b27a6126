import { z } from 'zod';
import { FaultId, type ProxyFaultSpecInput, type ProxyFaultView } from '../../protocol/proxy.ts';

/**
 * Toxiproxy toxic ⇄ Faultline TCP fault. Each toxic type maps to the TCP fault of the same name;
 * each attribute maps to one parameter with the unit in its name. Toxiproxy's attributes are Go
 * struct fields whose zero value is 0, so a missing attribute is 0 here too.
 */
export const TOXIC_TYPES = {
  latency: { latency: 'delayMs', jitter: 'jitterMs' },
  bandwidth: { rate: 'rateKbPerSec' },
  slow_close: { delay: 'delayMs' },
  timeout: { timeout: 'timeoutMs' },
  reset_peer: { timeout: 'timeoutMs' },
  slicer: { average_size: 'averageSizeBytes', size_variation: 'sizeVariationBytes', delay: 'delayUs' },
  limit_data: { bytes: 'bytes' },
} as const satisfies Record<string, Record<string, string>>;
export type ToxicType = keyof typeof TOXIC_TYPES;

/** A toxic as Toxiproxy 2.x shows it. */
export const Toxic = z.object({
  name: z.string(),
  type: z.string(),
  stream: z.enum(['upstream', 'downstream']),
  /** Share of connections affected, 0-1. */
  toxicity: z.number(),
  attributes: z.record(z.string(), z.number()),
});
export type Toxic = z.infer<typeof Toxic>;

/** The body of `POST /proxies/{proxy}/toxics`, with Toxiproxy's defaults. Unknown fields are ignored. */
export const ToxicCreate = z.object({
  name: z.string().optional(),
  type: z.string(),
  stream: z
    .string()
    .default('downstream')
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['upstream', 'downstream'])),
  toxicity: z.number().min(0).max(1).default(1),
  attributes: z.record(z.string(), z.unknown()).default({}),
});
export type ToxicCreate = z.input<typeof ToxicCreate>;

/** The body of `POST /proxies/{proxy}/toxics/{toxic}`: new attributes are merged into the old. */
export const ToxicUpdate = z.object({
  toxicity: z.number().min(0).max(1).optional(),
  attributes: z.record(z.string(), z.unknown()).default({}),
});

export function isToxicType(type: string): type is ToxicType {
  return Object.hasOwn(TOXIC_TYPES, type);
}

/**
 * Fault id for a toxic: `${proxy}:${toxicName}` when that is a valid fault id, otherwise a stable
 * hash of the name, since Toxiproxy allows names fault ids do not (spaces, slashes).
 */
export function toxicFaultId(proxy: string, toxicName: string): string {
  const plain = `${proxy}:${toxicName}`;
  if (FaultId.safeParse(plain).success) return plain;
  let h = 0x811c9dc5;
  for (let i = 0; i < toxicName.length; i++) h = Math.imul(h ^ toxicName.charCodeAt(i), 0x01000193) >>> 0;
  return `${proxy.slice(0, 100)}:toxic-${h.toString(16)}`;
}

/**
 * Keeps the attributes Toxiproxy knows for the type (others are ignored, as Toxiproxy does) and
 * fills missing ones with 0. A non-numeric attribute is an error, returned as a message.
 */
export function normalizeAttributes(
  type: ToxicType,
  attributes: Record<string, unknown>,
): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const key of Object.keys(TOXIC_TYPES[type])) {
    const v = attributes[key] ?? 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) return `attribute ${key} must be a number`;
    out[key] = v;
  }
  return out;
}

/** The Faultline fault spec for a toxic. Toxics have no lease: Toxiproxy clients never renew. */
export function toxicToFaultSpec(proxy: string, toxic: Toxic & { type: ToxicType }): ProxyFaultSpecInput {
  const common = {
    id: toxicFaultId(proxy, toxic.name),
    direction: toxic.stream,
    percent: toxic.toxicity * 100,
    leaseMs: 0,
  };
  // Toxiproxy's bandwidth toxic with rate 0 (or missing) lets no byte through until it is removed,
  // then sends what it held: its loop `for len(p.Data) > t.Rate*100` never ends at rate 0
  // (toxics/bandwidth.go). Clients rely on it to cut a connection (Testcontainers' setConnectionCut
  // adds rate 0 both ways). Faultline's bandwidth needs a positive rate; `timeout` with timeoutMs 0
  // does exactly this. The toxic still lists as bandwidth: ToxicBook keeps the JSON it was given.
  if (toxic.type === 'bandwidth' && toxic.attributes.rate === 0) {
    return { ...common, type: 'timeout', params: { timeoutMs: 0 } };
  }
  const mapping: Record<string, string> = TOXIC_TYPES[toxic.type];
  const params: Record<string, number> = {};
  for (const [attr, value] of Object.entries(toxic.attributes)) {
    const param = mapping[attr];
    if (param !== undefined) params[param] = value;
  }
  return { ...common, type: toxic.type, params };
}

/** The toxic a TCP fault looks like, or undefined when its type has no Toxiproxy equivalent. */
export function faultToToxic(fault: ProxyFaultView, name: string): Toxic | undefined {
  if (!isToxicType(fault.type)) return undefined;
  const attributes: Record<string, number> = {};
  for (const [attr, param] of Object.entries(TOXIC_TYPES[fault.type])) {
    const v = fault.params[param];
    attributes[attr] = typeof v === 'number' ? v : 0;
  }
  return { name, type: fault.type, stream: fault.direction, toxicity: fault.percent / 100, attributes };
}
