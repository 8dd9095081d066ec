import { type Command, Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import type { AddInput, WriteResult } from '../core/kogral.js';
import type { NodeType } from '../core/model.js';
import { KogralCommand, splitList, tagFlag } from './base.js';

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

export const bodyFlags = {
  body: Flags.string({ description: 'markdown body, or - for stdin' }),
  'body-file': Flags.string({ description: 'read the markdown body from this file', helpValue: '<file>' }),
};

export interface MissingField {
  flag: string;
  what: string;
}

/** What every `add <type>` command shares: flags, the missing-field rule, output. */
export abstract class AddCommand<T extends typeof Command> extends KogralCommand<T> {
  /**
   * Prompts are not available (no prompt library is installed): on a terminal the missing
   * fields are listed; off a terminal (or under CI) the command never waits for input. Both exit 2.
   */
  protected requireFields(type: NodeType, missing: MissingField[]): void {
    if (missing.length === 0) return;
    const flags = missing.map((m) => m.flag);
    const list = flags.length === 1 ? flags[0] : `${flags.slice(0, -1).join(', ')} and ${flags.at(-1)}`;
    const tty = Boolean(process.stdin.isTTY) && !process.env.CI;
    throw usageError(`'kogral add ${type}' needs ${list}`, {
      hint: tty
        ? `missing: ${missing.map((m) => `${m.flag} (${m.what})`).join('; ')}`
        : `pass ${list}; kogral never prompts when stdin is not a terminal`,
      details: { missing: flags },
    });
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
