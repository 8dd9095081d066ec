/** An agent's `contract: nickel://…`: the output checked against a Nickel contract (@stratumiops/nickel). */

/** Whether the contract file evaluates at all: the error text, or undefined. */
export async function contractProblemAt(path: string, dir: string): Promise<string | undefined> {
  const nickel = await import('@stratumiops/nickel');
  try {
    await nickel.evaluateFile(path, { importPaths: [dir] });
    return undefined;
  } catch (e) {
    if (e instanceof nickel.NickelError) return nickel.formatNickelError(e);
    throw e;
  }
}

/** The contract's verdict on a value: [] when it holds, else one line saying where and why it breaks. */
export async function contractProblems(value: unknown, path: string, dir: string): Promise<string[]> {
  const nickel = await import('@stratumiops/nickel');
  try {
    await nickel.applyContract(value, path, { importPaths: [dir] });
    return [];
  } catch (e) {
    if (!(e instanceof nickel.NickelError)) throw e;
    const where = e.fieldPath.length > 0 ? e.fieldPath.join('.') : '(the whole output)';
    const title = e.title.replace(/^contract broken by (?:the value of `[^`]*`|a value)(?::\s*)?/s, '').trim();
    return [`${where}: ${title || 'breaks the contract'}`];
  }
}
