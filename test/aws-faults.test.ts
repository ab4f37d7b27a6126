import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyFaultSpecInput } from '../protocol/proxy.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';

// Unmodified AWS SDK v3 clients → HTTP-mode proxy → a real moto_server. The proxy's `aws` fault
// must answer in each protocol's own error shape so the SDK names, classifies and retries it.

const MOTO_START_MS = 30_000;
let moto: ChildProcess | undefined;
let motoLog = '';
let manager: ProxyManager;
let endpoint: string;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

async function waitForHttp(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (moto?.exitCode !== null) throw new Error(`moto_server exited early: ${motoLog}`);
    try {
      await fetch(`http://127.0.0.1:${port}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`moto_server did not answer on ${port} within ${MOTO_START_MS} ms: ${motoLog}`);
}

beforeAll(async () => {
  const port = await freePort();
  // A missing moto_server fails here, loudly (spawn error), rather than skipping.
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  moto.stdout?.on('data', (c) => {
    motoLog = (motoLog + c).slice(-2000);
  });
  moto.stderr?.on('data', (c) => {
    motoLog = (motoLog + c).slice(-2000);
  });
  await new Promise<void>((resolve, reject) => {
    moto!.once('error', reject);
    moto!.once('spawn', resolve);
  });
  await waitForHttp(port, Date.now() + MOTO_START_MS);
  manager = new ProxyManager();
  await manager.add({ name: 'aws', listen: '127.0.0.1:0', upstream: `127.0.0.1:${port}`, mode: 'http' });
  endpoint = `http://${manager.get('aws').boundAddress}`;
  for (const region of ['us-east-1', 'eu-west-1']) {
    await dynamo(region).send(
      new CreateTableCommand({
        TableName: 'orders',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
}, MOTO_START_MS + 10_000);

afterAll(async () => {
  await manager?.close(0);
  if (moto?.pid && moto.exitCode === null) {
    const exited = new Promise((r) => moto!.once('exit', r));
    process.kill(moto.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
    if (moto.exitCode === null) process.kill(moto.pid, 'SIGKILL');
  }
});

afterEach(() => {
  manager.faults.reset('aws');
});

const credentials = { accessKeyId: 'AKIDFAULTLINE', secretAccessKey: 'not-a-secret' };
const clientConfig = (region: string) => ({ endpoint, region, credentials, maxAttempts: 3 });
const dynamo = (region: string) => new DynamoDBClient(clientConfig(region));
const applyAws = (params: Record<string, unknown>, extra: Partial<ProxyFaultSpecInput> = {}) =>
  manager.faults.apply('aws', { type: 'aws', direction: 'upstream', params, leaseMs: 0, ...extra });

interface SdkError {
  name: string;
  $metadata: { attempts?: number; httpStatusCode?: number };
}

async function failure(p: Promise<unknown>): Promise<SdkError> {
  return p.then(
    () => {
      throw new Error('expected the AWS call to fail');
    },
    (err: SdkError) => err,
  );
}

const put = (region: string, id: string) =>
  dynamo(region).send(new PutItemCommand({ TableName: 'orders', Item: { id: { S: id } } }));

describe('aws fault against unmodified AWS SDK v3 clients and moto', () => {
  it('passes calls through untouched when no fault is active', async () => {
    await put('eu-west-1', 'a');
    const got = await dynamo('eu-west-1').send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'a' } } }),
    );
    expect(got.Item?.id?.S).toBe('a');
    const ec2 = await new EC2Client(clientConfig('us-east-1')).send(new DescribeVpcsCommand({}));
    expect(Array.isArray(ec2.Vpcs)).toBe(true);
    const q = await new SQSClient(clientConfig('us-east-1')).send(
      new CreateQueueCommand({ QueueName: 'jobs' }),
    );
    expect(q.QueueUrl).toContain('jobs');
  });

  it('throttles DynamoDB PutItem in eu-west-1 only: the SDK names it ThrottlingException and retries', async () => {
    const fault = applyAws({
      regions: ['eu-west-1'],
      services: ['dynamodb'],
      operations: ['PutItem'],
      error: 'ThrottlingException',
    });
    const err = await failure(put('eu-west-1', 'b'));
    expect(err.name).toBe('ThrottlingException');
    expect(err.$metadata.attempts).toBe(3);
    expect(err.$metadata.httpStatusCode).toBe(400);
    await put('us-east-1', 'b');
    const got = await dynamo('eu-west-1').send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'a' } } }),
    );
    expect(got.Item?.id?.S).toBe('a');
    expect(manager.faults.get(fault.id)?.affected).toBe(3);
    manager.faults.revert(fault.id);
    await put('eu-west-1', 'b');
  });

  it('a non-retryable error is not retried, which shows the SDK classifies by code', async () => {
    applyAws({ services: ['dynamodb'], operations: ['ListTables'], error: 'ValidationException' });
    const err = await failure(dynamo('us-east-1').send(new ListTablesCommand({})));
    expect(err.name).toBe('ValidationException');
    expect(err.$metadata.attempts).toBe(1);
  });

  it('answers EC2 query calls with RequestLimitExceeded, read from the form body', async () => {
    applyAws({ services: ['ec2'], operations: ['DescribeInstances'], error: 'RequestLimitExceeded' });
    const ec2 = new EC2Client(clientConfig('us-east-1'));
    const err = await failure(ec2.send(new DescribeInstancesCommand({})));
    expect(err.name).toBe('RequestLimitExceeded');
    expect(err.$metadata.attempts).toBe(3);
    expect(err.$metadata.httpStatusCode).toBe(503);
    // Another operation of the same service, whose body the fault also read, still reaches moto.
    expect(Array.isArray((await ec2.send(new DescribeVpcsCommand({}))).Vpcs)).toBe(true);
  });

  it('answers SQS with ServiceUnavailable 503, which the SDK retries, and recovers on revert', async () => {
    const fault = applyAws({ services: ['sqs'], error: 'ServiceUnavailable' });
    const sqs = new SQSClient(clientConfig('us-east-1'));
    const err = await failure(sqs.send(new ListQueuesCommand({})));
    expect(err.name).toBe('ServiceUnavailable');
    expect(err.$metadata.httpStatusCode).toBe(503);
    expect(err.$metadata.attempts).toBe(3);
    manager.faults.revert(fault.id);
    const ok = await sqs.send(new ListQueuesCommand({}));
    expect(ok.$metadata.httpStatusCode).toBe(200);
  });

  it('in the downstream direction replaces moto’s answer with the error', async () => {
    applyAws(
      { regions: ['us-east-1'], services: ['dynamodb'], error: 'ProvisionedThroughputExceededException' },
      { direction: 'downstream' },
    );
    const err = await failure(put('us-east-1', 'c'));
    expect(err.name).toBe('ProvisionedThroughputExceededException');
    expect(err.$metadata.attempts).toBe(3);
  });
});
