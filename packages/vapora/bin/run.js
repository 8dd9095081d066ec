#!/usr/bin/env node
// CommonJS (bin/package.json): a command starts without node's ES module loader (start-up time).
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const shared = join(require.resolve('@stratumiops/shared/package.json'), '..');
require(join(shared, 'dist', 'cli', 'start.cjs')).start(pathToFileURL(`${join(__dirname, '..')}/`));
