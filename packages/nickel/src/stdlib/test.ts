import { bool } from '../eval.js';
import { blame } from '../values.js';
import { def, predicate, type Table } from './kit.js';

/** `std.test`. */
export function testStd(): Table {
  return {
    Assert: predicate(
      'std.test.Assert',
      (v) => v.k === 'bool' && v.v,
      () => 'assertion failed',
    ),
    assert_all: def(['array'], ([items]) => {
      items.forEach((t, i) => {
        const v = t.force();
        if (v.k !== 'bool' || !v.v)
          blame(
            { path: [`[${i}]`], notes: [], contractName: 'std.test.Assert', message: `assertion ${i} failed` },
            t.pos,
          );
      });
      return bool(true);
    }),
  };
}
