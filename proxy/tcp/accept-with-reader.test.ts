import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptWithReader } from './accept-with-reader.ts';
import type { ChunkReader } from './chunk-reader.ts';
import { delay, waitFor } from './loopback-fixtures.ts';

interface Accepted {
  socket: Socket;
  chunks: Buffer[];
  dataEvents: number;
}

let server: Server | undefined;
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (server) await new Promise((r) => server!.close(r));
  server = undefined;
});

/** A server whose accepted sockets go through acceptWithReader; resolves once it listens. */
async function listen(): Promise<{ port: number; accepted: Accepted[]; hooked: boolean }> {
  const accepted: Accepted[] = [];
  const s = net.createServer({ allowHalfOpen: true });
  server = s;
  let hooked = false;
  s.once('listening', () => {
    hooked = acceptWithReader(
      s,
      { allowHalfOpen: true, noDelay: true },
      (socket: Socket, reader: ChunkReader) => {
        const a: Accepted = { socket, chunks: [], dataEvents: 0 };
        reader.onChunk = (data) => a.chunks.push(data);
        socket.on('data', () => a.dataEvents++);
        socket.on('error', () => {});
        accepted.push(a);
      },
    );
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { port: (s.address() as AddressInfo).port, accepted, hooked };
}

async function connect(port: number): Promise<Socket> {
  const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  clients.push(c);
  await once(c, 'connect');
  return c;
}

const received = (a: Accepted | undefined): number => a?.chunks.reduce((n, c) => n + c.length, 0) ?? 0;

describe('acceptWithReader', () => {
  it('takes over accepting on this Node, so the TCP proxy reads without an ArrayBuffer per read', async () => {
    expect((await listen()).hooked).toBe(true);
  });

  it('hands each read over as a copy of its own, which later reads into the shared buffer leave intact', async () => {
    const { port, accepted } = await listen();
    const c = await connect(port);
    c.write('first chunk');
    expect(await waitFor(() => received(accepted[0]) === 11)).toBe(true);
    c.write('SECOND');
    expect(await waitFor(() => received(accepted[0]) === 17)).toBe(true);
    expect(Buffer.concat(accepted[0]!.chunks).toString()).toBe('first chunkSECOND');
    expect(accepted[0]!.chunks[0]!.toString()).toBe('first chunk');
    // The stream side stays silent: every byte went to the reader.
    expect(accepted[0]!.dataEvents).toBe(0);
  });

  it('delivers a large stream byte for byte, reads of 4 KiB and more included', async () => {
    const { port, accepted } = await listen();
    const c = await connect(port);
    expect(await waitFor(() => accepted.length === 1)).toBe(true);
    const ended = once(accepted[0]!.socket, 'end');
    const payload = randomBytes(3 * 1024 * 1024);
    c.end(payload);
    await ended;
    expect(Buffer.concat(accepted[0]!.chunks).equals(payload)).toBe(true);
    expect(accepted[0]!.chunks.some((chunk) => chunk.length >= 4096)).toBe(true);
  });

  it('stops reading while the socket is paused and goes on when it is resumed', async () => {
    const { port, accepted } = await listen();
    const c = await connect(port);
    expect(await waitFor(() => accepted.length === 1)).toBe(true);
    const a = accepted[0]!;
    a.socket.pause();
    c.write('held back');
    await delay(100);
    expect(received(a)).toBe(0);
    a.socket.resume();
    expect(await waitFor(() => received(a) === 9)).toBe(true);
    expect(Buffer.concat(a.chunks).toString()).toBe('held back');
  });

  it('changes nothing on a server that is not listening', () => {
    const idle = net.createServer();
    expect(acceptWithReader(idle, { allowHalfOpen: true, noDelay: true }, () => {})).toBe(false);
  });
});
