import { join } from 'node:path';
import type { NoteFiles } from './files.js';
import type { NodeType } from './model.js';

/**
 * Body templates per node type. `{{name}}` is replaced by the field's value; a `## Section`
 * whose content comes out empty is left out. A graph overrides a type's template with
 * `.kogral/templates/<type>.md`.
 */
export const DEFAULT_TEMPLATES: Record<NodeType, string> = {
  note: '# {{title}}\n\n{{body}}\n',
  decision: [
    '# {{title}}',
    '',
    '## Context and Problem Statement',
    '',
    '{{context}}',
    '',
    '## Decision Outcome',
    '',
    '{{decision}}',
    '',
    '## Consequences',
    '',
    '{{consequences}}',
    '',
    '## More Information',
    '',
    '{{body}}',
    '',
  ].join('\n'),
  guideline: '# {{title}}\n\n{{body}}\n\n## Rationale\n\n{{rationale}}\n\n## Examples\n\n{{examples}}\n',
  pattern: [
    '# {{title}}',
    '',
    '{{body}}',
    '',
    '## Problem',
    '',
    '{{problem}}',
    '',
    '## Solution',
    '',
    '{{solution}}',
    '',
    '## Consequences',
    '',
    '{{consequences}}',
    '',
  ].join('\n'),
  journal: '# {{title}}\n\n{{entry}}\n',
  execution: [
    '# {{title}}',
    '',
    '{{context}}',
    '',
    '## Timeline',
    '',
    '{{timeline}}',
    '',
    '## Root Cause',
    '',
    '{{root_cause}}',
    '',
    '## Resolution',
    '',
    '{{resolution}}',
    '',
    '## Action Items',
    '',
    '{{action_items}}',
    '',
    '## Related Resources',
    '',
    '{{related_resources}}',
    '',
  ].join('\n'),
};

/** The template for a type: `.kogral/templates/<type>.md` when the graph has one, else the default. */
export function loadTemplate(files: NoteFiles, graphDir: string | undefined, type: NodeType): string {
  if (graphDir) {
    try {
      return files.read(join(graphDir, 'templates', `${type}.md`)).toString('utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return DEFAULT_TEMPLATES[type];
}

/** Fills `{{name}}` placeholders and drops `## Sections` left empty. */
export function renderTemplate(template: string, fields: Record<string, string | undefined>): string {
  const filled = template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, k: string) => (fields[k] ?? '').trim());
  const parts = filled.split(/^(?=#{2,6} )/m);
  const kept = parts.filter((p, i) => i === 0 || p.replace(/^#{2,6} [^\n]*\n?/, '').trim() !== '');
  return `${kept
    .join('')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/** `- [ ] item` lines for action items. */
export const checklist = (items: string[]): string => items.map((i) => `- [ ] ${i}`).join('\n');
export const bullets = (items: string[]): string => items.map((i) => `- ${i}`).join('\n');
