import { serveDaemon } from '@stratumiops/shared/daemon';
import pkg from '../../package.json' with { type: 'json' };

await serveDaemon({ tool: 'vapora', version: pkg.version });
