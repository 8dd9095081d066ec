import { serveDaemon } from '@stratumiops/shared/daemon';
import pkg from '../../package.json' with { type: 'json' };

await serveDaemon({ tool: 'svault', version: pkg.version });
