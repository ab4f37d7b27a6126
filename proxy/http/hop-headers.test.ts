import { describe, expect, it } from 'vitest';
import { forwardRequestHeaders, forwardResponseHeaders } from './hop-headers.ts';

describe('hop-by-hop headers', () => {
  it('drops connection-scoped request headers and appends the client to x-forwarded-for', () => {
    const info = { hasBody: false, contentLength: 0 };
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
      '127.0.0.1',
      info,
    );
    expect(out).toEqual(['Host', 'a', 'Accept', '*/*', 'x-forwarded-for', '10.0.0.1, 127.0.0.1']);
    expect(info).toEqual({ hasBody: true, contentLength: -1 });
  });

  it('reads the declared body length', () => {
    const info = { hasBody: true, contentLength: 0 };
    forwardRequestHeaders(['Content-Length', '0'], undefined, info);
    expect(info).toEqual({ hasBody: false, contentLength: 0 });
    forwardRequestHeaders(['content-length', '12'], undefined, info);
    expect(info).toEqual({ hasBody: true, contentLength: 12 });
  });

  it('lists the response headers to send on without connection-scoped ones, one pair per repeated value', () => {
    const h = forwardResponseHeaders({
      connection: 'keep-alive, x-hop',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'x-hop': 'only this connection',
      'content-type': 'x',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(h).toEqual(['content-type', 'x', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
  });
});
