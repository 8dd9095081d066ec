import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbedder } from '../src/adapters/embedders.js';
import { cosine, NgramEmbedder } from '../src/core/search/embedder.js';

describe('embedders', () => {
  it('the offline n-gram embedder: deterministic, unit length, close for typos and identifiers', async () => {
    const e = new NgramEmbedder();
    const [a, b, c] = await e.embedBatch(['KubeHpaMaxedOut', 'kube hpa maxed out', 'postgres connection pool']);
    expect(a).toHaveLength(e.dimensions);
    expect(cosine(a as Float32Array, a as Float32Array)).toBeCloseTo(1, 5);
    expect(cosine(a as Float32Array, b as Float32Array)).toBeGreaterThan(cosine(a as Float32Array, c as Float32Array));
    const typo = await e.embed('prometheus alertmanger');
    const right = await e.embed('prometheus alertmanager');
    expect(cosine(typo, right)).toBeGreaterThan(0.6);
    expect(await e.embed('x y z')).toEqual(await e.embed('x y z'));
  });

  describe('remote providers (OpenAI and Ollama HTTP APIs, served by a fake here)', () => {
    let server: Server;
    let url: string;
    const seen: { path: string; auth?: string; body: unknown }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let data = '';
        req.on('data', (d) => {
          data += d;
        });
        req.on('end', () => {
          const body = JSON.parse(data) as { input: string[] };
          seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
          const vecs = body.input.map((t) => [t.length, 1, 0]);
          res.setHeader('content-type', 'application/json');
          if (req.url === '/v1/embeddings') res.end(JSON.stringify({ data: vecs.map((embedding) => ({ embedding })) }));
          else if (req.url === '/api/embed') res.end(JSON.stringify({ embeddings: vecs }));
          else {
            res.statusCode = 404;
            res.end('{}');
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('OpenAI: bearer key, batch input, normalised vectors, dimensions probed', async () => {
      const e = await createEmbedder({ embedder: 'openai', model: 'm', url: `${url}/v1`, api_key: 'sk-test' });
      expect(e.dimensions).toBe(3);
      const [v] = await e.embedBatch(['abc']);
      expect(Math.hypot(...(v as Float32Array))).toBeCloseTo(1, 5);
      expect(seen.at(-1)).toMatchObject({ path: '/v1/embeddings', auth: 'Bearer sk-test', body: { model: 'm' } });
    });

    it('Ollama: /api/embed', async () => {
      const e = await createEmbedder({ embedder: 'ollama', model: 'nomic', url, api_key: '' });
      expect(e.name).toBe('ollama:nomic');
      expect(seen.at(-1)?.path).toBe('/api/embed');
    });

    it('errors say what to do: no key, unreachable service, missing optional package', async () => {
      await expect(createEmbedder({ embedder: 'openai', model: '', url, api_key: '' }, {})).rejects.toMatchObject({
        code: 'usage',
      });
      await expect(
        createEmbedder({ embedder: 'ollama', model: 'x', url: 'http://127.0.0.1:1', api_key: '' }),
      ).rejects.toMatchObject({ code: 'unavailable' });
      await expect(
        createEmbedder({ embedder: 'transformers', model: '/nonexistent/model', url: '', api_key: '' }),
      ).rejects.toMatchObject({ code: 'usage', hint: expect.stringMatching(/ONNXRUNTIME_NODE_INSTALL=skip/) });
    });
  });
});
