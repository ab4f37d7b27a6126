import { describe, expect, it } from 'vitest';
import { isFaultlineError } from '../../protocol/errors.ts';
import { DockerAdapter } from './docker.ts';

describe('DockerAdapter', () => {
  it('connects to nothing when built, and fails a call with FAULT_APPLY_FAILED naming the socket', async () => {
    const socketPath = '/nonexistent/faultline-test/docker.sock';
    const docker = new DockerAdapter({ socketPath });
    const err = await docker.containerPid('web').catch((e: unknown) => e);
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toContain(socketPath);
  });

  it('refuses a target that is not a container', async () => {
    const docker = new DockerAdapter({ socketPath: '/nonexistent/faultline-test/docker.sock' });
    const err = await docker.resolve('host', undefined, 'f').catch((e: unknown) => e);
    expect(isFaultlineError(err, 'INVALID_INPUT')).toBe(true);
  });
});
