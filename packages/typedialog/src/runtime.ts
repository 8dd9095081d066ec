/**
 * BackendFactory.create(type): every backend behind one interface, each loaded only when asked for
 * (ink and react for tui, fastify for web), so that other commands never pay for them.
 */
import { usageError } from '@stratumiops/shared/errors';
import { BACKEND_TYPES, type Backend, type BackendType } from '../core/backend.js';

export const BackendFactory = {
  async create(type: string): Promise<Backend> {
    switch (type) {
      case 'cli': {
        const { CliBackend } = await import('./cli.js');
        return new CliBackend();
      }
      case 'tui': {
        const { TuiBackend } = await import('./tui/index.js');
        return new TuiBackend();
      }
      case 'web': {
        const { WebBackend } = await import('./web/server.js');
        return new WebBackend();
      }
      case 'ai': {
        const { AiBackend } = await import('./ai.js');
        return new AiBackend();
      }
      case 'agent': {
        const { AiBackend } = await import('./ai.js');
        return new AiBackend('agent');
      }
      case 'prov-gen':
        throw usageError('prov-gen generates infrastructure files from a form: it has its own command', {
          hint: "run 'typedialog prov-gen FORM --provider NAME'",
        });
      default:
        throw usageError(`unknown backend '${type}'`, { hint: `use one of ${BACKEND_TYPES.join(', ')}` });
    }
  },
  types: BACKEND_TYPES as readonly BackendType[],
};
