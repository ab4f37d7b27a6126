import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProxyConfigFile } from './proxy-config-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'faultline-proxy-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadProxyConfigFile', () => {
  it('reads {proxies: [...]} from YAML with defaults applied', async () => {
    const path = file(
      'a.yaml',
      'proxies:\n  - name: web\n    listen: 127.0.0.1:0\n    upstream: 127.0.0.1:80\n    mode: http\n',
    );
    expect(await loadProxyConfigFile(path)).toEqual([
      {
        name: 'web',
        listen: '127.0.0.1:0',
        upstream: '127.0.0.1:80',
        mode: 'http',
        labels: {},
        enabled: true,
        timeouts: {},
      },
    ]);
  });

  it('reads a Toxiproxy-style JSON array as TCP proxies', async () => {
    const path = file(
      't.json',
      JSON.stringify([
        { name: 'redis', listen: '127.0.0.1:26379', upstream: '127.0.0.1:6379', enabled: false },
      ]),
    );
    expect(await loadProxyConfigFile(path)).toMatchObject([{ name: 'redis', mode: 'tcp', enabled: false }]);
  });

  it('names the file in every error', async () => {
    const missing = join(dir, 'missing.yaml');
    await expect(loadProxyConfigFile(missing)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(missing),
    });
    const badJson = file('bad.json', '{"proxies": [');
    await expect(loadProxyConfigFile(badJson)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(badJson),
    });
    const badShape = file('shape.yaml', 'proxies:\n  - name: web\n    listen: nowhere\n');
    await expect(loadProxyConfigFile(badShape)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(badShape),
    });
    const twice = file(
      'twice.json',
      JSON.stringify([
        { name: 'a', listen: '127.0.0.1:0', upstream: '127.0.0.1:1' },
        { name: 'a', listen: '127.0.0.1:0', upstream: '127.0.0.1:2' },
      ]),
    );
    await expect(loadProxyConfigFile(twice)).rejects.toThrow(/defined twice/);
  });
});
