// The start gate of every worker: it waits for the line `go` on stdin before it allocates or spins,
// so the agent can first move it into the target's cgroups (memory and CPU used before the move
// would stay charged to the agent's cgroup). Stdin closed without `go` means the agent gave up on
// this worker (placement failed, or the agent died): exit without doing anything.

/** Resolves once `go` arrives; exits the process when stdin closes first. */
export function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    let seen = '';
    let open = true;
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      seen += chunk;
      if (open && seen.split('\n').includes('go')) {
        open = false;
        // Nothing more to read; a dead agent later must not wake us with EOF or EPIPE.
        process.stdin.destroy();
        resolve();
      }
    });
    process.stdin.on('end', () => {
      if (open) process.exit(0);
    });
    process.stdin.on('error', () => {
      if (open) process.exit(0);
    });
  });
}
