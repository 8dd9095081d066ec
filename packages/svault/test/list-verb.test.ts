import { describe, expect, it } from 'vitest';
import { ListRewriter } from '../src/server/list-verb.js';

const stream =
  'POST /v1/secret/data/a HTTP/1.1\r\nHost: x\r\nContent-Length: 27\r\n\r\n{"data":{"LIST":"LIST /x"}}' +
  'LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\n\r\n' +
  'LIST /v1/secret/metadata/a?foo=1 HTTP/1.1\r\nHost: x\r\n\r\n' +
  'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
const expected = stream
  .replace('LIST /v1/secret/metadata/ ', 'GET /v1/secret/metadata/?list=true ')
  .replace('LIST /v1/secret/metadata/a?foo=1 ', 'GET /v1/secret/metadata/a?foo=1&list=true ');

describe('LIST verb rewriting', () => {
  it('rewrites request lines only, whatever the chunking, and leaves bodies alone', () => {
    for (const size of [1, 2, 7, 64, stream.length]) {
      const r = new ListRewriter();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(r.rewrite(Buffer.from(stream.slice(i, i + size))));
      out.push(r.flush());
      expect(Buffer.concat(out).toString('latin1'), `chunks of ${size}`).toBe(expected);
    }
  });

  it('stops at a chunked body and passes everything through from there', () => {
    const r = new ListRewriter();
    const chunked =
      'POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nLIST\r\n0\r\n\r\nLIST /v1/y HTTP/1.1\r\n\r\n';
    expect(r.rewrite(Buffer.from(chunked)).toString()).toBe(chunked);
    expect(r.done).toBe(true);
  });
});
