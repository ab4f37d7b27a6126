import { z } from 'zod';
import type { TcpFault } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

/** Bytes are let through in pieces of this much time's worth, ms. */
const SLICE_MS = 50;

export const TcpBandwidthParams = z.strictObject({
  /** Most bytes per second in the direction, in KB/s (1 KB = 1000 bytes, as Toxiproxy's `rate`). */
  rateKbPerSec: z.number().positive(),
});
export type TcpBandwidthParams = z.infer<typeof TcpBandwidthParams>;

export const tcpBandwidthFault: FaultDefinition<TcpBandwidthParams, TcpFault> = {
  type: 'bandwidth',
  mode: 'tcp',
  summary: 'Limits the direction to rateKbPerSec (KB = 1000 bytes), slicing chunks and pacing the pieces.',
  params: TcpBandwidthParams,
  directions: ['upstream', 'downstream'],
  example: { rateKbPerSec: 8 },
  create({ rateKbPerSec }) {
    // 1 KB = 1000 bytes, so KB/s is bytes per ms.
    const bytesPerMs = rateKbPerSec;
    const slice = Math.max(1, Math.floor(bytesPerMs * SLICE_MS));
    return {
      scope: 'connection',
      open() {
        // When the last byte let through so far has "finished sending" (performance.now() ms).
        let clock = 0;
        return {
          async onChunk(chunk, link) {
            const data = chunk.data;
            for (let off = 0; off < data.length; off += slice) {
              const piece = data.subarray(off, off + slice);
              const now = performance.now();
              // Restart the clock only after an idle spell; a wake-up a little late must not push
              // every later piece back (overshoot would add up and the rate drift low).
              if (now - clock > SLICE_MS) clock = now;
              clock += piece.length / bytesPerMs;
              await link.sleep(clock - now);
              await link.forward(piece);
            }
          },
        };
      },
    };
  },
};
