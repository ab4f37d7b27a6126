import { z } from 'zod';
import { MAX_LEASE_MS } from './lease.ts';

/**
 * Wire shapes of the fault-injecting proxy's own admin API. The controller and the engine
 * reach the proxy only through these (never through proxy/ internals).
 */

export const ProxyMode = z.enum(['tcp', 'http']);
export type ProxyMode = z.infer<typeof ProxyMode>;

/** `host:port`; IPv6 hosts in brackets, e.g. `[::1]:8080`. */
export const HostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8080');

export const ProxyName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 _ . -');

/** The changeable fields of a proxy, without defaults (a patch must not reset what it omits). */
const proxyFields = {
  /** Address the proxy listens on. Port 0 picks a free port; the admin API reports the real one. */
  listen: HostPort,
  /** Address of the dependency traffic is forwarded to. */
  upstream: HostPort,
  mode: ProxyMode,
  labels: z.record(z.string(), z.string()),
  /** A disabled proxy keeps its config but does not listen (Toxiproxy's `enabled`). */
  enabled: z.boolean(),
  /** Time limits; an omitted one takes its default. */
  timeouts: z.strictObject({
    /**
     * Connecting to the upstream, ms. Default 5000. Past it, a TCP-mode client's connection is
     * closed and an HTTP-mode request, or upgrade (WebSocket), is answered 504 (`UPSTREAM_TIMEOUT`).
     */
    connectMs: z.number().int().positive().max(600_000).optional(),
    /**
     * HTTP mode: waiting for the upstream's response head, ms, from when the proxy forwards the
     * request (a wait for a free upstream connection included). Default 30000; past it, 504.
     */
    headersMs: z.number().int().positive().max(3_600_000).optional(),
    /**
     * HTTP mode: how long an idle client keep-alive connection is kept open, ms. Default 5000
     * (Node's). Raise it above the idle time of the clients' own pools, or a client may reuse a
     * connection just as the proxy closes it.
     */
    clientIdleMs: z.number().int().positive().max(3_600_000).optional(),
  }),
  /**
   * HTTP mode: most connections open to the upstream at once; requests beyond it wait in the proxy
   * for a free one. Default 128 (`DEFAULT_UPSTREAM_CONNECTIONS`). Without a bound a burst opens a
   * connection per request and the connects keep the proxy behind for seconds (see
   * docs/performance-notes.md, "Bounding the upstream pool"); raise it for an upstream that really holds more requests at once.
   */
  upstreamConnections: z.number().int().positive().max(65_536),
};

/**
 * Default `upstreamConnections`. At 11k req/s on the bench machine, 64 and 128 kept every run
 * stable; 256 and 512 let bursts grow the pool and stall the proxy (bench/RESULTS.md).
 */
export const DEFAULT_UPSTREAM_CONNECTIONS = 128;

/** Defaults of `timeouts`, ms. */
export const DEFAULT_TIMEOUTS = { connectMs: 5_000, headersMs: 30_000, clientIdleMs: 5_000 } as const;

export const ProxyConfig = z.strictObject({
  name: ProxyName,
  ...proxyFields,
  mode: proxyFields.mode.default('tcp'),
  labels: proxyFields.labels.default({}),
  enabled: proxyFields.enabled.default(true),
  timeouts: proxyFields.timeouts.default({}),
  upstreamConnections: proxyFields.upstreamConnections.optional(),
});
export type ProxyConfig = z.infer<typeof ProxyConfig>;
export type ProxyConfigInput = z.input<typeof ProxyConfig>;

/** Partial update of a proxy; the name cannot change, and omitted fields keep their value. */
export const ProxyPatch = z.strictObject(proxyFields).partial();
export type ProxyPatch = z.infer<typeof ProxyPatch>;

export const Direction = z.enum(['upstream', 'downstream']);
export type Direction = z.infer<typeof Direction>;

/** Which requests a fault acts on. Every given field must match (AND). HTTP mode only. */
export const FaultMatch = z.strictObject({
  /** HTTP methods, case-insensitive. */
  methods: z.array(z.string().min(1)).min(1).optional(),
  /** Path glob: `*` matches within one segment, `**` across segments; the query string is ignored. */
  path: z.string().startsWith('/').optional(),
  /** Header name → value glob (`*` wildcard). Names are case-insensitive. */
  headers: z.record(z.string(), z.string()).optional(),
  /** Tenant matching: the request's `header` value must be one of `values`. */
  tenant: z
    .strictObject({ header: z.string().default('x-tenant'), values: z.array(z.string()).min(1) })
    .optional(),
});
export type FaultMatch = z.infer<typeof FaultMatch>;

/**
 * Cohort rule: requests are split into `control` and `treatment`; the fault acts on treatment
 * only and metrics are kept for both. With `header`, the split is a sticky hash of that header's
 * value; without it, each request is assigned at random (seeded).
 */
export const CohortRule = z.strictObject({
  header: z.string().optional(),
  /** Share of requests put in the treatment cohort, 0-100. Default 50. */
  treatmentPercent: z.number().min(0).max(100).default(50),
});
export type CohortRule = z.infer<typeof CohortRule>;

const leaseLimit = `must be at most ${MAX_LEASE_MS} ms (1 hour); renew the lease to keep the fault longer`;

/**
 * A lease, ms; at most MAX_LEASE_MS. 0 = none, which only the proxy itself uses (Toxiproxy toxics,
 * whose clients never renew): the admin API refuses it, since every fault applied there has a lease.
 */
const LeaseMs = z.number().int().nonnegative().max(MAX_LEASE_MS, `leaseMs ${leaseLimit}`);

export const FaultId = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 of A-Z a-z 0-9 _ . : -');

/** A fault as applied to one proxy through the admin API. `params` are checked by the fault type's own schema. */
export const ProxyFaultSpec = z.strictObject({
  /** Chosen by the caller for idempotent apply; generated when absent. */
  id: FaultId.optional(),
  type: z.string().min(1),
  /** `upstream` = client → dependency, `downstream` = dependency → client. Default downstream. */
  direction: Direction.default('downstream'),
  params: z.record(z.string(), z.unknown()).default({}),
  /**
   * Share affected, 0-100. Decided per request in HTTP mode and per connection in TCP mode.
   * Default 100.
   */
  percent: z.number().min(0).max(100).default(100),
  /** HTTP mode only: a TCP proxy sees no requests, so applying it to one is refused. */
  match: FaultMatch.optional(),
  /** HTTP mode only, like `match`. */
  cohort: CohortRule.optional(),
  /** Seed for the sampling decisions, so a run can be reproduced. Random when absent. */
  seed: z.number().int().nonnegative().optional(),
  /** Most requests (HTTP) or connections (TCP) affected at the same time; more pass clean. */
  maxConcurrent: z.number().int().positive().optional(),
  /**
   * Lease in ms: the fault is removed on its own unless renewed in time. Default 15000; at most
   * MAX_LEASE_MS (1 hour). 0 = no lease, for the proxy's own Toxiproxy toxics only: the admin API
   * refuses it.
   */
  leaseMs: LeaseMs.default(15_000),
});
export type ProxyFaultSpec = z.infer<typeof ProxyFaultSpec>;
export type ProxyFaultSpecInput = z.input<typeof ProxyFaultSpec>;

/** What the admin API reports about an active fault. */
export const ProxyFaultView = ProxyFaultSpec.extend({
  id: FaultId,
  proxy: ProxyName,
  appliedAt: z.number(),
  /** Epoch ms when the lease runs out; null when the fault has no lease. */
  expiresAt: z.number().nullable(),
  /** Requests or connections this fault has acted on so far. */
  affected: z.number().int(),
});
export type ProxyFaultView = z.infer<typeof ProxyFaultView>;

/** A renewal; `leaseMs` (1 ms to MAX_LEASE_MS) re-arms with a new lease, else the fault's own is used. */
export const RenewRequest = z.strictObject({ leaseMs: LeaseMs.positive().optional() });

/** Quantiles in ms and error rate (0-1) over a window, for one slice of traffic. */
export const TrafficStats = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  errorRate: z.number(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  meanMs: z.number().nullable(),
});
export type TrafficStats = z.infer<typeof TrafficStats>;

/** The JSON window endpoint's answer: `GET /faultline/proxies/{name}/window?seconds=N`. */
export const WindowReport = z.object({
  proxy: z.string(),
  seconds: z.number(),
  all: TrafficStats,
  faulted: TrafficStats,
  clean: TrafficStats,
  cohorts: z.object({ control: TrafficStats, treatment: TrafficStats }),
  /** Raw latency samples (ms) per cohort, newest last, capped; for rank tests in the engine. */
  samples: z.object({ control: z.array(z.number()), treatment: z.array(z.number()) }).optional(),
});
export type WindowReport = z.infer<typeof WindowReport>;
