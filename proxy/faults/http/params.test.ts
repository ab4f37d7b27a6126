import { describe, expect, it } from 'vitest';
import { AbortParams } from './abort.ts';
import { AwsParams } from './aws.ts';
import { BandwidthParams } from './bandwidth.ts';
import { ResetParams } from './reset.ts';
import { TimeoutParams } from './timeout.ts';

describe('HTTP fault parameters', () => {
  it('abort refuses statuses out of range and headers that would break the response', () => {
    expect(AbortParams.safeParse({ status: 503, headers: { 'retry-after': '2' } }).success).toBe(true);
    expect(AbortParams.safeParse({ status: 99 }).success).toBe(false);
    expect(AbortParams.safeParse({ status: 600 }).success).toBe(false);
    expect(AbortParams.safeParse({ status: 503, headers: { 'bad name': 'x' } }).success).toBe(false);
    expect(AbortParams.safeParse({ status: 503, headers: { ok: 'a\r\nset-cookie: x' } }).success).toBe(false);
  });

  it('aws needs a known error code and non-empty filters', () => {
    expect(AwsParams.safeParse({ error: 'ThrottlingException', regions: ['eu-west-1'] }).success).toBe(true);
    expect(AwsParams.safeParse({ error: 'MadeUpError' }).success).toBe(false);
    expect(AwsParams.safeParse({ error: 'Throttling', services: [] }).success).toBe(false);
    expect(AwsParams.safeParse({ error: 'Throttling', status: 200 }).success).toBe(false);
  });

  it('fills defaults and refuses non-positive rates', () => {
    expect(ResetParams.parse({})).toEqual({ afterMs: 0 });
    expect(TimeoutParams.parse({})).toEqual({ timeoutMs: 0 });
    expect(BandwidthParams.safeParse({ rateKbPerSec: 0 }).success).toBe(false);
  });
});
