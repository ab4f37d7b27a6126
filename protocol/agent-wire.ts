import { z } from 'zod';
import { ERROR_CODES } from './errors.ts';
import { MAX_LEASE_MS } from './lease.ts';

/**
 * Messages between an agent and the controller's hub, one JSON object per WebSocket text frame,
 * told apart by `type`. The agent dials out; the hub never connects to agents.
 */

/** Lease given when the hub does not say, ms. */
export const DEFAULT_LEASE_MS = 5_000;

/** Agent ids: also used in file names (`.faultline/agent-<id>`), so no slashes. */
export const AgentId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -');

/** Fault ids: chosen by the controller, used in file names and argv markers. */
export const FaultId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 of A-Z a-z 0-9 _ . : -');

/**
 * What one fault acts on: `host` (the agent's machine), `pid:N`, `container:NAME_OR_ID`,
 * `containers:k=v,k2=v2` (every container carrying those Docker labels; a fault's `select`
 * params narrow it to a count or percent), `service:NAME`, or `netns:NAME` (a named network
 * namespace, as `ip netns` lists). A sidecar agent is pinned to one target and uses it when the
 * hub sends `host`.
 */
export const AgentTarget = z
  .string()
  .regex(
    /^(host|pid:\d+|container:[^\s]+|containers:[^\s=,]+=[^\s,]*(,[^\s=,]+=[^\s,]*)*|service:[^\s]+|netns:[A-Za-z0-9_.-]+)$/,
    'expected host, pid:N, container:NAME, containers:LABEL=VALUE,..., service:NAME or netns:NAME',
  );
export type AgentTarget = z.infer<typeof AgentTarget>;

/** The kinds of target, the part of an AgentTarget before the first `:`. */
export const AGENT_TARGET_KINDS = ['host', 'pid', 'container', 'containers', 'service', 'netns'] as const;
export type AgentTargetKind = (typeof AGENT_TARGET_KINDS)[number];

/**
 * Whether a fault acting on `kinds` can take `target`. A `service:` target is a Compose service,
 * which the agent resolves to its containers, so faults on containers take it too.
 */
export function actsOn(kinds: readonly AgentTargetKind[], target: AgentTarget): boolean {
  const kind = targetKind(target);
  if (kinds.includes(kind)) return true;
  return kind === 'service' && (kinds.includes('container') || kinds.includes('containers'));
}

/** `pid:42` → `pid`; `host` → `host`. */
export function targetKind(target: AgentTarget): AgentTargetKind {
  const kind = target.split(':', 1)[0];
  return kind as AgentTargetKind;
}

export const AgentMode = z.enum(['host', 'sidecar']);
export type AgentMode = z.infer<typeof AgentMode>;

/** A fault type an agent can apply, with its parameters' JSON Schema. */
export const AdvertisedFault = z.strictObject({
  type: z.string().min(1),
  paramsSchema: z.record(z.string(), z.unknown()),
  /** Target kinds it acts on, so the controller can refuse a mismatch before a run starts. */
  targets: z.array(z.enum(AGENT_TARGET_KINDS)).default(['host']),
});
export type AdvertisedFault = z.infer<typeof AdvertisedFault>;

export const WireError = z.strictObject({
  code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES, ...(keyof typeof ERROR_CODES)[]]),
  message: z.string(),
});
export type WireError = z.infer<typeof WireError>;

const LeaseMs = z.number().int().positive().max(MAX_LEASE_MS);
const RequestId = z.string().min(1).max(128);

// ---- agent → hub ----

export const HelloMessage = z.strictObject({
  type: z.literal('hello'),
  token: z.string(),
  agentId: AgentId,
  labels: z.record(z.string(), z.string()),
  mode: AgentMode,
  target: AgentTarget.optional(),
  faults: z.array(AdvertisedFault),
  /** Faults the agent holds right now (after a reconnect), so the hub can keep renewing them. */
  activeFaults: z.array(FaultId).default([]),
  /** True while the agent is halted (refuses new faults). */
  halted: z.boolean().default(false),
});

export const HeartbeatMessage = z.strictObject({
  type: z.literal('heartbeat'),
  activeFaults: z.number().int().nonnegative(),
  halted: z.boolean(),
});

export const AckMessage = z.strictObject({
  type: z.literal('ack'),
  requestId: RequestId,
  ok: z.boolean(),
  /** What apply did (pids, file paths), JSON; only on a successful apply. */
  receipt: z.unknown().optional(),
  /** For `renew`: epoch ms the lease now ends. */
  expiresAt: z.number().optional(),
  /** For `revert`: false when the fault was already gone. */
  wasActive: z.boolean().optional(),
  error: WireError.optional(),
});

export const ExpiredMessage = z.strictObject({ type: z.literal('expired'), faultId: FaultId });

/** The agent reverted a fault on its own for a reason other than lease expiry (halt, shutdown). */
export const RevertedMessage = z.strictObject({
  type: z.literal('reverted'),
  faultId: FaultId,
  reason: z.string(),
});

export const AgentMessage = z.discriminatedUnion('type', [
  HelloMessage,
  HeartbeatMessage,
  AckMessage,
  ExpiredMessage,
  RevertedMessage,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;
export type AgentMessageInput = z.input<typeof AgentMessage>;

// ---- hub → agent ----

export const WelcomeMessage = z.strictObject({
  type: z.literal('welcome'),
  /** How often the hub expects a heartbeat, ms. */
  heartbeatMs: z.number().int().positive(),
});

export const ApplyMessage = z.strictObject({
  type: z.literal('apply'),
  requestId: RequestId,
  faultId: FaultId,
  /** The fault type (`type` is taken by the message discriminator). */
  faultType: z.string().min(1),
  target: AgentTarget,
  params: z.unknown(),
  leaseMs: LeaseMs,
});

export const RenewMessage = z.strictObject({
  type: z.literal('renew'),
  requestId: RequestId,
  faultId: FaultId,
  leaseMs: LeaseMs,
});

export const RevertMessage = z.strictObject({
  type: z.literal('revert'),
  requestId: RequestId,
  faultId: FaultId,
});

export const HaltMessage = z.strictObject({ type: z.literal('halt'), requestId: RequestId });
export const ResumeMessage = z.strictObject({ type: z.literal('resume'), requestId: RequestId });

export const HubMessage = z.discriminatedUnion('type', [
  WelcomeMessage,
  ApplyMessage,
  RenewMessage,
  RevertMessage,
  HaltMessage,
  ResumeMessage,
]);
export type HubMessage = z.infer<typeof HubMessage>;
export type HubMessageInput = z.input<typeof HubMessage>;

/** Parses one text frame; undefined when it is not JSON or not a valid message. */
export function parseFrame<T>(schema: z.ZodType<T>, data: string): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
