import net, { type Server, type Socket } from 'node:net';
import { ChunkReader } from './chunk-reader.ts';

/** What Node's listening TCP handle calls per accepted connection (lib/net.js `onconnection`). */
type OnConnection = (this: unknown, err: number, clientHandle?: net.BoundSocket) => void;

/**
 * Makes a listening `server` build its accepted sockets with a ChunkReader as their `onread`, and
 * hands each to `onSocket` instead of emitting 'connection'. Node's net.Server has no option for
 * `onread`; this takes over the listening handle's `onconnection` callback, as Node's own does
 * (new net.Socket({handle}) for the accepted handle), minus maxConnections and blockList, which
 * the TCP proxy does not set. Call it on 'listening', before the first accept.
 * Returns false (and changes nothing) when this Node's server has no such callback: the server
 * then emits 'connection' as usual, and those sockets are read through 'data' events.
 */
export function acceptWithReader(
  server: Server,
  opts: { allowHalfOpen: boolean; noDelay: boolean },
  onSocket: (socket: Socket, reader: ChunkReader) => void,
): boolean {
  const handle = (server as unknown as { _handle?: { onconnection?: OnConnection } })._handle;
  const original = handle?.onconnection;
  if (!handle || typeof original !== 'function') return false;
  handle.onconnection = function onconnection(err, clientHandle) {
    // Accept errors (EMFILE...) go the way Node reports them: an 'error' on the server.
    if (err || !clientHandle) return original.call(this, err, clientHandle);
    const reader = new ChunkReader();
    const socket = new net.Socket({
      handle: clientHandle,
      allowHalfOpen: opts.allowHalfOpen,
      readable: true,
      writable: true,
      onread: reader.onread,
    });
    if (opts.noDelay) socket.setNoDelay(true);
    onSocket(socket, reader);
  };
  return true;
}
