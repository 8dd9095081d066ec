// typedialog: (1) the validation engine on 10,000 answer sets of a 30-field form (conditions, patterns,
// ranges, options, dates, lists), against a plain zod object parse of the same data; (2) prov-gen of a
// 50-server cluster (config, nunjucks render, Nickel validation against schemas/) against the render alone.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './_stats.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'packages/typedialog/dist', p);
const { parseForm, loadForm } = await import(dist('core/form.js'));
const { Engine } = await import(dist('core/engine.js'));
const { createContext, checkAnswers } = await import(dist('core/context.js'));
const { provGen } = await import(dist('core/provgen/index.js'));
const { toInfrastructure } = await import(dist('core/provgen/config.js'));
const { render, BUILTIN_SCHEMAS, BUILTIN_TEMPLATES } = await import(dist('core/provgen/generate.js'));
const { createRequire } = await import('node:module');
const { z } = createRequire(join(root, 'packages/typedialog/package.json'))('zod');

/**
 * Wall and CPU time of one run. The machine is shared (2 cores, several engineers' test suites), so wall
 * time swings with other people's load; the targets are judged on this process's own CPU time (user +
 * system, one thread), and both are printed.
 */
async function timed(fn) {
  const c = process.cpuUsage();
  const t = performance.now();
  const value = await fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { value, wall, cpu: (u.user + u.system) / 1000 };
}

/** 30 fields: 10 text, 5 number, 3 confirm, 4 select, 2 multi-select, 3 date, 2 list, 1 password. */
function form30() {
  const f = [];
  for (let i = 0; i < 10; i++)
    f.push(
      `id = "t${i}"\ntype = "text"\nrequired = true\nvalidation.max_length = 40\n` +
        `validation.pattern = '^[a-z][a-z0-9-]*$'`,
    );
  for (let i = 0; i < 5; i++)
    f.push(`id = "n${i}"\ntype = "number"\nvalidation.min = 0\nvalidation.max = 1000\nvalidation.step = 1`);
  for (let i = 0; i < 3; i++) f.push(`id = "c${i}"\ntype = "confirm"\ndefault = false`);
  for (let i = 0; i < 4; i++) f.push(`id = "s${i}"\ntype = "select"\nrequired = true\noptions = ["a", "b", "c", "d"]`);
  for (let i = 0; i < 2; i++)
    f.push(`id = "m${i}"\ntype = "multi-select"\nwhen = "c0"\noptions = ["x", "y", "z"]\nvalidation.max_items = 2`);
  for (let i = 0; i < 3; i++) f.push(`id = "d${i}"\ntype = "date"\nvalidation.min = "2020-01-01"`);
  for (let i = 0; i < 2; i++)
    f.push(`id = "l${i}"\ntype = "list"\nwhen = "s0 != 'd'"\nvalidation.pattern = '^[a-z.]+$'`);
  f.push('id = "p0"\ntype = "password"\nvalidation.min_length = 8');
  const fields = f.map((x) => `[[sections.fields]]\n${x}`).join('\n');
  return `[form]\nid = "bench"\ntitle = "Bench"\n[[sections]]\nid = "s"\n${fields}\n`;
}

function answerSets(n) {
  const sets = [];
  for (let k = 0; k < n; k++) {
    const a = {};
    for (let i = 0; i < 10; i++) a[`t${i}`] = `name-${k}-${i}`;
    for (let i = 0; i < 5; i++) a[`n${i}`] = (k * 7 + i) % 1000;
    for (let i = 0; i < 3; i++) a[`c${i}`] = (k + i) % 2 === 0;
    for (let i = 0; i < 4; i++) a[`s${i}`] = 'abcd'[(k + i) % 4];
    for (let i = 0; i < 2; i++) a[`m${i}`] = k % 3 === 0 ? ['x', 'z'] : ['y'];
    for (let i = 0; i < 3; i++) a[`d${i}`] = `2024-0${1 + ((k + i) % 9)}-1${i}`;
    for (let i = 0; i < 2; i++) a[`l${i}`] = ['a.example', 'b.example'];
    a.p0 = 'correct horse';
    if (k % 10 === 0) a.t3 = 'Not Valid'; // one in ten is refused
    sets.push(a);
  }
  return sets;
}

/** What a hand-written zod schema of the same rules would be (no conditions, no messages). */
function zodBaseline() {
  const shape = {};
  for (let i = 0; i < 10; i++)
    shape[`t${i}`] = z
      .string()
      .max(40)
      .regex(/^[a-z][a-z0-9-]*$/u);
  for (let i = 0; i < 5; i++) shape[`n${i}`] = z.number().min(0).max(1000).int().optional();
  for (let i = 0; i < 3; i++) shape[`c${i}`] = z.boolean().optional();
  for (let i = 0; i < 4; i++) shape[`s${i}`] = z.enum(['a', 'b', 'c', 'd']);
  for (let i = 0; i < 2; i++)
    shape[`m${i}`] = z
      .array(z.enum(['x', 'y', 'z']))
      .max(2)
      .optional();
  for (let i = 0; i < 3; i++) shape[`d${i}`] = z.iso.date().optional();
  for (let i = 0; i < 2; i++) shape[`l${i}`] = z.array(z.string().regex(/^[a-z.]+$/u)).optional();
  shape.p0 = z.string().min(8).optional();
  return z.strictObject(shape);
}

async function benchValidation() {
  const engine = new Engine(parseForm(form30()));
  const schema = zodBaseline();
  const sets = answerSets(10_000);
  let refused = 0;
  let zodRefused = 0;
  for (const s of sets.slice(0, 500)) engine.validate(s); // warm-up (JIT)
  for (const s of sets.slice(0, 500)) schema.safeParse(s);
  const runs = [];
  const floors = [];
  for (let r = 0; r < 5; r++) {
    runs.push(
      await timed(() => {
        refused = 0;
        for (const s of sets) if (engine.validate(s).errors.length > 0) refused++;
      }),
    );
    floors.push(
      await timed(() => {
        zodRefused = 0;
        for (const s of sets) if (!schema.safeParse(s).success) zodRefused++;
      }),
    );
  }
  const cpu = median(runs.map((r) => r.cpu));
  const floor = median(floors.map((r) => r.cpu));
  const perSec = (10_000 / cpu) * 1000;
  const ok = perSec >= 10_000 && refused === 1000 && zodRefused === 1000;
  return {
    ok,
    row: {
      benchmark: 'validate 10,000 answer sets, 30 fields',
      'cpu ms': cpu.toFixed(1),
      'wall ms': median(runs.map((r) => r.wall)).toFixed(1),
      'baseline cpu ms': `${floor.toFixed(1)} (plain zod)`,
      ratio: (cpu / floor).toFixed(2),
      measured: `${Math.round(perSec).toLocaleString('en')} sets/s (${refused} refused)`,
      target: '>= 10,000 sets/s',
      result: ok ? 'ok' : 'MISSED',
    },
  };
}

async function benchProvGen() {
  const ctx = createContext(loadForm(join(root, 'examples/forms/cluster.toml')));
  const { values, errors } = await checkAnswers(
    ctx,
    { name: 'bench', provider: 'aws', worker_count: 47, kubernetes: true, monitoring: true },
    { defaults: true },
  );
  if (errors.length > 0) throw new Error(JSON.stringify(errors));
  const opts = { templatesDir: BUILTIN_TEMPLATES, schemasDir: BUILTIN_SCHEMAS, outDir: '/tmp/typedialog-bench' };
  await provGen(ctx, values, opts); // warm-up: JIT, template compilation, schema probe
  const full = [];
  const floors = [];
  let servers = 0;
  for (let r = 0; r < 9; r++) {
    const g = await timed(() => provGen(ctx, values, opts));
    full.push(g);
    servers = g.value.config.resources.servers.length;
    floors.push(
      await timed(() => {
        const { config } = toInfrastructure(values, () => 'aws');
        return render(config, { templatesDir: BUILTIN_TEMPLATES, form: ctx.form });
      }),
    );
  }
  const cpu = median(full.map((r) => r.cpu));
  const floor = median(floors.map((r) => r.cpu));
  const ok = cpu < 200 && servers === 50;
  return {
    ok,
    row: {
      benchmark: `prov-gen, ${servers} servers, Nickel-validated`,
      'cpu ms': cpu.toFixed(1),
      'wall ms': median(full.map((r) => r.wall)).toFixed(1),
      'baseline cpu ms': `${floor.toFixed(1)} (render only)`,
      ratio: (cpu / floor).toFixed(1),
      measured: `${cpu.toFixed(0)} ms per cluster (median of 9)`,
      target: '< 200 ms',
      result: ok ? 'ok' : 'MISSED',
    },
  };
}

export default async function typedialog() {
  const v = await benchValidation();
  const p = await benchProvGen();
  console.table([v.row, p.row]);
  return v.ok && p.ok;
}
