import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

// Test support: an upstream a connect to never completes, on 127.0.0.1 only. It is a real
// listening socket (in a python3 child: a Node server always accepts) that never accepts; once its
// accept queue is full, Linux drops further SYNs, so a connect to it hangs as it would to a host
// that drops packets.

export interface SilentUpstream {
  /** `127.0.0.1:PORT`. */
  address: string;
  port: number;
  close(): Promise<void>;
}

export async function startSilentUpstream(): Promise<SilentUpstream> {
  const child = spawn(
    'python3',
    [
      '-c',
      'import socket,sys\n' +
        's=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(0)\n' +
        'print(s.getsockname()[1], flush=True)\n' +
        'sys.stdin.read()',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    child.stdin?.end();
    // A child that never spawned (no python3) has no pid and emits no 'exit'.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      await once(child, 'exit');
    }
  };
  try {
    // once() rejects on the emitter's 'error', so a missing python3 fails here, not later.
    await once(child, 'spawn');
    // stdout is paused until read, so a line printed before this listener is not lost.
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    // Backlog 0 holds one connection; two more make sure the queue is full whatever the kernel rounds to.
    for (let i = 0; i < 3; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      fillers.push(s);
    }
    // Time for the fillers' handshakes to land in the queue, ms.
    await new Promise((r) => setTimeout(r, 200));
    return { address: `127.0.0.1:${port}`, port, close };
  } catch (err) {
    await close();
    throw err;
  }
}
