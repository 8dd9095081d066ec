/**
 * The web page of a form: plain HTML (it works without JavaScript), every text escaped, a CSRF token,
 * and a small script (CSP nonce) that hides the fields whose `when` is false with the engine's own
 * condition evaluator. The server validates again on submit with the same engine.
 */
import { conditionScript } from '../../core/condition.js';
import type { FormContext } from '../../core/context.js';
import type { FieldError } from '../../core/engine.js';
import type { Field } from '../../core/form.js';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC[c] as string);
}

/** What the page shows in each field: the submitted text, or the starting value as text. */
export type Texts = Record<string, string | string[]>;

export interface PageState {
  texts: Texts;
  errors: FieldError[];
  csrf: string;
  nonce: string;
  action: string;
}

const STYLE = `
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
fieldset{border:1px solid #ccd;border-radius:6px;margin:0 0 1.5rem;padding:1rem 1.25rem}
legend{font-weight:600;padding:0 .4rem}
.field{margin:0 0 1rem}.field>label,.field>.label{display:block;font-weight:500;margin-bottom:.25rem}
input[type=text],input[type=password],input[type=number],input[type=date],select,textarea{width:100%;
box-sizing:border-box;padding:.45rem;border:1px solid #99a;border-radius:4px;font:inherit}
.field [aria-invalid=true]{border-color:#c00;box-shadow:0 0 0 1px #c00}.help{color:#555;font-size:.9em;margin:.2rem 0}
.error{color:#b00;font-size:.9em;margin:.2rem 0}.req{color:#b00}
.summary{border:1px solid #c00;background:#fff0f0;padding:.75rem 1rem;border-radius:6px;margin-bottom:1rem}
.choices.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr))}
.choices label{display:block;font-weight:400}
button[type=submit]{font:inherit;font-weight:600;padding:.6rem 1.6rem;border:0;border-radius:6px;background:#0b57d0;
color:#fff;cursor:pointer}button[type=submit]:hover{background:#0842a0}
button[type=submit]:focus-visible{outline:3px solid #a8c7fa;outline-offset:2px}
nav.sections{position:sticky;top:0;background:#fff;padding:.5rem 0;margin:0 0 1rem;border-bottom:1px solid #dde;z-index:1}
nav.sections a{margin-right:1rem;color:#0b57d0;text-decoration:none}nav.sections a:hover{text-decoration:underline}`;

/** An HTML tag: every attribute value escaped; `true` writes a bare attribute, false/undefined none. */
function tag(name: string, attrs: Record<string, string | number | boolean | undefined>, body?: string): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? ` ${k}` : ` ${k}="${escapeHtml(String(v))}"`))
    .join('');
  return body === undefined ? `<${name}${a}>` : `<${name}${a}>${body}</${name}>`;
}

function fieldControl(ctx: FormContext, f: Field, text: string | string[] | undefined, invalid: boolean): string {
  const m = ctx.messages;
  const base = {
    id: `f-${f.id}`,
    name: f.id,
    'aria-describedby': `h-${f.id} e-${f.id}`,
    'aria-invalid': invalid ? 'true' : undefined,
  };
  const one = Array.isArray(text) ? text.join(', ') : (text ?? '');
  const placeholder = m.placeholder(f);
  switch (f.type) {
    case 'password':
      // A password is never written back into the page.
      return tag('input', { type: 'password', ...base, autocomplete: 'new-password' });
    case 'number':
      return tag('input', { type: 'number', ...base, step: f.validation.step ?? 'any', value: one, placeholder });
    case 'date':
      return tag('input', { type: 'date', ...base, value: one });
    case 'editor':
      return tag('textarea', { ...base, rows: 6, placeholder }, escapeHtml(one));
    case 'list':
      return tag(
        'textarea',
        { ...base, rows: 3, placeholder },
        escapeHtml(Array.isArray(text) ? text.join('\n') : one),
      );
    case 'confirm': {
      const radio = (yes: boolean, checked: boolean) => {
        const input = { type: 'radio', id: yes ? base.id : undefined, name: f.id, value: yes ? 'yes' : 'no', checked };
        return tag('label', {}, `${tag('input', input)} ${escapeHtml(m.yesNo(yes))}`);
      };
      const yes = /^(y|yes|true|1|s|si|sí)$/i.test(one);
      const no = /^(n|no|false|0)$/i.test(one);
      const group = { class: 'choices', role: 'radiogroup', 'aria-describedby': base['aria-describedby'] };
      return tag('div', group, `\n${radio(true, yes)}\n${radio(false, no)}`);
    }
    case 'select': {
      const opts = f.options.map((o) =>
        tag('option', { value: o.value, selected: o.value === one }, escapeHtml(m.optionLabel(f, o))),
      );
      return tag('select', base, [tag('option', { value: '', selected: one === '' }, '—'), ...opts].join(''));
    }
    case 'multi-select': {
      const chosen = Array.isArray(text) ? text : one.split(',').map((s) => s.trim());
      const boxes = f.options.map((o, i) => {
        const box = { type: 'checkbox', id: i === 0 ? base.id : undefined, name: f.id, value: o.value };
        return tag(
          'label',
          {},
          `${tag('input', { ...box, checked: chosen.includes(o.value) })} ${escapeHtml(m.optionLabel(f, o))}`,
        );
      });
      const group = { class: `choices ${f.display_mode}`, 'aria-describedby': base['aria-describedby'] };
      return tag('div', group, boxes.join('\n'));
    }
    default:
      return tag('input', { type: 'text', ...base, value: one, placeholder });
  }
}

function fieldBlock(ctx: FormContext, f: Field, state: PageState): string {
  const m = ctx.messages;
  const err = state.errors.find((e) => e.field === f.id);
  const help = m.help(f);
  const hint = f.type === 'list' ? m.t('web-list-hint') : undefined;
  const req = f.required ? ` <span class="req" title="${escapeHtml(m.t('web-required'))}">*</span>` : '';
  const group = f.type === 'confirm' || f.type === 'multi-select';
  const label = group
    ? `<span class="label">${escapeHtml(m.label(f))}${req}</span>`
    : `<label for="f-${escapeHtml(f.id)}">${escapeHtml(m.label(f))}${req}</label>`;
  const when = f.condition ? ` data-when="${escapeHtml(JSON.stringify(f.condition))}"` : '';
  return `<div class="field" id="w-${escapeHtml(f.id)}" data-type="${f.type}"${when}>
${label}
${fieldControl(ctx, f, state.texts[f.id], Boolean(err))}
<p class="help" id="h-${escapeHtml(f.id)}">${escapeHtml([help, hint].filter(Boolean).join(' · '))}</p>
<p class="error" id="e-${escapeHtml(f.id)}" role="alert">${err ? escapeHtml(m.error(err, f)) : ''}</p>
</div>`;
}

const SCRIPT = `
const form = document.querySelector('form');
function current() {
  const out = {};
  for (const w of document.querySelectorAll('.field')) {
    const id = w.id.slice(2);
    const t = w.dataset.type;
    if (w.hidden) continue;
    if (t === 'multi-select') {
      const xs = [...w.querySelectorAll('input:checked')].map((i) => i.value);
      if (xs.length) out[id] = xs;
    } else if (t === 'confirm') {
      const c = w.querySelector('input:checked');
      if (c) out[id] = c.value === 'yes';
    } else {
      const el = w.querySelector('input,select,textarea');
      const v = el ? el.value.trim() : '';
      if (v !== '') out[id] = t === 'number' && !isNaN(Number(v)) ? Number(v) : v;
    }
  }
  return out;
}
function refresh() {
  // In document order: a condition only reads earlier fields, already shown or hidden by then.
  for (const w of document.querySelectorAll('.field[data-when]')) {
    const show = evalCondition(JSON.parse(w.dataset.when), current());
    w.hidden = !show;
    for (const el of w.querySelectorAll('input,select,textarea')) el.disabled = !show;
  }
}
form.addEventListener('input', refresh);
form.addEventListener('change', refresh);
refresh();
`;

export function renderPage(ctx: FormContext, state: PageState): string {
  const m = ctx.messages;
  const form = ctx.form;
  const desc = m.formDescription(form);
  const errors = state.errors;
  const items = errors.map((e) => {
    const f = form.byId.get(e.field);
    const who = f ? `${tag('a', { href: `#f-${f.id}` }, escapeHtml(m.label(f)))}: ` : '';
    return `<li>${who}${escapeHtml(m.error(e, f))}</li>`;
  });
  const head = `<strong>${escapeHtml(m.t('web-errors', { count: errors.length }))}</strong>`;
  const summary =
    errors.length > 0 ? tag('div', { class: 'summary', role: 'alert' }, `${head}<ul>${items.join('')}</ul>`) : '';
  // A form of several sections gets links to each, kept at the top while scrolling.
  const nav =
    form.sections.length > 1
      ? tag(
          'nav',
          { class: 'sections', 'aria-label': m.t('web-sections') },
          form.sections.map((s) => tag('a', { href: `#s-${s.id}` }, escapeHtml(m.sectionTitle(s)))).join(''),
        )
      : '';
  const sections = form.sections.map((s) => {
    const sd = m.sectionDescription(s);
    return `<fieldset id="s-${escapeHtml(s.id)}"><legend>${escapeHtml(m.sectionTitle(s))}</legend>
${sd ? `<p class="help">${escapeHtml(sd)}</p>` : ''}
${s.fields.map((f) => fieldBlock(ctx, f, state)).join('\n')}
</fieldset>`;
  });
  return `<!doctype html>
<html lang="${escapeHtml(m.locale)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(m.formTitle(form))}</title>
<style nonce="${state.nonce}">${STYLE}</style></head>
<body><h1>${escapeHtml(m.formTitle(form))}</h1>
${desc ? `<p>${escapeHtml(desc)}</p>` : ''}
${nav}
${summary}
<form method="post" action="${escapeHtml(state.action)}" novalidate>
<input type="hidden" name="_csrf" value="${escapeHtml(state.csrf)}">
${sections.join('\n')}
<button type="submit">${escapeHtml(m.t('web-submit'))}</button>
</form>
<script nonce="${state.nonce}">${conditionScript()}
${SCRIPT}</script>
</body></html>
`;
}

export function renderMessage(ctx: FormContext, nonce: string, title: string, text: string): string {
  return `<!doctype html>
<html lang="${escapeHtml(ctx.messages.locale)}"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p id="done">${escapeHtml(text)}</p></body></html>
`;
}
