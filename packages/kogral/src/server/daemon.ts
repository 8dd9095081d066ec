import { serveDaemon } from '@stratumiops/shared/daemon';
import pkg from '../../package.json' with { type: 'json' };
import { IndexKeeper, vouchRequest } from './index-keeper.js';

const keeper = new IndexKeeper(pkg.version);

await serveDaemon({
  tool: 'kogral',
  version: pkg.version,
  register: (app) => {
    // A command asks before it searches or lists: is the index of this graph up to date?
    app.post('/index/vouch', async (req, reply) => {
      const parsed = vouchRequest.safeParse(req.body);
      if (!parsed.success) return reply.code(400).send({ error: parsed.error.issues[0]?.message ?? 'bad request' });
      try {
        const r = await keeper.vouch(parsed.data);
        return r ?? reply.code(409).send({ error: `this daemon is kogral ${pkg.version}` });
      } catch (e) {
        return reply.code(500).send({ error: (e as Error).message });
      }
    });
  },
  onClose: () => keeper.close(),
});
