import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { draftAnswers, draftPrompts } from '../src/core/ai.js';
import { createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { createBackend } from '../src/runtime.js';
import { llmProjects, scripted } from './fake-llm.js';
import { cluster, ctxFor, field, now, onboarding, oneSectionForm, typedialog } from './helpers.js';

const STAGING = { name: 'staging', provider: 'aws', region: 'eu-west-1', environment: 'staging', worker_count: 3 };

describe('the ai backend core', () => {
  it('describes every field but passwords to the model, with rules, options, conditions and defaults', () => {
    const ctx = createContext(loadForm(onboarding), { now });
    const p = draftPrompts(ctx, 'Ada, an engineer starting next month');
    expect(p.user).toBe('Description:\nAda, an engineer starting next month');
    expect(p.system).toContain('Today is 2026-03-15.');
    expect(p.system).toContain('- full_name (string, required): Full Name');
    expect(p.system).toMatch(/- skills \(array of option values, optional\): .*\n {2}options: rust \(Rust\)/);
    expect(p.system).toMatch(/only when: department == 'engineering'/);
    expect(p.system).not.toMatch(/- password \(/);
  });

  it('drafts go through the form check; a refused draft is sent back once with the errors; passwords are never taken', async () => {
    const ctx = createContext(loadForm(cluster), { now });
    const caller = scripted([{ ...STAGING, name: 'Staging Cluster!' }, STAGING]);
    const d = await draftAnswers(ctx, '3-node staging cluster in eu-west', caller);
    expect(d.errors).toEqual([]);
    expect(d.values).toMatchObject({ name: 'staging', environment: 'staging', control_plane_count: 3 });
    expect(d.calls).toHaveLength(2);
    const repair = caller.requests[1]?.messages[2]?.content ?? '';
    expect(repair).toContain('These answers are refused by the form:');
    expect(repair).toContain('- name: use lowercase letters, digits and dashes (2-42 characters)');

    const onb = createContext(loadForm(onboarding), { now });
    const d2 = await draftAnswers(onb, 'x', scripted([{ full_name: 'Ada', password: 'hunter2', colour: 'red' }]), {
      repairs: 0,
      given: { full_name: 'Ada Lovelace' },
    });
    expect(d2.dropped).toEqual(['password', 'colour']);
    expect(d2.answers.full_name).toBe('Ada Lovelace');
    expect(d2.errors.map((e) => e.field)).toContain('password');
  });
});

describe('the ai backend on a terminal', () => {
  it('shows the drafts for review in the cli backend: Enter keeps a draft, the password is asked, edits win', async () => {
    const ci = process.env.CI;
    delete process.env.CI;
    try {
      const ctx = ctxFor(
        oneSectionForm(
          'p',
          'P',
          field('name', 'text', { label: 'Name', required: true }),
          field('pin', 'password', { label: 'PIN', required: true }),
          field('plan', 'select', { label: 'Plan', options: ['free', 'pro'] }),
        ),
      );
      const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {} });
      const output = new PassThrough();
      let screen = '';
      output.on('data', (d: Buffer) => {
        screen += d.toString();
      });
      const seen = (s: string) => stripVTControlCharacters(screen).includes(s);
      const until = async (s: string) => {
        for (let i = 0; i < 150 && !seen(s); i++) await new Promise((r) => setTimeout(r, 20));
      };
      const caller = scripted([{ name: 'ada', plan: 'pro', pin: 'from-the-model' }]);
      const run = (await createBackend('ai')).execute(ctx, {
        input,
        output,
        ai: { describe: 'Ada on the pro plan', caller, yes: false, review: 'cli' },
      });
      await until('Name');
      expect(stripVTControlCharacters(screen)).toContain('ada');
      input.write('\r');
      await until('PIN');
      input.write('1234\r');
      await until('Plan');
      input.write('\r');
      expect(await run).toEqual({ name: 'ada', pin: '1234', plan: 'pro' });
      expect(caller.requests).toHaveLength(1);
    } finally {
      if (ci !== undefined) process.env.CI = ci;
    }
  });
});

describe('typedialog run --backend ai (the real binary, against a local OpenAI-wire server)', () => {
  const { project } = llmProjects(
    (url) => `[providers.openai]\nbase_url = "${url}"\n\n[ai]\nmodel = "openai:gpt-4o-mini"\n\n[llm]\nbackoff_ms = 0\n`,
  );

  it('fills examples/forms/cluster.toml from a description (--yes): valid drafts accepted, the rest from defaults', async () => {
    const p = await project(() => ({ text: JSON.stringify(STAGING) }));
    const r = await typedialog(
      ['run', cluster, '--backend', 'ai', '--describe', '3-node staging cluster in eu-west with postgres', '--yes'],
      { cwd: p.dir, env: p.env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ...STAGING,
      control_plane_count: 3,
      vpc_cidr: '10.0.0.0/16',
      kubernetes: true,
    });
    expect(r.stderr).toMatch(
      /^typedialog: ai drafted 5 answers with openai:gpt-4o-mini-2024-07-18 \(1 call, .*¢, recorded in .*costs\.jsonl\)\n$/,
    );
    const body = p.srv.requests[0]?.body as { messages: { role: string; content: string }[]; response_format: unknown };
    expect(body.response_format).toEqual({ type: 'json_object' });
    expect(body.messages[0]?.content).toContain('- vpc_cidr (string, optional)');
    expect(body.messages[1]?.content).toBe('Description:\n3-node staging cluster in eu-west with postgres');
    const costs = readFileSync(join(p.dir, 'data', 'costs.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(costs[0] as string)).toMatchObject({ taskType: `typedialog:ai:${cluster}`, role: 'developer' });
  });

  it('a draft that breaks a field rule is caught: exit 3 naming the field, after one repair', async () => {
    const p = await project(() => ({
      text: JSON.stringify({ ...STAGING, name: 'Staging Cluster!', worker_count: -2 }),
    }));
    const r = await typedialog(
      ['run', cluster, '--backend', 'ai', '--describe', 'staging', '--yes', '--out', 'x.json'],
      {
        cwd: p.dir,
        env: p.env,
      },
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('typedialog: 2 answers are invalid (the ai draft)');
    expect(r.stderr).toContain('  - Cluster name (name): use lowercase letters, digits and dashes (2-42 characters)');
    expect(r.stderr).toMatch(/worker_count\): must be at least/);
    expect(p.srv.requests).toHaveLength(2);
  });

  it('a model that never answers a JSON object fails with --yes (exit 3), instead of passing on the defaults', async () => {
    const p = await project(() => ({ text: 'Sure! A staging cluster named staging, 3 workers.' }));
    const r = await typedialog(['run', cluster, '--backend', 'ai', '--describe', 'staging', '--yes'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'typedialog: the ai draft cannot be used after 2 calls: the answer contains no JSON object',
    );
    expect(p.srv.requests).toHaveLength(2);
    const sent = p.srv.requests[1]?.body.messages as { content: string }[] | undefined;
    expect(sent?.at(-1)?.content).toContain(
      'These answers are refused by the form:\n- the answer contains no JSON object',
    );
  });

  it('an answer that names no field of the form (all nested under one key) is sent back, not taken as "all defaults"', async () => {
    const p = await project((n) => ({ text: JSON.stringify(n === 0 ? { cluster: STAGING } : STAGING) }));
    const r = await typedialog(['run', cluster, '--backend', 'ai', '--describe', 'staging', '--yes'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject(STAGING);
    const sent = p.srv.requests[1]?.body.messages as { content: string }[] | undefined;
    expect(sent?.at(-1)?.content).toContain('- the answer names no field of the form (it has: cluster)');
  });

  it('off a terminal without --yes, or without --describe: exit 2 and no call', async () => {
    const p = await project(() => ({ text: '{}' }));
    const r = await typedialog(['run', cluster, '--backend', 'ai', '--describe', 'x'], { cwd: p.dir, env: p.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the ai backend shows its drafts for review on a terminal, and this is not one');
    expect(r.stderr).toContain('pass --yes');
    const d = await typedialog(['run', cluster, '--backend', 'ai', '--yes'], { cwd: p.dir, env: p.env });
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('pass --describe TEXT');
    writeFileSync(join(p.dir, 'photo.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]));
    writeFileSync(join(p.dir, 'empty.txt'), '\n');
    for (const [file, says] of [
      ['photo.jpg', 'photo.jpg is not UTF-8 text'],
      ['empty.txt', 'empty.txt is empty'],
    ] as const) {
      const b = await typedialog(['run', cluster, '--backend', 'ai', '--describe', `@${file}`, '--yes'], {
        cwd: p.dir,
        env: p.env,
      });
      expect(b.code).toBe(2);
      expect(b.stderr).toContain(`--describe @${file}: ${says}`);
    }
    const y = await typedialog(['run', cluster, '--yes', '--defaults'], { cwd: p.dir, env: p.env });
    expect(y.code).toBe(2);
    expect(y.stderr).toContain('--yes is for the ai and agent backends');
    expect(p.srv.requests).toHaveLength(0);
  });

  it('--backend agent: the JSON output of an agent of yours drafts the answers, checked by the form', async () => {
    const p = await project(() => ({ text: JSON.stringify({ ...STAGING, kubernetes: false }) }));
    const agent = join(cluster, '..', '..', 'agents', 'cluster_drafter.agent.mdx');
    const args = ['run', cluster, '--backend', 'agent', '--agent', agent, '--model', 'openai:gpt-4o-mini', '--yes'];
    const r = await typedialog([...args, '--var', 'request=3-node staging cluster in eu-west'], {
      cwd: p.dir,
      env: p.env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ...STAGING, kubernetes: false });
    expect(JSON.parse(r.stdout)).not.toHaveProperty('pod_cidr');
    expect(r.stderr).toMatch(/^typedialog: agent drafted 6 answers with openai:/);
    const body = p.srv.requests[0]?.body as { messages: { role: string; content: string }[] };
    expect(body.messages[1]?.content).toBe('Draft the cluster for this request: 3-node staging cluster in eu-west');
    const missing = await typedialog(args, { cwd: p.dir, env: p.env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("variable 'request' is missing");
    const stray = await typedialog(['run', cluster, '--agent', agent, '--defaults'], { cwd: p.dir, env: p.env });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('--agent is for the agent backend');
    expect(p.srv.requests).toHaveLength(1);
  });
});
