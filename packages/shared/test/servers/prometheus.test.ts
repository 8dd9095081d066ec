import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  type NodeExporterServer,
  type PrometheusServer,
  prometheusQuery,
  skipUnless,
  startNodeExporter,
  startPrometheus,
} from '../../src/testing/index.js';

describe.skipIf(skipUnless('prometheus') || skipUnless('node_exporter'))(
  'startPrometheus and startNodeExporter (real servers)',
  () => {
    let exporter: NodeExporterServer;
    let prom: PrometheusServer;
    beforeAll(async () => {
      exporter = await startNodeExporter();
      prom = await startPrometheus({ targets: [exporter.target] });
    });
    afterAll(async () => {
      await prom?.stop();
      await exporter?.stop();
    });

    it('scrapes the exporter: up == 1 for its target', async () => {
      let up: { labels: Record<string, string>; value: number }[] = [];
      for (let i = 0; i < 120 && up[0]?.value !== 1; i++) {
        await new Promise((r) => setTimeout(r, 500));
        up = await prometheusQuery(prom.url, 'up');
      }
      expect(up).toEqual([{ labels: expect.objectContaining({ instance: exporter.target, job: 'node' }), value: 1 }]);
    });

    it('a bad query is an error naming the query', async () => {
      await expect(prometheusQuery(prom.url, 'up{')).rejects.toThrow(/up\{/);
    });

    it('stop() ends both and removes their temp dirs', async () => {
      await prom.stop();
      await exporter.stop();
      for (const s of [prom, exporter]) {
        expect(isProcessAlive(s.pid)).toBe(false);
        expect(existsSync(s.dir)).toBe(false);
      }
    });
  },
);
