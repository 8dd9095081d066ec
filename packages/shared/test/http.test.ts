import { describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http.js';

describe('createHttpServer', () => {
  it('serves Prometheus metrics that count requests by route and status', async () => {
    const { app } = await createHttpServer({ name: 'svault' });
    app.get('/v1/sys/health', async () => ({ initialized: true }));
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await fetch(`${address}/v1/sys/health`)).status).toBe(200);
      expect((await fetch(`${address}/nope`)).status).toBe(404);
      const res = await fetch(`${address}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(/svault_http_requests_total\{method="GET",route="\/v1\/sys\/health",status_code="200"\} 1/);
      expect(text).toMatch(/svault_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/);
      expect(text).toMatch(/# TYPE svault_http_request_duration_seconds histogram/);
      expect(text).toMatch(
        /svault_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/sys\/health",le="\+Inf"\} 1/,
      );
      expect(text).toMatch(/svault_http_request_duration_seconds_count\{method="GET",route="\/v1\/sys\/health"\} 1/);
      // Buckets are cumulative: each is at least the one before.
      const buckets = [...text.matchAll(/duration_seconds_bucket\{method="GET",route="unmatched",le="[^"]+"\} (\d+)/g)];
      const counts = buckets.map((m) => Number(m[1]));
      expect(counts).toHaveLength(9);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(1);
      expect(text).toContain('svault_process_cpu_seconds_total');
    } finally {
      await app.close();
    }
  });

  it('rejects bodies over the limit with 413', async () => {
    const { app } = await createHttpServer({ name: 't', bodyLimit: 1024 });
    app.post('/echo', async (req) => req.body);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const big = JSON.stringify({ x: 'y'.repeat(4096) });
      const res = await fetch(`${address}/echo`, {
        method: 'POST',
        body: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(413);
    } finally {
      await app.close();
    }
  });
});
