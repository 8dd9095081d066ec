import { type Evaluator, frozen } from './eval.js';
import { arrayStd } from './stdlib/array.js';
import { contractStd } from './stdlib/contract.js';
import { enumStd } from './stdlib/enum.js';
import { functionStd } from './stdlib/function.js';
import { Kit, v2t } from './stdlib/kit.js';
import { numberStd } from './stdlib/number.js';
import { recordStd } from './stdlib/record.js';
import { stringStd } from './stdlib/string.js';
import { testStd } from './stdlib/test.js';
import { topStd } from './stdlib/top.js';
import type { RecordValue } from './values.js';

/**
 * The `std` record. Each namespace (stdlib/<name>.ts) is a table of functions, each declaring what its arguments
 * must be; one wrapper (Kit.define) checks them and blames the caller for a wrong one, as Nickel's typed functions
 * do.
 */
export function buildStd(ev: Evaluator): RecordValue {
  const k = new Kit(ev);
  const std = k.fields('std', topStd(k));
  const namespaces = {
    array: arrayStd(k),
    record: recordStd(k),
    string: stringStd(k),
    number: numberStd(),
    enum: enumStd(k),
    function: functionStd(k),
    contract: contractStd(k),
    test: testStd(),
  };
  for (const [ns, table] of Object.entries(namespaces)) std.set(ns, v2t(k.module(`std.${ns}`, table)));
  return frozen(std);
}
