import { describe, expect, it } from 'vitest';
import { compileMatch, globToRegExp } from './request-match.ts';

const req = (method: string, path: string, headers: Record<string, string> = {}) => ({
  method,
  path,
  headers,
});

describe('request matching', () => {
  it('matches everything when no rule is given', () => {
    expect(compileMatch(undefined)(req('GET', '/'))).toBe(true);
  });

  it('matches a path glob where * stays in one segment and ** crosses segments', () => {
    expect(globToRegExp('/api/*').test('/api/users')).toBe(true);
    expect(globToRegExp('/api/*').test('/api/users/1')).toBe(false);
    expect(globToRegExp('/api/**').test('/api/users/1')).toBe(true);
    expect(globToRegExp('/a.b').test('/aXb')).toBe(false);
  });

  it('requires every given field: method, path, header and tenant', () => {
    const m = compileMatch({
      methods: ['post'],
      path: '/checkout/**',
      headers: { 'X-Env': 'prod-*' },
      tenant: { header: 'x-tenant', values: ['acme'] },
    });
    const h = { 'x-env': 'prod-eu', 'x-tenant': 'acme' };
    expect(m(req('POST', '/checkout/pay', h))).toBe(true);
    expect(m(req('GET', '/checkout/pay', h))).toBe(false);
    expect(m(req('POST', '/cart', h))).toBe(false);
    expect(m(req('POST', '/checkout/pay', { ...h, 'x-env': 'staging' }))).toBe(false);
    expect(m(req('POST', '/checkout/pay', { ...h, 'x-tenant': 'other' }))).toBe(false);
  });
});
