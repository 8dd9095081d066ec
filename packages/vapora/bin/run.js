#!/usr/bin/env node
import { start } from '@stratumiops/shared/cli/start';

await start(new URL('..', import.meta.url));
