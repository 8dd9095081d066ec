import { type Provider, ProviderError } from '../../src/core/provider.js';
import type { Attrs, DesiredResource, ResourceRecord } from '../../src/core/types.js';

type Op = 'create' | 'update' | 'delete';

/**
 * An in-memory provider implementing prov's provider interface: its objects live in a map, every
 * create/update/delete is logged in `calls` in the order made, and a test scripts what goes wrong:
 * `fail(op, address, ...errors)` throws those errors on the next calls, in turn; `crashAt(op, address)`
 * makes the change and then never answers (the process "dies" mid-call: a test abandons that run and
 * resumes it from its checkpoints).
 */
export class MemoryProvider implements Provider {
  readonly name: string;
  readonly kinds = ['thing'];
  /** The real objects: address → attributes and the id the provider gave it. */
  readonly objects = new Map<string, { id: string; attrs: Attrs }>();
  /** `create thing.a`, `update thing.a`, `delete thing.a`, in call order (reads are not logged). */
  readonly calls: string[] = [];
  private readonly failures = new Map<string, (Error | 'crash')[]>();
  private readonly forcing: Record<string, string[]>;
  private serial = 0;
  private onCrash!: () => void;
  /** Settles when a call scripted with crashAt has made its change and stopped answering. */
  readonly crashed = new Promise<void>((resolve) => {
    this.onCrash = resolve;
  });

  constructor(opts: { name?: string; replaceOn?: Record<string, string[]> } = {}) {
    this.name = opts.name ?? 'memory';
    this.forcing = opts.replaceOn ?? {};
  }

  fail(op: Op, address: string, ...errors: Error[]): this {
    this.failures.set(`${op} ${address}`, [...(this.failures.get(`${op} ${address}`) ?? []), ...errors]);
    return this;
  }

  crashAt(op: Op, address: string): this {
    this.failures.set(`${op} ${address}`, [...(this.failures.get(`${op} ${address}`) ?? []), 'crash']);
    return this;
  }

  /** The attributes of the real object, or undefined when there is none. */
  attrsOf(address: string): Attrs | undefined {
    return this.objects.get(address)?.attrs;
  }

  replaceOn(kind: string) {
    return this.forcing[kind] ?? [];
  }

  async read(rec: ResourceRecord) {
    return this.objects.get(rec.address)?.attrs ?? null;
  }

  async create(res: DesiredResource) {
    return this.call('create', res.address, () => {
      // Safe to repeat: an object already there under this address is adopted.
      const id = this.objects.get(res.address)?.id ?? `${res.name}-${++this.serial}`;
      this.objects.set(res.address, { id, attrs: structuredClone(res.attrs) });
      return { id };
    });
  }

  async update(res: DesiredResource, prev: ResourceRecord) {
    return this.call('update', res.address, () => {
      const o = this.objects.get(prev.address);
      if (!o) throw new ProviderError(`${prev.address} does not exist`);
      o.attrs = structuredClone(res.attrs);
      return { id: o.id };
    });
  }

  async delete(rec: ResourceRecord) {
    await this.call('delete', rec.address, () => {
      this.objects.delete(rec.address);
    });
  }

  async test() {
    return [];
  }

  async close() {}

  private async call<T>(op: Op, address: string, effect: () => T): Promise<T> {
    this.calls.push(`${op} ${address}`);
    const next = this.failures.get(`${op} ${address}`)?.shift();
    if (next instanceof Error) throw next;
    const out = effect();
    if (next === 'crash') {
      this.onCrash();
      await new Promise<never>(() => {});
    }
    return out;
  }
}
