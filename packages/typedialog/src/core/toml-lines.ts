/**
 * Where each key of a TOML document is, by its data path (`sections.1.fields.0.type`), so that errors
 * found on the parsed value can name a line. smol-toml has already checked the syntax; this only scans
 * headers, `key = value` lines and the lines of multi-line arrays.
 */
export class TomlLines {
  private readonly lines = new Map<string, number>();

  constructor(text: string) {
    this.scan(text.split(/\r?\n/));
  }

  /** The line of `path`, else of its closest recorded parent (1-based; 0 when nothing matches). */
  lineOf(path: readonly (string | number)[]): number {
    for (let n = path.length; n >= 0; n--) {
      const line = this.lines.get(path.slice(0, n).join('.'));
      if (line !== undefined) return line;
    }
    return 0;
  }

  private record(path: (string | number)[], line: number): void {
    const key = path.join('.');
    if (!this.lines.has(key)) this.lines.set(key, line);
  }

  private scan(src: string[]): void {
    const arrayCounts = new Map<string, number>();
    let table: (string | number)[] = [];
    // Concrete path of a header's dotted key: array-of-tables parents resolve to their latest element.
    const resolve = (segs: string[]): (string | number)[] => {
      const out: (string | number)[] = [];
      for (const s of segs) {
        out.push(s);
        const n = arrayCounts.get(out.join('.'));
        if (n !== undefined) out.push(n - 1);
      }
      return out;
    };
    let inArray: { path: (string | number)[]; depth: number; index: number } | undefined;
    let inMultiline: string | undefined;
    for (let i = 0; i < src.length; i++) {
      const lineNo = i + 1;
      const raw = src[i] ?? '';
      if (inMultiline) {
        if (raw.includes(inMultiline)) inMultiline = undefined;
        continue;
      }
      const text = stripComment(raw).trim();
      if (inArray) {
        if (text === '' || text.startsWith(']')) {
          inArray.depth += depthChange(text);
          if (inArray.depth <= 0) inArray = undefined;
          continue;
        }
        if (inArray.depth === 1) {
          const element = [...inArray.path, inArray.index++];
          this.record(element, lineNo);
          for (const k of inlineKeys(text)) this.record([...element, k], lineNo);
        }
        inArray.depth += depthChange(text);
        if (inArray.depth <= 0) inArray = undefined;
        continue;
      }
      if (text === '') continue;
      const arrayHeader = /^\[\[\s*(.+?)\s*\]\]$/.exec(text);
      if (arrayHeader) {
        const segs = splitKey(arrayHeader[1] ?? '');
        const parent = resolve(segs.slice(0, -1));
        const key = [...parent, segs.at(-1) ?? ''].join('.');
        const n = (arrayCounts.get(key) ?? 0) + 1;
        arrayCounts.set(key, n);
        table = [...parent, segs.at(-1) ?? '', n - 1];
        this.record(table, lineNo);
        continue;
      }
      const header = /^\[\s*(.+?)\s*\]$/.exec(text);
      if (header) {
        table = resolve(splitKey(header[1] ?? ''));
        this.record(table, lineNo);
        continue;
      }
      const eq = findEquals(text);
      if (eq < 0) continue;
      const path = [...table, ...splitKey(text.slice(0, eq))];
      this.record(path, lineNo);
      const value = text.slice(eq + 1).trim();
      for (const q of ['"""', "'''"]) {
        if (value.startsWith(q) && value.indexOf(q, 3) < 0) inMultiline = q;
      }
      if (value.startsWith('{')) for (const k of inlineKeys(value)) this.record([...path, k], lineNo);
      if (value.startsWith('[')) {
        const depth = depthChange(value);
        if (depth > 0) inArray = { path, depth, index: countElements(value) };
      }
    }
  }
}

/**
 * Calls `fn` with each character outside quoted strings and its index (a backslash escapes the next
 * character in a "basic" string); the scan stops when `fn` returns true.
 */
function eachOutsideStrings(text: string, fn: (c: string, i: number) => boolean | undefined): void {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (fn(c, i)) return;
  }
}

function stripComment(line: string): string {
  let end = line.length;
  eachOutsideStrings(line, (c, i) => {
    if (c !== '#') return false;
    end = i;
    return true;
  });
  return line.slice(0, end);
}

/** Net change of bracket depth on a line, ignoring brackets inside strings. */
function depthChange(text: string): number {
  let d = 0;
  eachOutsideStrings(text, (c) => {
    if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
    return false;
  });
  return d;
}

/** Elements that start on the opening line of a multi-line array (`options = [ "a", "b",`). */
function countElements(value: string): number {
  const body = value.slice(1).trim();
  if (body === '') return 0;
  let n = 1;
  let d = 0;
  eachOutsideStrings(body, (c, i) => {
    if (c === '[' || c === '{') d++;
    else if (c === ']' || c === '}') d--;
    else if (c === ',' && d === 0 && body.slice(i + 1).trim() !== '') n++;
    return false;
  });
  return n;
}

function findEquals(text: string): number {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '=') return i;
  }
  return -1;
}

/** `a."b.c".d` → ['a', 'b.c', 'd'] */
function splitKey(key: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const c of key.trim()) {
    if (quote) {
      if (c === quote) quote = undefined;
      else cur += c;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '.') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** Top-level keys of an inline table on one line: `{ value = "a", label = "A" }` → value, label. */
function inlineKeys(text: string): string[] {
  const open = text.indexOf('{');
  if (open < 0) return [];
  const keys: string[] = [];
  const re = /[{,]\s*([A-Za-z0-9_-]+)\s*=/g;
  for (let m = re.exec(text.slice(open)); m; m = re.exec(text.slice(open))) keys.push(m[1] ?? '');
  return keys;
}
