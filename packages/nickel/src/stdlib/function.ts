import { def, type Kit, type Table, v2t } from './kit.js';

/** `std.function`: arguments stay lazy (thunks) until the function uses them. */
export function functionStd(k: Kit): Table {
  return {
    id: def(['any'], ([x]) => x.force()),
    const: def(['any', 'any'], ([x]) => x.force()),
    first: def(['any', 'any'], ([x]) => x.force()),
    second: def(['any', 'any'], ([, y]) => y.force()),
    compose: def(['any', 'any', 'any'], ([g, f, x]) => k.call(g.force(), v2t(k.call(f.force(), x)))),
    flip: def(['any', 'any', 'any'], ([f, x, y]) => k.call(f.force(), y, x)),
    pipe: def(['any', 'array'], ([x, fs]) => {
      let acc = x;
      for (const f of fs) acc = v2t(k.call(f.force(), acc));
      return acc.force();
    }),
  };
}
