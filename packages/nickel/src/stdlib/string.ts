import { bool, frozen, num, str } from '../eval.js';
import { Num } from '../number.js';
import { evalError, typeName, type Value } from '../values.js';
import { arr, def, int, type Kit, predicate, type Table, tag, v2t } from './kit.js';
import {
  graphemeIndex,
  graphemes,
  regex,
  regexMatches,
  replaceAt,
  splitGraphemeSafe,
  substringMatches,
} from './text.js';

const matchRecord = (s: string, m: RegExpExecArray | null): Value => {
  if (!m) return frozen({ matched: v2t(str('')), index: v2t(int(-1)), groups: v2t(arr([])) });
  return frozen({
    matched: v2t(str(m[0])),
    index: v2t(int(graphemeIndex(s, m.index))),
    groups: v2t(arr(m.slice(1).map((g) => str(g ?? '')))),
  });
};

/** `std.string`: lengths, matches and slices count grapheme clusters, as Nickel does. */
export function stringStd(_k: Kit): Table {
  return {
    // The elements are checked before the separator.
    join: def(['any', 'array'], ([sep, items], w) => str(items.map((t) => w.arg('str', t)).join(w.arg('str', sep)))),
    split: def(['str', 'str'], ([sep, s]) => arr(splitGraphemeSafe(s, sep).map(str)), { lastFirst: true }),
    trim: def(['str'], ([s]) => str(s.trim())),
    characters: def(['str'], ([s]) => arr(graphemes(s).map(str))),
    uppercase: def(['str'], ([s]) => str(s.toUpperCase())),
    lowercase: def(['str'], ([s]) => str(s.toLowerCase())),
    // Matching never cuts a grapheme cluster apart: "❤" is not found inside a family emoji.
    contains: def(['str', 'str'], ([sub, s]) => bool(substringMatches(s, sub).length > 0), { lastFirst: true }),
    replace: def(['str', 'str', 'str'], ([p, r, text]) =>
      str(
        replaceAt(
          text,
          substringMatches(text, p).map((index) => ({ index, length: p.length })),
          r,
        ),
      ),
    ),
    // The pattern is compiled before the other arguments are checked.
    replace_regex: def(['str', 'any', 'any'], ([pat, rep, s], w) => {
      const re = regex(w.name, pat);
      const r = w.arg('str', rep);
      const text = w.arg('str', s);
      return str(
        replaceAt(
          text,
          regexMatches(text, re).map((m) => ({ index: m.index, length: m[0].length })),
          r,
        ),
      );
    }),
    is_match: def(['str', 'any'], ([pat, s], w) => {
      const re = regex(w.name, pat);
      return bool(regexMatches(w.arg('str', s), re, true).length > 0);
    }),
    find: def(
      ['str', 'str'],
      ([pat, text], w) => matchRecord(text, regexMatches(text, regex(w.name, pat), true)[0] ?? null),
      { lastFirst: true },
    ),
    find_all: def(
      ['str', 'str'],
      ([pat, text], w) => arr(regexMatches(text, regex(w.name, pat)).map((m) => matchRecord(text, m))),
      { lastFirst: true },
    ),
    length: def(['str'], ([s]) => int(graphemes(s).length)),
    substring: def(
      ['int', 'int', 'str'],
      ([start, end, s], _w, [a]) => {
        const g = graphemes(s);
        if (start < 0 || end > g.length || start > end) {
          return evalError(
            'EvalError::Other',
            `substring: invalid range [${start}, ${end}) of a string of ${g.length} characters`,
            a?.pos,
          );
        }
        return str(g.slice(start, end).join(''));
      },
      { lastFirst: true },
    ),
    from: def(['stringable'], ([s]) => str(s)),
    from_number: def(['num'], ([x]) => str(x.toNickelString())),
    from_enum: def(['value'], ([v], w) => {
      if (v.k !== 'enum' || v.arg) return w.blame('an enum tag', v);
      return str(v.tag);
    }),
    from_bool: def(['bool'], ([b]) => str(String(b))),
    to_number: def(['str'], ([text], w) => {
      if (!Num.isNumberLiteral(text)) return w.blame('std.string.NumberLiteral', str(text));
      return num(Num.parseNumberString(text));
    }),
    to_bool: def(['str'], ([text], w) => {
      if (text !== 'true' && text !== 'false') return w.blame('std.string.BoolLiteral', str(text));
      return bool(text === 'true');
    }),
    to_enum: def(['str'], ([s]) => tag(s)),
    NonEmpty: predicate(
      'std.string.NonEmpty',
      (v) => v.k === 'str' && v.v.length > 0,
      (v) => (v.k === 'str' ? 'empty string' : `expected a String, got ${typeName(v)}`),
    ),
    Matches: def(['str'], ([pattern], w) =>
      predicate(
        `std.string.Matches "${pattern}"`,
        (v) => v.k === 'str' && regex(w.name, pattern).test(v.v),
        () => `expected a string matching /${pattern}/`,
      ),
    ),
    BoolLiteral: predicate('std.string.BoolLiteral', (v) => v.k === 'str' && (v.v === 'true' || v.v === 'false')),
    NumberLiteral: predicate('std.string.NumberLiteral', (v) => v.k === 'str' && Num.isNumberLiteral(v.v)),
    Character: predicate('std.string.Character', (v) => v.k === 'str' && graphemes(v.v).length === 1),
    Stringable: predicate(
      'std.string.Stringable',
      (v) => ['str', 'num', 'bool', 'null'].includes(v.k) || (v.k === 'enum' && !v.arg),
    ),
  };
}
