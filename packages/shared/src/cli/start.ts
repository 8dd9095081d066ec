/** The start of every binary, for ES modules: bin/run.js (CommonJS) requires start.cjs itself. */
import startCjs from './start.cjs';

export const { freshBundle, start } = startCjs;
