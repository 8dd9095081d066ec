#!/usr/bin/env node
import { main } from '@stratumiops/shared/cli/entry';

await main(new URL('..', import.meta.url));
