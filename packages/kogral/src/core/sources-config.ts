/**
 * `[[sources]]` tables in .kogral/config.toml, added and removed as text so that the rest of the
 * file (comments, order) stays as the user wrote it.
 */

export interface SourceEntry {
  path: string;
  type: string;
  name: string;
}

const q = (s: string) => JSON.stringify(s);

export function addSourceBlock(toml: string, e: SourceEntry): string {
  const base = toml.endsWith('\n') || toml === '' ? toml : `${toml}\n`;
  return `${base}\n[[sources]]\npath = ${q(e.path)}\ntype = ${q(e.type)}\nname = ${q(e.name)}\n`;
}

/**
 * Removes the `[[sources]]` tables for which `match(path, name)` is true (a table runs up to the
 * next table header). Returns the new text and how many tables went.
 */
export function removeSourceBlocks(
  toml: string,
  match: (values: Record<string, string>) => boolean,
): { text: string; removed: number } {
  const lines = toml.split('\n');
  const out: string[] = [];
  let removed = 0;
  for (let i = 0; i < lines.length; ) {
    if (/^\s*\[\[\s*sources\s*\]\]\s*(#.*)?$/.test(lines[i] as string)) {
      let j = i + 1;
      const values: Record<string, string> = {};
      while (j < lines.length && !/^\s*\[/.test(lines[j] as string)) {
        const m = /^\s*(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*')/.exec(lines[j] as string);
        if (m) {
          const raw = m[2] as string;
          values[m[1] as string] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        }
        j++;
      }
      if (match(values)) {
        removed++;
        while (out.length > 0 && (out[out.length - 1] as string).trim() === '') out.pop();
        out.push('');
        i = j;
        continue;
      }
    }
    out.push(lines[i] as string);
    i++;
  }
  return { text: out.join('\n').replace(/\n{3,}/g, '\n\n'), removed };
}
