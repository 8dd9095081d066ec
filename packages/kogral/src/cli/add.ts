import * as Args from '@oclif/core/args';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import type { AddInput, WriteResult } from '../core/kogral.js';
import type { NodeType } from '../core/model.js';
import { KogralCommand, splitList, tagFlag } from './base.js';
import { askLines, PromptCancelled } from './prompt.js';

export const commonAddFlags = {
  tag: tagFlag(),
  status: Flags.string({ description: 'status (default depends on the type)' }),
  author: Flags.string({ description: 'author (default: config author, $GIT_AUTHOR_NAME or $USER)' }),
  alias: Flags.string({
    description: 'another name for the node (repeatable)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  meta: Flags.string({
    description: 'free metadata key=value (repeatable)',
    multiple: true,
    multipleNonGreedy: true,
    helpValue: '<key=value>',
  }),
};

/** The title argument: asked for on a terminal when left out. */
export const titleArg = () => Args.string({ description: 'title (asked for on a terminal when left out)' });

export const bodyFlags = {
  body: Flags.string({ description: 'markdown body, or - for stdin' }),
  'body-file': Flags.string({ description: 'read the markdown body from this file', helpValue: '<file>' }),
};

/** A value an `add` command needs: given by a flag (or the title argument), or asked for. */
export interface Needed<K extends string> {
  key: K;
  value: string | undefined;
  /** How to pass it: `--context`, or `a title` for the argument. */
  flag: string;
  /** The prompt. */
  label: string;
}

/** What every `add <type>` command shares: flags, missing values (prompts on a terminal), output. */
export abstract class AddCommand<T extends typeof Command> extends KogralCommand<T> {
  /**
   * Every needed value: the given ones, and the missing ones asked on a terminal. Off a
   * terminal (or under CI) nothing is asked: exit 2 naming every missing flag.
   */
  protected async fill<K extends string>(type: NodeType, needed: Needed<K>[]): Promise<Record<K, string>> {
    const missing = needed.filter((n) => n.value === undefined);
    if (missing.length > 0 && (!process.stdin.isTTY || process.env.CI)) {
      const flags = missing.map((m) => m.flag);
      const list = flags.length === 1 ? flags[0] : `${flags.slice(0, -1).join(', ')} and ${flags.at(-1)}`;
      throw usageError(`'kogral add ${type}' needs ${list}`, {
        hint: `pass ${list}; kogral asks only on a terminal (stdin is not one${process.env.CI ? ', or CI is set' : ''})`,
        details: { missing: flags },
      });
    }
    let answers: string[] = [];
    try {
      answers = missing.length > 0 ? await askLines(missing.map((m) => m.label)) : [];
    } catch (e) {
      if (!(e instanceof PromptCancelled)) throw e;
      process.stderr.write('kogral: cancelled, nothing written\n');
      this.exit(130);
    }
    const out = {} as Record<K, string>;
    for (const n of needed) out[n.key] = n.value ?? (answers.shift() as string);
    return out;
  }

  protected meta(values: string[] | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const v of values ?? []) {
      const i = v.indexOf('=');
      if (i <= 0) throw usageError(`--meta '${v}' is not key=value`);
      const key = v.slice(0, i).trim();
      if (['id', 'type', 'title', 'tags', 'status', 'created', 'updated', 'relations'].includes(key))
        throw usageError(`--meta cannot set '${key}'`, { hint: `use the --${key === 'tags' ? 'tag' : key} flag` });
      out[key] = v.slice(i + 1);
    }
    return out;
  }

  protected async create(
    input: Omit<AddInput, 'tags' | 'aliases' | 'metadata'>,
    f: { tag?: string[]; alias?: string[]; meta?: string[]; author?: string; status?: string },
  ) {
    const app = await this.app();
    const full: AddInput = {
      ...input,
      tags: splitList(f.tag),
      aliases: f.alias ?? [],
      metadata: this.meta(f.meta),
      ...(f.status ? { status: f.status } : {}),
      ...(f.author ? { author: f.author } : {}),
    };
    const r = await app.kg.add(full);
    return this.report(r, 'created');
  }

  protected report(r: WriteResult, verb: string) {
    this.log(`${verb} ${r.node.type} ${r.node.id} (${this.rel(r.path)})`);
    for (const a of r.also) this.log(`  ${a.node.id} is now ${a.node.status}`);
    return {
      id: r.node.id,
      type: r.node.type,
      title: r.node.title,
      status: r.node.status,
      tags: r.node.tags,
      path: r.path,
      also: r.also.map((a) => ({ id: a.node.id, status: a.node.status, path: a.path })),
    };
  }
}
