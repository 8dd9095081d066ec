import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../cli/base.js';
import type { VaultResponse } from '../../client/index.js';

/**
 * The request body of a transit operation from the arguments after the key name: KEY=VALUE pairs
 * of the endpoint's fields go in as Vault takes them (base64 data), and one bare argument is the
 * `bare` field (raw data, base64-encoded here unless it is a ciphertext). Without either, the data
 * comes from stdin (raw bytes), so files and pipes work: `transit sign k < release.tar.gz`.
 */
export async function transitBody(
  args: string[],
  fields: string[],
  bare: { field: string; encode: boolean },
  batchFile?: string,
): Promise<Record<string, unknown>> {
  const isPair = (a: string) => fields.some((f) => a.startsWith(`${f}=`));
  const body = parsePairs(args.filter(isPair));
  const rest = args.filter((a) => !isPair(a));
  if (rest.length > 1) {
    throw usageError(`unexpected argument '${rest[1]}'`, { hint: `pass KEY=VALUE pairs of ${fields.join(', ')}` });
  }
  if (batchFile !== undefined) {
    body.batch_input = readBatch(batchFile);
    return body;
  }
  if (rest[0] !== undefined) body[bare.field] = bare.encode ? Buffer.from(rest[0]).toString('base64') : rest[0];
  if (body[bare.field] === undefined) {
    if (process.stdin.isTTY) {
      throw usageError(`no ${bare.field} given`, { hint: `pass it as an argument, as ${bare.field}=..., or on stdin` });
    }
    // As a stream: node has made a piped stdin non-blocking, so a synchronous read could fail.
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const input = Buffer.concat(chunks);
    body[bare.field] = bare.encode ? input.toString('base64') : input.toString('utf8').trim();
  }
  return body;
}

function readBatch(file: string): unknown[] {
  let items: unknown;
  try {
    items = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw usageError(`cannot read the batch input ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(items)) throw usageError(`${file} must hold a JSON array of items`);
  return items;
}

/**
 * Prints one line per batch result (`field` of each, or its error); when an item failed, exit 1
 * after the others were printed (with --json the results are in the error's details).
 */
export function printBatch(cmd: Command, r: VaultResponse | undefined, field: string): void {
  const results = (r?.data?.batch_results ?? []) as Record<string, unknown>[];
  if (!cmd.jsonEnabled()) for (const x of results) cmd.log(x.error ? `error: ${x.error}` : String(x[field]));
  const failed = results.filter((x) => x.error).length;
  if (failed) {
    throw new StratumError('failure', `${failed} of ${results.length} batch items failed`, {
      details: { batch_results: results },
    });
  }
}

/** Vault answers a batch with failed items 400; asking for 200 gets the per-item results instead. */
export const batchStatus = { partial_failure_response_code: 200 };

export const mountFlag = Flags.string({ description: 'the transit mount', default: 'transit', helpValue: '<path>' });
export const batchFlag = Flags.string({
  description: 'JSON file with an array of items (objects with the same fields) to process at once',
  helpValue: '<file>',
});

export default class TransitEncrypt extends ClientCommand<typeof TransitEncrypt> {
  static override summary = 'Encrypt data with a named key (vault:vN: ciphertext)';
  static override description =
    'Data comes as plaintext=<base64> (as Vault takes it), as one raw argument, or on stdin. Prints the ciphertext. ' +
    'As in Vault, a missing key is created (aes256-gcm96, or type=...) unless the mount disables it.';
  static override strict = false;
  static override args = {
    key: Args.string({ description: 'key name', required: true }),
    data: Args.string({
      description: 'plaintext=<base64>, context=..., associated_data=..., or raw data',
    }),
  };
  static override flags = {
    'key-version': Flags.integer({ description: 'key version to use (default: the latest)', min: 1 }),
    'batch-input': batchFlag,
    mount: mountFlag,
  };
  static override examples = [
    '<%= config.bin %> transit encrypt payments plaintext=$(base64 <<< "4111 1111 1111 1111")',
    '<%= config.bin %> transit encrypt payments "4111 1111 1111 1111"',
    '<%= config.bin %> transit encrypt payments --batch-input items.json',
  ];

  async run() {
    const body = await transitBody(
      this.rest(1),
      ['plaintext', 'context', 'associated_data', 'key_version', 'type'],
      { field: 'plaintext', encode: true },
      this.flags['batch-input'],
    );
    if (this.flags['key-version'] !== undefined) body.key_version = this.flags['key-version'];
    if (body.batch_input) Object.assign(body, batchStatus);
    const r = await this.client().write(`${this.flags.mount}/encrypt/${this.args.key}`, body);
    if (body.batch_input) printBatch(this, r, 'ciphertext');
    else if (!this.jsonEnabled()) this.log(String(r?.data?.ciphertext));
    return r;
  }
}
