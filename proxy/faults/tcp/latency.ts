import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpLatencyParams = z.strictObject({
  /** Added to every chunk, ms. */
  delayMs: z.number().nonnegative(),
  /** Up to ± this much at random (uniform) on top of delayMs, ms. Default 0. */
  jitterMs: z.number().nonnegative().default(0),
});
export type TcpLatencyParams = z.infer<typeof TcpLatencyParams>;

export const tcpLatencyFault: FaultDefinition<TcpLatencyParams, TcpFault> = {
  type: 'latency',
  mode: 'tcp',
  summary: 'Delays every chunk by delayMs ± jitterMs, timed from when the proxy read it.',
  params: TcpLatencyParams,
  directions: ['upstream', 'downstream'],
  example: { delayMs: 200, jitterMs: 0 },
  create({ delayMs, jitterMs }, { random }) {
    const session: TcpFaultSession = {
      onChunk(chunk, link) {
        const delay = jitterMs > 0 ? Math.max(0, delayMs + (random() * 2 - 1) * jitterMs) : delayMs;
        // Timed from arrival, so chunks that waited behind earlier ones do not add up their delays
        // (Toxiproxy's pipelining). Already due: forwarded synchronously, no promise.
        return link.forwardAfter(chunk.at + delay - performance.now(), chunk.data);
      },
    };
    return { scope: 'connection', open: () => session };
  },
};
