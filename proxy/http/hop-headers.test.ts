import { describe, expect, it } from 'vitest';
import { forwardRequestHeaders, stripResponseHeaders } from './hop-headers.ts';

describe('hop-by-hop headers', () => {
  it('drops connection-scoped request headers and appends the client to x-forwarded-for', () => {
    const out = forwardRequestHeaders(
      [
        'Host',
        'a',
        'Connection',
        'x-secret, close',
        'X-Secret',
        '1',
        'TE',
        'trailers',
        'Trailer',
        'x',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'h2c',
        'Proxy-Foo',
        '1',
        'X-Forwarded-For',
        '10.0.0.1',
        'Accept',
        '*/*',
      ],
      'x-secret, close',
      '127.0.0.1',
    );
    expect(out).toEqual(['Host', 'a', 'Accept', '*/*', 'x-forwarded-for', '10.0.0.1, 127.0.0.1']);
  });

  it('drops connection-scoped response headers in place', () => {
    const h = stripResponseHeaders({
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'content-type': 'x',
    });
    expect(h).toEqual({ 'content-type': 'x' });
  });
});
