/**
 * An agent's variables: from `--var key=value` (`key=@file` reads a file, `key=@@text` is the literal `@text`),
 * from a form's answers, or from an answers file; checked against what the agent declares before any call.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { readText } from '../files.js';
import type { Agent } from './parse.js';

export type Vars = Record<string, unknown>;

/** `--var` values in order (a later one wins); every malformed one is reported at once (exit 2). */
export function parseVarFlags(flags: readonly string[], cwd = process.cwd()): Vars {
  const vars: Vars = {};
  const problems: string[] = [];
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) {
      problems.push(`--var ${f}: expected KEY=VALUE (or KEY=@file)`);
      continue;
    }
    const key = f.slice(0, eq).trim();
    let value = f.slice(eq + 1);
    if (value.startsWith('@@')) value = value.slice(1);
    else if (value.startsWith('@')) {
      const path = resolve(cwd, value.slice(1));
      if (value.length === 1) {
        problems.push(`--var ${key}=@: name the file to read after the @`);
        continue;
      }
      const name = value.slice(1);
      if (!existsSync(path)) {
        problems.push(`--var ${key}=${value}: file ${name} does not exist`);
        continue;
      }
      if (!statSync(path).isFile()) {
        problems.push(`--var ${key}=${value}: ${name} is a folder: name a file`);
        continue;
      }
      const text = readText(path);
      if (text === undefined) {
        problems.push(
          `--var ${key}=${value}: ${name} is not UTF-8 text (a binary file?): a variable is text in a prompt`,
        );
        continue;
      }
      // A file's last newline is not part of the value (as with $(cat file)).
      value = text.replace(/\r?\n$/, '');
    }
    vars[key] = value;
  }
  if (problems.length > 0) {
    throw usageError(problems.length === 1 ? (problems[0] as string) : `${problems.length} --var flags are wrong`, {
      hint: 'pass --var KEY=VALUE, --var KEY=@file to read a file, or --var KEY=@@text for a value starting with @',
      details: { problems },
      display: ['typedialog: --var flags are wrong', ...problems.map((p) => `  - ${p}`)].join('\n'),
    });
  }
  return vars;
}

/**
 * The variables a run uses: every required declared variable must be given, nothing undeclared may be; optional
 * ones default to an empty string. Every problem is reported at once (exit 2), before any call.
 */
export function resolveVars(agent: Agent, given: Vars, source = '--var'): Vars {
  const problems: string[] = [];
  const declared = new Map(agent.variables.map((v) => [v.name, v]));
  const names = agent.variables.map((v) => v.name).join(', ') || 'none';
  for (const key of Object.keys(given)) {
    if (!declared.has(key)) problems.push(`'${key}' is not a variable of ${agent.name} (it declares: ${names})`);
  }
  const values: Vars = {};
  for (const v of agent.variables) {
    const x = given[v.name];
    if (x === undefined || x === null) {
      if (v.optional) values[v.name] = '';
      else problems.push(`'${v.name}' is missing (${v.description || 'no description'}): pass --var ${v.name}=…`);
    } else values[v.name] = x;
  }
  if (problems.length > 0) {
    const title =
      problems.length === 1
        ? `variable ${problems[0]}`
        : `${problems.length} problems with the variables of ${agent.name}`;
    throw new StratumError('usage', title, {
      hint: `variables come from --var KEY=VALUE (KEY=@file), --form FORM or --answers FILE; ${source} gave: ${Object.keys(given).join(', ') || 'nothing'}`,
      details: { problems, declared: agent.variables.map((v) => v.name) },
      display: [
        `typedialog: the variables of ${agent.name} are not right`,
        ...problems.map((p) => `  - variable ${p}`),
      ].join('\n'),
    });
  }
  return values;
}
