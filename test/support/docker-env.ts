import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

/**
 * Test support: a real Docker engine with a tiny image built here (no image can be pulled).
 * Every container and network made here carries the label `faultline.test=<tag>`, one tag per
 * test file, and `removeTestObjects(tag)` removes them all (call it in afterEach/afterAll).
 */

export const TEST_IMAGE = 'faultline-test/busybox:1';
export const TEST_LABEL = 'faultline.test';

/** Applets the image links to /bin/busybox. */
const APPLETS = [
  'sh',
  'httpd',
  'sleep',
  'cat',
  'echo',
  'ls',
  'ps',
  'kill',
  'wget',
  'nc',
  'ip',
  'true',
  'false',
];

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

let ready: Promise<void> | undefined;

async function engineAnswers(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `no Docker engine answers at /var/run/docker.sock (${(err as Error).message}); start one with scripts/start-dockerd.sh`,
    );
  }
}

/** Builds an image (default the test image) by `docker import` of a busybox-static root filesystem. */
export function importTestImage(image = TEST_IMAGE): void {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-rootfs-'));
  try {
    const root = join(dir, 'rootfs');
    for (const d of ['bin', 'tmp', 'proc', 'sys', 'dev', 'etc'])
      mkdirSync(join(root, d), { recursive: true });
    try {
      copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
    } catch (err) {
      throw new Error(`/bin/busybox is missing (Debian package busybox-static): ${(err as Error).message}`);
    }
    for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    const tar = join(dir, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    execFileSync('docker', ['import', tar, image], { stdio: 'ignore' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fails loudly when no engine answers; builds the test image once. */
export function ensureDockerTestEnv(): Promise<void> {
  ready ??= (async () => {
    await engineAnswers();
    const have = await docker
      .getImage(TEST_IMAGE)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (!have) importTestImage();
  })();
  return ready;
}

export interface TestContainer {
  id: string;
  name: string;
  remove(): Promise<void>;
}

export interface TestContainerOptions {
  /** Per test file; removeTestObjects(tag) finds everything made with it. */
  tag: string;
  /** Extra labels (for `containers:k=v` targets). */
  labels?: Record<string, string>;
  /** Network name or id (one the test created, or `host`). Default `none`: no traffic at all. */
  network?: string;
  /** Default: `sleep 3600`. */
  cmd?: string[];
  /** HostConfig limits at creation (bytes, nano-CPUs, µs), as the engine takes them. */
  resources?: Pick<Docker.HostConfig, 'Memory' | 'MemorySwap' | 'NanoCpus' | 'CpuQuota' | 'CpuPeriod'>;
}

let serial = 0;

/** Creates and starts a container of the test image. */
export async function startTestContainer(opts: TestContainerOptions): Promise<TestContainer> {
  await ensureDockerTestEnv();
  const name = `faultline-test-${opts.tag}-${process.pid}-${++serial}`;
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: opts.cmd ?? ['sleep', '3600'],
    Labels: { ...opts.labels, [TEST_LABEL]: opts.tag },
    HostConfig: { NetworkMode: opts.network ?? 'none', ...opts.resources },
  });
  await container.start();
  return { id: container.id, name, remove: () => container.remove({ force: true }).catch(() => {}) };
}

/**
 * Creates a bridge network carrying the test label; returns its name, id and subnet. With
 * `subnet: true` the network gets a user-configured 10.213.X.0/24 subnet (the engine allows static
 * container IPs only on those), X picked at random and tried again when another network has it.
 */
export async function createTestNetwork(
  tag: string,
  opts: { subnet?: boolean } = {},
): Promise<{ id: string; name: string; subnet?: string }> {
  await ensureDockerTestEnv();
  const name = `faultline-test-${tag}-${process.pid}-${++serial}`;
  const Labels = { [TEST_LABEL]: tag };
  if (!opts.subnet) {
    const network = await docker.createNetwork({ Name: name, Driver: 'bridge', Labels });
    return { id: network.id, name };
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 8; attempt++) {
    const subnet = `10.213.${Math.floor(Math.random() * 256)}.0/24`;
    try {
      const network = await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Labels,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
      });
      return { id: network.id, name, subnet };
    } catch (err) {
      lastError = err; // "Pool overlaps with other one on this address space": another subnet
    }
  }
  throw lastError;
}

/**
 * Removes every container, then every network, carrying `faultline.test=<tag>`. A forced remove can
 * lose a race with an operation the engine is still carrying out (a start or stop from a replayed
 * revert), so it lists again and retries, at most 5 times, 200 ms apart; what still remains then is
 * an error, so a leak is loud.
 */
export async function removeTestObjects(tag: string): Promise<void> {
  const filters = { label: [`${TEST_LABEL}=${tag}`] };
  for (let attempt = 1; ; attempt++) {
    const containers = await docker.listContainers({ all: true, filters });
    const networks = await docker.listNetworks({ filters });
    if (containers.length === 0 && networks.length === 0) return;
    if (attempt > 5) {
      throw new Error(
        `test objects tagged ${tag} left after 5 tries: ${[...containers.map((c) => c.Names[0]), ...networks.map((n) => n.Name)].join(', ')}`,
      );
    }
    await Promise.all(
      containers.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    for (const n of await docker.listNetworks({ filters })) {
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {});
    }
    await new Promise((r) => setTimeout(r, attempt === 1 ? 0 : 200));
  }
}
