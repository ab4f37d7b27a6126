import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

// Test support: small traffic tools run inside a test's network namespace
// (`ip netns exec NS node net-probe.ts <command> ...`). Each prints one JSON line (servers print
// `listening` first). Bounded by the counts and timeouts given.

const [command, ...args] = process.argv.slice(2);
const print = (v: unknown) => process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v)}\n`);

/** TCP server: per connection, counts bytes until the client ends, then answers its timings. */
function tcpServer(port: number) {
  const server = createServer((socket) => {
    let bytes = 0;
    let firstBytes = 0;
    let first = 0;
    let last = 0;
    socket.on('data', (chunk) => {
      const now = performance.now();
      if (bytes === 0) {
        first = now;
        firstBytes = chunk.length;
      }
      bytes += chunk.length;
      last = now;
    });
    socket.on('end', () => socket.end(JSON.stringify({ bytes, firstBytes, spanMs: last - first })));
    socket.on('error', () => {});
  });
  server.listen(port, '0.0.0.0', () => print('listening'));
}

/** Connects once; ok with the time it took, or the error (ETIMEDOUT after timeoutMs). */
function connect(host: string, port: number, timeoutMs: number) {
  const t0 = performance.now();
  const socket = createConnection({ host, port });
  const timer = setTimeout(() => {
    socket.destroy();
    print({ ok: false, error: 'ETIMEDOUT', ms: performance.now() - t0 });
  }, timeoutMs);
  socket.on('connect', () => {
    clearTimeout(timer);
    print({ ok: true, ms: performance.now() - t0 });
    socket.end();
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    print({ ok: false, error: err.code ?? err.message, ms: performance.now() - t0 });
  });
}

/** Sends `bytes` to a tcp-server and prints what the server measured. */
function send(host: string, port: number, bytes: number, timeoutMs: number) {
  const socket = createConnection({ host, port });
  const timer = setTimeout(() => {
    socket.destroy();
    print({ ok: false, error: 'ETIMEDOUT' });
  }, timeoutMs);
  let reply = '';
  socket.on('connect', () => socket.end(Buffer.alloc(bytes, 0x61)));
  socket.on('data', (d) => {
    reply += d;
  });
  socket.on('end', () => {
    clearTimeout(timer);
    print({ ok: true, ...JSON.parse(reply) });
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    print({ ok: false, error: err.code ?? err.message });
  });
}

/** Counts datagrams until a line arrives on stdin, then prints the count and exits. */
function udpSink(port: number) {
  let received = 0;
  const socket = createSocket('udp4');
  socket.on('message', () => received++);
  socket.bind(port, '0.0.0.0', () => print('listening'));
  createInterface({ input: process.stdin }).once('line', () => {
    print({ received });
    process.exit(0);
  });
}

/** Sends `count` numbered datagrams, `gapMs` apart; a send the kernel refuses counts as an error. */
async function udpSend(host: string, port: number, count: number, gapMs: number) {
  const socket = createSocket('udp4');
  let errors = 0;
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) =>
      socket.send(String(i), port, host, (err) => {
        if (err) errors++;
        resolve();
      }),
    );
    if (gapMs > 0) await sleep(gapMs);
  }
  socket.close();
  print({ sent: count, errors });
}

const n = (i: number) => Number(args[i]);
if (command === 'tcp-server') tcpServer(n(0));
else if (command === 'connect') connect(args[0]!, n(1), n(2));
else if (command === 'send') send(args[0]!, n(1), n(2), n(3));
else if (command === 'udp-sink') udpSink(n(0));
else if (command === 'udp-send') await udpSend(args[0]!, n(1), n(2), n(3));
else {
  console.error(`net-probe: unknown command ${command}`);
  process.exit(2);
}
