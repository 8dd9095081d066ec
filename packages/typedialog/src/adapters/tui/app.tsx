/**
 * The ink app of the tui backend: one question at a time with its section, keyboard navigation
 * (Enter next, Esc back), inline messages from the engine, and a review screen where any answer can be
 * reopened before the submit, which runs the same `checkAnswers` as every backend.
 */
import { Box, type Key, Text, useInput, useStdout } from 'ink';
import { useEffect, useReducer, useRef } from 'react';
import { conditionFields, evalCondition } from '../../core/condition.js';
import type { FormContext } from '../../core/context.js';
import type { Answers, FieldError, ValidationResult } from '../../core/engine.js';
import { isEmpty } from '../../core/engine.js';
import type { Field } from '../../core/form.js';
import { answerFromText, valueText } from '../../core/input.js';

export interface AppProps {
  ctx: FormContext;
  initial?: Answers;
  /** Open on the review screen with `initial` as the answers (drafts to check), instead of the first question. */
  reviewFirst?: boolean;
  check: (values: Answers) => Promise<ValidationResult>;
  onDone: (values: Answers) => void;
  onCancel: () => void;
}

interface Draft {
  text: string;
  /** Where typing goes in `text` (←/→ move it). */
  caret: number;
  cursor: number;
  chosen: string[];
  yes?: boolean;
}

interface State {
  values: Answers;
  drafts: Map<string, Draft>;
  /** Index in the active fields, or -1 on the review screen. */
  pos: number;
  error?: string;
  backToReview: boolean;
  reviewCursor: number;
  reviewErrors: FieldError[];
  busy: boolean;
}

const GRID_COLUMNS = 3;

function startDraft(field: Field, v: unknown): Draft {
  const chosen = Array.isArray(v) ? v.map(String) : [];
  const index = field.options.findIndex((o) => o.value === v);
  const text = field.type === 'password' ? '' : valueText(field, v);
  return {
    text,
    caret: text.length,
    cursor: Math.max(0, index),
    chosen,
    ...(typeof v === 'boolean' ? { yes: v } : {}),
  };
}

export function FormApp({ ctx, initial = {}, reviewFirst = false, check, onDone, onCancel }: AppProps) {
  const { form, engine, messages: m } = ctx;
  const [, render] = useReducer((n: number) => n + 1, 0);
  const st = useRef<State>({
    values: {},
    drafts: new Map(),
    pos: 0,
    backToReview: false,
    reviewCursor: 0,
    reviewErrors: [],
    busy: false,
  }).current;

  const active = () => engine.activeFields(st.values);
  const draftOf = (field: Field): Draft => {
    let d = st.drafts.get(field.id);
    if (!d) {
      const start = field.id in st.values ? st.values[field.id] : (initial[field.id] ?? engine.defaultOf(field));
      d = startDraft(field, start);
      st.drafts.set(field.id, d);
    }
    return d;
  };

  // Drafts under review: every active field takes its draft (or its default), in form order, so that a condition
  // opened by an earlier draft counts; then the review screen shows them with what the check refuses.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once, when the app opens
  useEffect(() => {
    if (!reviewFirst) return;
    for (let grew = true; grew; ) {
      grew = false;
      for (const f of active()) {
        if (f.id in st.values) continue;
        const v = f.id in initial ? initial[f.id] : engine.defaultOf(f);
        if (isEmpty(v)) continue;
        st.values[f.id] = v;
        grew = true;
      }
    }
    void review();
  }, []);

  const review = async () => {
    st.pos = -1;
    st.error = undefined;
    st.busy = true;
    render();
    const r = await check(st.values);
    st.busy = false;
    st.reviewErrors = r.errors;
    const fields = active();
    const first = fields.findIndex((f) => r.errors.some((e) => e.field === f.id));
    st.reviewCursor = first >= 0 ? first : fields.length;
    render();
  };

  const submitReview = async () => {
    st.busy = true;
    render();
    const r = await check(st.values);
    st.busy = false;
    if (r.errors.length === 0) {
      onDone(r.values);
      return;
    }
    st.reviewErrors = r.errors;
    const first = active().findIndex((f) => r.errors.some((e) => e.field === f.id));
    if (first >= 0) st.reviewCursor = first;
    render();
  };

  const draftValue = (field: Field, d: Draft): { value: unknown; error?: FieldError } => {
    switch (field.type) {
      case 'confirm': {
        const error = engine.checkValue(field, d.yes);
        return error ? { value: d.yes, error } : { value: d.yes };
      }
      case 'select': {
        const v = field.options[d.cursor]?.value;
        const error = engine.checkValue(field, v);
        return error ? { value: v, error } : { value: v };
      }
      case 'multi-select': {
        const v = field.options.filter((o) => d.chosen.includes(o.value)).map((o) => o.value);
        const error = engine.checkValue(field, v);
        return error ? { value: v, error } : { value: v };
      }
      default:
        return answerFromText(engine, field, d.text);
    }
  };

  const submitField = (field: Field) => {
    const r = draftValue(field, draftOf(field));
    if (r.error) {
      st.error = m.error(r.error, field);
      render();
      return;
    }
    if (isEmpty(r.value)) delete st.values[field.id];
    else st.values[field.id] = r.value;
    st.error = undefined;
    const fields = active();
    const next = fields.findIndex((f) => f.id === field.id) + 1;
    if (st.backToReview || next >= fields.length) {
      st.backToReview = false;
      void review();
      return;
    }
    st.pos = next;
    render();
  };

  useInput((input, key) => {
    // Keys that arrive in one chunk (a paste, a fast terminal, several backspaces in one read): one at a time.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: Enter, Backspace (DEL, BS) and Ctrl+U are split out
    if (input.length > 1 && /[\r\u007f\b\u0015]/.test(input) && !key.ctrl && !key.meta) {
      const none = { ...key, return: false, backspace: false, delete: false, ctrl: false };
      // biome-ignore lint/suspicious/noControlCharactersInRegex: same split as the test above
      for (const part of input.split(/([\r\u007f\b\u0015])/)) {
        if (part === '') continue;
        if (part === '\r') handle('', { ...none, return: true });
        else if (part === '\u007f' || part === '\b') handle('', { ...none, backspace: true });
        else if (part === '\u0015') handle('u', { ...none, ctrl: true });
        else handle(part, none);
      }
      return;
    }
    // A line feed is Enter: Ctrl+J, or an Enter typed before the tui put the terminal in raw mode (the terminal
    // turned its \r into \n), which would otherwise be typed into the answer.
    if (input === '\n') {
      handle('', { ...key, return: true });
      return;
    }
    handle(input, key);
  });

  function handle(input: string, key: Key) {
    if (key.ctrl && input === 'c') {
      onCancel();
      return;
    }
    if (st.busy) return;
    const fields = active();
    if (st.pos < 0) {
      const rows = fields.length + 1;
      if (key.upArrow) st.reviewCursor = (st.reviewCursor + rows - 1) % rows;
      else if (key.downArrow || key.tab) st.reviewCursor = (st.reviewCursor + 1) % rows;
      else if (key.escape && fields.length > 0) st.pos = fields.length - 1;
      else if (key.return) {
        if (st.reviewCursor >= fields.length) {
          void submitReview();
          return;
        }
        st.pos = st.reviewCursor;
        st.backToReview = true;
      }
      render();
      return;
    }
    const field = fields[Math.min(st.pos, fields.length - 1)];
    if (!field) return;
    const d = draftOf(field);
    if (key.escape) {
      if (st.pos > 0) st.pos--;
      st.error = undefined;
      st.backToReview = false;
      render();
      return;
    }
    switch (field.type) {
      case 'confirm':
        if (key.return) return submitField(field);
        if (/^[ys]$/i.test(input)) d.yes = true;
        else if (/^n$/i.test(input)) d.yes = false;
        else if (key.leftArrow || key.rightArrow || input === ' ') d.yes = !(d.yes ?? false);
        break;
      case 'select':
        if (key.return) return submitField(field);
        if (key.upArrow) d.cursor = (d.cursor + field.options.length - 1) % field.options.length;
        else if (key.downArrow) d.cursor = (d.cursor + 1) % field.options.length;
        else if (/^[1-9]$/.test(input) && Number(input) <= field.options.length) d.cursor = Number(input) - 1;
        break;
      case 'multi-select': {
        if (key.return) return submitField(field);
        const n = field.options.length;
        const step = field.display_mode === 'grid' ? GRID_COLUMNS : 1;
        if (key.upArrow) d.cursor = (d.cursor - step + n) % n;
        else if (key.downArrow) d.cursor = (d.cursor + step) % n;
        else if (key.leftArrow) d.cursor = (d.cursor + n - 1) % n;
        else if (key.rightArrow) d.cursor = (d.cursor + 1) % n;
        else if (input === ' ') {
          const v = field.options[d.cursor]?.value as string;
          d.chosen = d.chosen.includes(v) ? d.chosen.filter((x) => x !== v) : [...d.chosen, v];
        }
        break;
      }
      default: {
        const editor = field.type === 'editor';
        if (editor && key.ctrl && input === 'd') return submitField(field);
        const caret = Math.min(d.caret, d.text.length);
        const insert = (t: string) => {
          d.text = d.text.slice(0, caret) + t + d.text.slice(caret);
          d.caret = caret + t.length;
        };
        if (key.return) {
          if (!editor) return submitField(field);
          insert('\n');
        } else if (key.backspace || key.delete) {
          if (caret > 0) {
            d.text = d.text.slice(0, caret - 1) + d.text.slice(caret);
            d.caret = caret - 1;
          }
        } else if (key.leftArrow) d.caret = Math.max(0, caret - 1);
        else if (key.rightArrow) d.caret = Math.min(d.text.length, caret + 1);
        else if ((key.ctrl && input === 'a') || key.home) d.caret = 0;
        else if ((key.ctrl && input === 'e') || key.end) d.caret = d.text.length;
        else if (key.ctrl && input === 'u') {
          d.text = '';
          d.caret = 0;
        } else if (!key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow && input) {
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is dropped
          insert(input.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').replace(/\r/g, editor ? '\n' : ''));
        }
      }
    }
    render();
  }

  const fields = active();
  const title = <Text bold>{m.formTitle(form)}</Text>;
  const { stdout } = useStdout();

  /**
   * "question N of M" without M growing as conditions open fields: M counts the active fields up to this one, and
   * every later field unless its condition reads only earlier answers and is false.
   */
  const questionCount = (current: Field): number => {
    const at = form.fields.indexOf(current);
    const order = new Map(form.fields.map((f, i) => [f.id, i]));
    return form.fields.filter((f, i) => {
      if (!f.condition) return true;
      if (i <= at) return engine.isActive(f, st.values);
      const decided = conditionFields(f.condition).every((n) => (order.get(n) ?? 0) < at);
      return decided ? evalCondition(f.condition, st.values) : true;
    }).length;
  };

  if (st.pos < 0) {
    const errorOf = (f: Field) => st.reviewErrors.find((e) => e.field === f.id);
    const formLevel = st.reviewErrors.filter((e) => !form.byId.has(e.field));
    return (
      <Box flexDirection="column">
        {title}
        <Text>{m.t(reviewFirst ? 'review-drafts-title' : 'review-title')}</Text>
        {st.reviewErrors.length > 0 ? (
          <Text color="red">{m.t('review-errors', { count: st.reviewErrors.length })}</Text>
        ) : null}
        {formLevel.map((e) => (
          <Text key={`form-${e.code}`} color="red">
            ✖ {m.error(e)}
          </Text>
        ))}
        {(() => {
          // Every line of the review, then a window of them around the cursor: a long form scrolls on a short terminal.
          const lines: { key: string; node: React.ReactNode; row?: number }[] = [];
          for (const s of form.sections) {
            const rows = fields.filter((f) => f.section === s.id);
            if (rows.length === 0) continue;
            lines.push({ key: `gap-${s.id}`, node: <Text> </Text> });
            lines.push({ key: `s-${s.id}`, node: <Text underline>{m.sectionTitle(s)}</Text> });
            for (const f of rows) {
              const i = fields.indexOf(f);
              const err = errorOf(f);
              const v = st.values[f.id];
              const shown = v === undefined ? m.t('review-empty') : reviewText(ctx, f, v);
              lines.push({
                key: `f-${f.id}`,
                row: i,
                node: (
                  <Text inverse={st.reviewCursor === i}>
                    {st.reviewCursor === i ? '❯ ' : '  '}
                    {m.label(f)}: {shown}
                  </Text>
                ),
              });
              if (err) lines.push({ key: `e-${f.id}`, node: <Text color="red"> ✖ {m.error(err, f)}</Text> });
            }
          }
          const fixed = 6 + (st.reviewErrors.length > 0 ? 1 : 0) + formLevel.length;
          const height = Math.max(3, (stdout?.rows || 24) - fixed - 2);
          if (lines.length <= height) return lines.map((l) => <Box key={l.key}>{l.node}</Box>);
          const at =
            st.reviewCursor >= fields.length ? lines.length - 1 : lines.findIndex((l) => l.row === st.reviewCursor);
          const first = Math.max(0, Math.min(at - Math.floor(height / 2), lines.length - height));
          const shown = lines.slice(first, first + height);
          const below = lines.length - first - height;
          return [
            <Text key="above" dimColor>
              {first > 0 ? m.t('review-more-above', { count: first }) : ' '}
            </Text>,
            ...shown.map((l) => <Box key={l.key}>{l.node}</Box>),
            <Text key="below" dimColor>
              {below > 0 ? m.t('review-more-below', { count: below }) : ' '}
            </Text>,
          ];
        })()}
        <Box marginTop={1}>
          <Text inverse={st.reviewCursor >= fields.length} bold>
            {st.reviewCursor >= fields.length ? '❯ ' : '  '}
            {st.busy ? m.t('checking') : m.t('review-submit')}
          </Text>
        </Box>
        <Text dimColor>{m.t('review-hint')}</Text>
      </Box>
    );
  }

  const field = fields[Math.min(st.pos, fields.length - 1)] as Field;
  const section = form.sections.find((s) => s.id === field.section);
  const sectionIndex = form.sections.findIndex((s) => s.id === field.section);
  const d = draftOf(field);
  const help = m.help(field);
  return (
    <Box flexDirection="column">
      {title}
      <Text dimColor>
        {section ? m.sectionTitle(section) : ''} ·{' '}
        {m.t('section-progress', { index: sectionIndex + 1, count: form.sections.length })} ·{' '}
        {m.t('field-progress', { index: st.pos + 1, count: questionCount(field) })}
      </Text>
      <Box marginTop={1} flexDirection="column">
        <Text bold>
          {m.label(field)}
          {field.required ? <Text color="red"> *</Text> : null}
        </Text>
        {help ? <Text dimColor>{help}</Text> : null}
        <FieldView ctx={ctx} field={field} draft={d} />
        {st.error ? <Text color="red">✖ {st.error}</Text> : null}
      </Box>
      <Box marginTop={1}>
        <Text dimColor>{m.t('nav-hint')}</Text>
      </Box>
    </Box>
  );
}

function reviewText(ctx: FormContext, f: Field, v: unknown): string {
  const m = ctx.messages;
  if (f.type === 'password') return '••••••';
  if (typeof v === 'boolean') return m.yesNo(v);
  const label = (x: unknown) => {
    const o = f.options.find((op) => op.value === x);
    return o ? m.optionLabel(f, o) : valueText(f, x);
  };
  if (Array.isArray(v)) return v.map(label).join(', ');
  if (f.type === 'editor') return String(v).split('\n')[0] + (String(v).includes('\n') ? ' …' : '');
  return label(v);
}

function FieldView({ ctx, field, draft }: { ctx: FormContext; field: Field; draft: Draft }) {
  const m = ctx.messages;
  switch (field.type) {
    case 'confirm':
      return (
        <Box flexDirection="column">
          <Text>
            <Text inverse={draft.yes === true}> {m.yesNo(true)} </Text>{' '}
            <Text inverse={draft.yes === false}> {m.yesNo(false)} </Text>
          </Text>
          <Text dimColor>{m.t('confirm-hint')}</Text>
        </Box>
      );
    case 'select':
      return (
        <Box flexDirection="column">
          {field.options.map((o, i) => (
            <Text key={o.value} color={i === draft.cursor ? 'cyan' : undefined}>
              {i === draft.cursor ? '❯ ' : '  '}
              {m.optionLabel(field, o)}
            </Text>
          ))}
          <Text dimColor>{m.t('select-hint')}</Text>
        </Box>
      );
    case 'multi-select': {
      const cells = field.options.map((o, i) => (
        <Box key={o.value} width={field.display_mode === 'grid' ? 22 : undefined}>
          <Text color={i === draft.cursor ? 'cyan' : undefined}>
            {i === draft.cursor ? '❯' : ' '}
            {draft.chosen.includes(o.value) ? '[x] ' : '[ ] '}
            {m.optionLabel(field, o)}
          </Text>
        </Box>
      ));
      const rows: React.ReactNode[] = [];
      const per = field.display_mode === 'grid' ? GRID_COLUMNS : 1;
      for (let i = 0; i < cells.length; i += per) {
        rows.push(
          <Box key={`row-${i}`} flexDirection="row">
            {cells.slice(i, i + per)}
          </Box>,
        );
      }
      return (
        <Box flexDirection="column">
          {rows}
          <Text dimColor>{m.t('multi-hint')}</Text>
        </Box>
      );
    }
    default: {
      const shown = field.type === 'password' ? '*'.repeat(draft.text.length) : draft.text;
      const caret = Math.min(draft.caret, shown.length);
      const at = shown[caret];
      const ph = m.placeholder(field);
      const hint = field.type === 'editor' ? m.t('editor-hint') : field.type === 'list' ? m.t('list-hint') : undefined;
      return (
        <Box flexDirection="column">
          <Text>
            <Text color="cyan">› </Text>
            {shown === '' && ph ? <Text dimColor>{ph}</Text> : shown.slice(0, caret)}
            <Text inverse>{at === undefined || at === '\n' ? ' ' : at}</Text>
            {at === '\n' ? '\n' : ''}
            {shown.slice(caret + 1)}
          </Text>
          {hint ? <Text dimColor>{hint}</Text> : null}
        </Box>
      );
    }
  }
}
