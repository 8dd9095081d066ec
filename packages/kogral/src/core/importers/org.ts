/**
 * Logseq org-mode pages, read as the markdown pages Logseq writes for the same content, so the
 * Logseq importer treats both alike: `#+key: value` lines and the first property drawer become
 * page properties (`key:: value`), headings become outline blocks, block drawers become block
 * properties (`id:: uuid` for block references), src and quote blocks become fences and quotes,
 * `[[url][label]]` a markdown link, `[[Page][label]]` a labelled wikilink. Nothing else is touched.
 */

const DRAWER_LINE = /^\s*:([\w-]+):\s*(.*)$/;
const URLISH = /^([a-z][\w+.-]*:|\/|\.\.?\/)/i;

function orgLinks(line: string): string {
  return line.replace(/\[\[([^[\]]+)\]\[([^[\]]+)\]\]/g, (_all, target: string, label: string) =>
    URLISH.test(target) ? `[${label}](${target.replace(/^file:/, '')})` : `[[${target}|${label}]]`,
  );
}

const under = (indent: string | undefined) => (indent === undefined ? '' : `${indent}  `);

/** Org text as Logseq-flavoured markdown. */
export function orgToMarkdown(org: string): string {
  const lines = org.replace(/\r\n/g, '\n').split('\n');
  const props: string[] = [];
  let i = 0;
  // Page properties: `#+key: value` lines and a :PROPERTIES: drawer, before the first block.
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    const kw = /^#\+([\w-]+):\s*(.*)$/.exec(line);
    if (kw) {
      const key = (kw[1] as string).toLowerCase();
      const value = (kw[2] as string).trim();
      // org's own `:a:b:` filetags are Logseq tags.
      if (key === 'filetags') props.push(`tags:: ${value.split(':').filter(Boolean).join(', ')}`);
      else props.push(`${key}:: ${value}`);
      continue;
    }
    if (/^\s*:PROPERTIES:\s*$/i.test(line)) {
      for (i++; i < lines.length && !/^\s*:END:\s*$/i.test(lines[i] as string); i++) {
        const m = DRAWER_LINE.exec(lines[i] as string);
        if (m) props.push(`${(m[1] as string).toLowerCase()}:: ${(m[2] as string).trim()}`);
      }
      continue;
    }
    if (line.trim() !== '') break;
  }
  const out: string[] = [...props];
  if (props.length > 0) out.push('');
  // Text under a heading belongs to its block (indented); text before any heading is the page's.
  let indent: string | undefined;
  let block: { end: RegExp; quote: boolean } | undefined;
  let drawer = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (block) {
      if (block.end.test(line)) {
        if (!block.quote) out.push(`${under(indent)}\`\`\``);
        block = undefined;
      } else out.push(block.quote ? `${under(indent)}> ${orgLinks(line.trim())}` : `${under(indent)}${line}`);
      continue;
    }
    if (drawer) {
      if (/^\s*:END:\s*$/i.test(line)) drawer = false;
      else {
        const m = DRAWER_LINE.exec(line);
        if (m) out.push(`${under(indent)}${(m[1] as string).toLowerCase()}:: ${(m[2] as string).trim()}`);
      }
      continue;
    }
    if (/^\s*:PROPERTIES:\s*$/i.test(line)) {
      drawer = true;
      continue;
    }
    const begin = /^\s*#\+BEGIN_(\w+)\s*(.*)$/i.exec(line);
    if (begin) {
      const kind = (begin[1] as string).toUpperCase();
      const quote = kind === 'QUOTE';
      block = { end: new RegExp(`^\\s*#\\+END_${kind}\\s*$`, 'i'), quote };
      if (!quote) out.push(`${under(indent)}\`\`\`${kind === 'SRC' ? (begin[2] as string).split(/\s+/)[0] : ''}`);
      continue;
    }
    const heading = /^(\*+)\s+(.*)$/.exec(line);
    if (heading) {
      indent = '  '.repeat((heading[1] as string).length - 1);
      out.push(`${indent}- ${orgLinks(heading[2] as string)}`);
      continue;
    }
    out.push(line.trim() === '' ? '' : `${under(indent)}${orgLinks(line.trim())}`);
  }
  return `${out.join('\n').replace(/\n+$/, '')}\n`;
}
