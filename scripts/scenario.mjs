#!/usr/bin/env node
// npm run scenario -- list | <name> [--twin NAME] [--json] [--out DIR]
//
// The platform's ops scenarios (examples/scenarios/<name>/scenario.mjs), run against the real binaries as a
// user runs them: child processes, --json outputs parsed, throwaway state in a folder printed at the start,
// servers stopped at the end (also on failure and Ctrl-C). Each step prints a timeline line; the first
// broken promise stops the run with the step and why (exit 1). A scenario whose pieces are missing on this
// machine exits 1 naming them: never a fake success. Bad input exits 2 with the list.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Broken, bin, makeRun, onPath } from '../examples/scenarios/lib/harness.mjs';

const NAMES = ['zero-touch', 'incident-response', 'pqc-migration', 'disaster-recovery'];
const SCENARIOS = Object.fromEntries(
  await Promise.all(NAMES.map(async (n) => [n, (await import(`../examples/scenarios/${n}/scenario.mjs`)).default])),
);

// ---------------------------------------------------------------------------------------------
// Probing what this machine has.

function probeCmd(piece) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin(piece.tool), ...piece.args, '--help'], {
      stdio: 'ignore',
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.on('error', () => done({ ok: false, why: `${piece.label} (binary not built: run npm run build)` }));
    child.on('close', (code) => {
      if (code !== 0) done({ ok: false, why: `needs ${piece.label} (no such command)` });
      else done({ ok: true });
    });
  });
}

async function probe(piece) {
  if (piece.kind === 'cmd') return probeCmd(piece);
  const found = piece.candidates.map(onPath).find(Boolean);
  return found
    ? { ok: true }
    : { ok: false, why: `needs ${piece.label} (not installed: apt-get install ${piece.pkg})` };
}

async function readiness(name) {
  const s = SCENARIOS[name];
  const results = await Promise.all(s.needs.map(probe));
  const missing = results.filter((r) => !r.ok).map((r) => r.why);
  if (!s.run) missing.push('needs the scenario itself (not written yet: only its needs are checked)');
  return {
    name,
    title: s.title,
    needs: s.needs.map((p) => p.label),
    runnable: missing.length === 0,
    missing,
    twins: s.twins ?? {},
    not_yet: s.notYet ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// The command line.

function usage() {
  return 'usage: npm run scenario -- list [--json] | npm run scenario -- <name> [--twin NAME] [--json] [--out DIR]';
}

async function list(json, stream = process.stdout) {
  const all = await Promise.all(Object.keys(SCENARIOS).map(readiness));
  if (json) {
    stream.write(`${JSON.stringify({ scenarios: all }, null, 2)}\n`);
    return all;
  }
  for (const s of all) {
    stream.write(`${s.name.padEnd(18)} ${s.runnable ? 'runs here' : 'cannot run yet'}\n`);
    stream.write(`  ${s.title}\n`);
    stream.write(`  needs: ${s.needs.join(', ')}\n`);
    for (const m of s.missing) stream.write(`  missing: ${m}\n`);
    for (const [t, what] of Object.entries(s.twins)) stream.write(`  failure twin --twin ${t}: ${what}\n`);
    for (const m of s.not_yet) stream.write(`  not covered yet: ${m}\n`);
  }
  return all;
}

async function main() {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const valued = {};
  const skip = new Set();
  for (const f of ['--out', '--twin']) {
    const at = argv.indexOf(f);
    if (at < 0) continue;
    valued[f] = argv[at + 1];
    skip.add(at).add(at + 1);
  }
  const out = valued['--out'];
  const twin = valued['--twin'];
  const rest = argv.filter((x, i) => x !== '--json' && !skip.has(i));
  const bad = rest.find((x) => x.startsWith('-'));
  const missingValue = Object.entries(valued).find(([, v]) => !v || v.startsWith('-'));
  if (rest.length !== 1 || bad || missingValue) {
    const why = bad ? `unknown flag '${bad}'\n` : missingValue ? `${missingValue[0]} needs a value\n` : '';
    process.stderr.write(`${why}${usage()}\n\n`);
    await list(false, process.stderr);
    return 2;
  }
  const name = rest[0];
  if (name === 'list') {
    await list(json);
    return 0;
  }
  if (!(name in SCENARIOS)) {
    process.stderr.write(`unknown scenario '${name}'\n${usage()}\n\n`);
    await list(false, process.stderr);
    return 2;
  }
  const twins = SCENARIOS[name].twins ?? {};
  if (twin !== undefined && !(twin in twins)) {
    const known = Object.keys(twins);
    process.stderr.write(
      `${name} has no failure twin '${twin}'${known.length ? ` (it has: ${known.join(', ')})` : ' (it has none yet)'}\n${usage()}\n`,
    );
    return 2;
  }
  const ready = await readiness(name);
  if (!ready.runnable) {
    const msg = `${name} cannot run yet:\n${ready.missing.map((m) => `  ${m}`).join('\n')}`;
    if (json)
      process.stdout.write(
        `${JSON.stringify({ scenario: name, ok: false, runnable: false, missing: ready.missing }, null, 2)}\n`,
      );
    process.stderr.write(`${msg}\n`);
    return 1;
  }

  const dir = out ? resolve(out) : mkdtempSync(join(tmpdir(), `stratumiops-${name}-`));
  mkdirSync(dir, { recursive: true });
  const run = makeRun(dir, json);
  run.say(`scenario ${name}${twin ? ` (twin ${twin}: ${twins[twin]})` : ''}: artifacts in ${dir}`);
  for (const m of ready.not_yet) run.say(`  (not covered yet: ${m})`);

  const finish = (failure) => {
    run.removeSecretFiles();
    const report = {
      scenario: name,
      twin: twin ?? null,
      ok: failure === null,
      artifacts: dir,
      steps: run.steps.map(({ n, step, tool, ok, detail, elapsed_ms }) => ({ n, step, tool, ok, detail, elapsed_ms })),
      servers: run.servers.map((s) => ({ name: s.name, pid: s.pid, stopped: s.stopped })),
      not_yet: ready.not_yet,
      error: failure,
    };
    writeFileSync(join(dir, 'timeline.json'), JSON.stringify(report, null, 2));
    if (failure) run.say(`FAILED: ${failure}`);
    else run.say(`scenario ${name}: ${run.steps.length} steps ok; artifacts in ${dir}`);
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  };

  const onSignal = (sig) => {
    if (run.interrupted) return;
    run.interrupted = sig;
    run.say(`\n${sig}: stopping the servers this scenario started`);
    run
      .stopServers()
      .then(() => finish(`interrupted by ${sig} during step ${run.current()?.n ?? 0}`))
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failure = null;
  try {
    await SCENARIOS[name].run(run, twin);
  } catch (e) {
    failure = e instanceof Broken ? e.message : `step ${run.current()?.n ?? '?'} crashed: ${e?.stack ?? e}`;
  }
  if (run.interrupted) return new Promise(() => {}); // the signal handler stops, reports and exits
  await run.stopServers();
  finish(failure);
  return failure ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`scenario: ${e?.stack ?? e}\n`);
    process.exitCode = 1;
  },
);
