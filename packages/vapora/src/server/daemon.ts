import { loadConfig } from '@stratumiops/shared/config';
import { serveDaemon } from '@stratumiops/shared/daemon';
import pkg from '../../package.json' with { type: 'json' };
import { tool, type VaporaConfig } from '../tool.js';
import type { Served } from './main.js';

// The daemon serves the same API on its unix socket, with the config of the directory it was started from.
let served: Served | undefined;
const loaded = loadConfig<VaporaConfig>(tool.config);
await serveDaemon({
  tool: 'vapora',
  version: pkg.version,
  register: async (app) => {
    const { serve } = await import('./main.js');
    const prom = await import('prom-client');
    const registry = new prom.Registry();
    // The shared /metrics serves the process metrics; vapora's are appended to the same page.
    app.addHook('onSend', async (req, _reply, payload) =>
      req.routeOptions.url === '/metrics' && typeof payload === 'string'
        ? `${payload}\n${await registry.metrics()}`
        : payload,
    );
    served = await serve({ config: loaded.values, projectFile: loaded.files.project, app, registry });
  },
  onClose: async () => {
    await served?.close();
  },
});
