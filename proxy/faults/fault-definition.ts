import type { z } from 'zod';
import type { Direction, ProxyMode } from '../../protocol/proxy.ts';

/** What a fault's `create` gets: a seeded random source so jitter and distributions reproduce. */
export interface FaultCreateContext {
  /** Uniform [0, 1), seeded from the fault's seed. */
  random: () => number;
}

/**
 * One proxy fault type. One file per type exports one of these; `registry.ts` maps names to them.
 * `B` is the behaviour the data path drives: a TcpFault (proxy/tcp/tcp-fault.ts) or an
 * HttpFault (proxy/http/http-fault.ts).
 */
export interface FaultDefinition<P = unknown, B = unknown> {
  /** Name used in the API, e.g. `latency`. Unique per mode. */
  readonly type: string;
  readonly mode: ProxyMode;
  /** One line for docs and `GET /faultline/fault-types`. */
  readonly summary: string;
  /** Strict zod schema of the parameters; units in names (`delayMs`, `rateKbPerSec`). */
  readonly params: z.ZodType<P>;
  /** Directions this fault can act in. */
  readonly directions: readonly Direction[];
  /**
   * Valid parameters that make the fault's effect visible on real traffic within ~1 s. Used by the
   * conformance test (apply → effect → revert → clean) and by docs.
   */
  readonly example: P;
  /** Builds the behaviour for one active fault. Revert is removing it from the data path. */
  create(params: P, ctx: FaultCreateContext): B;
}
