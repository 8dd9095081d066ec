#!/usr/bin/env node
// CommonJS (bin/package.json): a command starts without node's ES module loader (start-up time).
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

// Where node would find @stratumiops/shared first (a copy of this package's own, or the one beside it:
// packages/ in the repository, node_modules/@stratumiops/ when installed); else node's resolution.
const start = join('dist', 'cli', 'start.cjs');
const shared =
  [join(__dirname, '..', 'node_modules', '@stratumiops', 'shared'), join(__dirname, '..', '..', 'shared')].find((d) =>
    existsSync(join(d, start)),
  ) ?? join(require.resolve('@stratumiops/shared/package.json'), '..');
require(join(shared, start)).start(pathToFileURL(`${join(__dirname, '..')}/`));
