import type { OnReadOpts, Socket } from 'node:net';

/**
 * Size of the one buffer every TCP-mode socket reads into, bytes: libuv's own read size, so a
 * socket reads as much per call as it would without `onread`.
 */
export const READ_BUFFER_BYTES = 64 * 1024;

// Shared by every socket of the process: libuv delivers reads one at a time on the event loop, and
// each is copied out before its callback returns, so no read can land on bytes still in use.
const READ_BUFFER = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);

const drop = (): void => {};

/**
 * Reads a socket through Node's `onread` option, copying each read into Node's shared 8 KiB
 * buffer pool (`Buffer.allocUnsafe`; reads of 4 KiB and more get a buffer of their own).
 *
 * Why: without `onread`, Node gives every read an ArrayBuffer of its own (a 64 KiB allocation
 * shrunk to the read). V8 frees dead ArrayBuffers at the next scavenge, on the proxy's main thread:
 * up to 7 ms of scavenges that paused 3–13 ms at 9,000 requests/s. Pooled, ~40 small reads share
 * one ArrayBuffer, for one memcpy each (docs/performance-notes.md has the figures).
 */
export class ChunkReader {
  /** Receives each read as a buffer of its own; set by whoever consumes the socket. */
  onChunk: (data: Buffer) => void = drop;
  /** Pass as the socket's `onread` option. */
  readonly onread: OnReadOpts = {
    buffer: READ_BUFFER,
    callback: (bytes, buffer) => {
      const data = Buffer.allocUnsafe(bytes);
      (buffer as Buffer).copy(data, 0, 0, bytes);
      this.onChunk(data);
      // Pausing is the consumer's call (socket.pause()), never implied by a read.
      return true;
    },
  };
}

/** Sends a socket's reads to `onChunk`: through its reader when it has one, else its 'data' events. */
export function readChunks(
  socket: Socket,
  reader: ChunkReader | undefined,
  onChunk: (data: Buffer) => void,
): void {
  if (reader) reader.onChunk = onChunk;
  else socket.on('data', onChunk);
}
