import { describe, expect, it } from 'vitest';
import { evaluate, NickelError } from '../src/index.js';

async function failure(src: string): Promise<NickelError> {
  try {
    await evaluate(src, { mode: 'full' });
  } catch (e) {
    if (e instanceof NickelError) return e;
    throw e;
  }
  throw new Error(`expected a NickelError from ${src}`);
}

// What a user sees of the std functions' argument checks: the caller is blamed, at the argument, with the contract.
describe('std argument checks', () => {
  it('blames the caller of the function, pointing at the wrong argument', async () => {
    const e = await failure('std.array.at "x" [1]');
    expect(e.kind).toBe('EvalError::BlameError');
    expect(e.message).toBe('contract broken by the caller of `at`: expected Number, got String (expected Number)');
    expect(e.span).toMatchObject({ line: 1, column: 14, end: 16 });
    const min = await failure('std.number.min 1 "a"');
    expect(min.message).toContain('caller of `min`: expected Number, got String');
    expect(min.span).toMatchObject({ column: 18 });
  });

  it('checks the value worked on first, and array elements before the other arguments', async () => {
    // Both arguments wrong: the array (the subject) is reported.
    expect((await failure('std.array.at "x" "y"')).message).toContain('expected Array, got String');
    // The elements of the array are checked before the separator.
    expect((await failure('std.string.join 1 [2]')).span).toMatchObject({ column: 20 });
    expect((await failure('std.string.join 1 ["a"]')).span).toMatchObject({ column: 17 });
    expect((await failure('std.array.first []')).message).toContain('empty array');
    expect((await failure('std.array.generate (fun i => i) 1.5')).message).toContain('std.number.Integer');
  });

  it('curries, and leaves unchecked arguments lazy', async () => {
    expect(await evaluate('let at1 = std.array.at 1 in at1 [10, 20]')).toBe(20);
    expect(await evaluate('std.array.map (1 / 0) []', { mode: 'full' })).toEqual([]);
    expect(await evaluate('std.record.get_or "b" (1 / 0) { b = 2 }')).toBe(2);
    expect(await evaluate('std.contract.label.with_message "m" 1 |> std.is_record').catch((e) => e.message)).toContain(
      'caller of `with_message`: expected a contract label',
    );
  });

  it('namespaces hold their contracts and constants next to the functions', async () => {
    expect(await evaluate('std.number.pi > 3.14 && std.number.pi < 3.15')).toBe(true);
    expect(await evaluate('std.array.length (std.record.fields std.string) > 20')).toBe(true);
    expect((await failure('[] | std.array.NonEmpty')).message).toContain('empty array');
    expect(await evaluate('std.typeof null')).toEqual({ tag: 'Other' });
  });
});
