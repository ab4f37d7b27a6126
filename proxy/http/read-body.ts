import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** Largest request body buffered for a fault that must read it (AWS query `Action=`), bytes. */
export const MAX_BUFFERED_BODY_BYTES = 1024 * 1024;

export interface ReadBodyResult {
  /** The whole body when it fit in the bound, else undefined. */
  body: Buffer | undefined;
  /** What to forward: the buffered body, or (when it did not fit) the part read so far plus the rest. */
  forward: Buffer | Readable;
}

/**
 * Reads a request body up to `limit` bytes so a fault can look at it, without losing it: a body
 * over the limit is forwarded as the bytes already read followed by the rest of the stream.
 */
export async function readBoundedBody(
  req: IncomingMessage,
  limit = MAX_BUFFERED_BODY_BYTES,
): Promise<ReadBodyResult> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return { body: undefined, forward: req };
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = req[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = next.value as Buffer;
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) {
      async function* rest(): AsyncGenerator<Buffer> {
        yield* chunks;
        for (;;) {
          const more = await iterator.next();
          if (more.done) return;
          yield more.value as Buffer;
        }
      }
      return { body: undefined, forward: Readable.from(rest(), { objectMode: false }) };
    }
  }
  const body = Buffer.concat(chunks, size);
  return { body, forward: body };
}
