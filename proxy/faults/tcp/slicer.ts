import { z } from 'zod';
import type { TcpFault, TcpFaultSession } from '../../tcp/tcp-fault.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const TcpSlicerParams = z
  .strictObject({
    /** Mean size of the pieces, bytes. */
    averageSizeBytes: z.number().int().positive(),
    /** Pieces vary by up to ± this much (uniform), bytes; must be below averageSizeBytes. Default 0. */
    sizeVariationBytes: z.number().int().nonnegative().default(0),
    /** Pause between pieces of one chunk, µs (timer granularity is 1 ms). Default 0. */
    delayUs: z.number().nonnegative().default(0),
  })
  .refine((p) => p.sizeVariationBytes < p.averageSizeBytes, {
    message: 'sizeVariationBytes must be smaller than averageSizeBytes',
    path: ['sizeVariationBytes'],
  });
export type TcpSlicerParams = z.infer<typeof TcpSlicerParams>;

export const tcpSlicerFault: FaultDefinition<TcpSlicerParams, TcpFault> = {
  type: 'slicer',
  mode: 'tcp',
  summary: 'Splits chunks into pieces of averageSizeBytes ± sizeVariationBytes, delayUs apart.',
  params: TcpSlicerParams,
  directions: ['upstream', 'downstream'],
  example: { averageSizeBytes: 64, sizeVariationBytes: 16, delayUs: 2000 },
  create({ averageSizeBytes, sizeVariationBytes, delayUs }, { random }) {
    const session: TcpFaultSession = {
      async onChunk(chunk, link) {
        const data = chunk.data;
        let off = 0;
        while (off < data.length) {
          const size =
            sizeVariationBytes > 0
              ? averageSizeBytes + Math.round((random() * 2 - 1) * sizeVariationBytes)
              : averageSizeBytes;
          const end = Math.min(data.length, off + size);
          await link.forward(data.subarray(off, end));
          off = end;
          if (delayUs > 0 && off < data.length) await link.sleep(delayUs / 1000);
        }
      },
    };
    return { scope: 'connection', open: () => session };
  },
};
