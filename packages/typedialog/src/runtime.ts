/**
 * The composition root: the backend for a type, each loaded only when asked for (ink and react
 * for tui, fastify for web, the LLM layer for ai and agent), so that other commands never pay for them.
 */
import { usageError } from '@stratumiops/shared/errors';
import { BACKEND_TYPES, type Backend } from './core/backend.js';

export async function createBackend(type: string): Promise<Backend> {
  switch (type) {
    case 'cli': {
      const { CliBackend } = await import('./adapters/cli.js');
      return new CliBackend();
    }
    case 'tui': {
      const { TuiBackend } = await import('./adapters/tui/index.js');
      return new TuiBackend();
    }
    case 'web': {
      const { WebBackend } = await import('./adapters/web/server.js');
      return new WebBackend();
    }
    case 'ai':
    case 'agent': {
      const { AiBackend } = await import('./adapters/ai.js');
      // The drafts are reviewed in another backend (tui or cli), made here too.
      return new AiBackend(type, createBackend);
    }
    case 'prov-gen':
      throw usageError('prov-gen generates infrastructure files from a form: it has its own command', {
        hint: "run 'typedialog prov-gen FORM --provider NAME'",
      });
    default:
      throw usageError(`unknown backend '${type}'`, { hint: `use one of ${BACKEND_TYPES.join(', ')}` });
  }
}
