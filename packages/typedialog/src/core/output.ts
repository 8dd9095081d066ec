/** The result of a form in json, yaml, toml or Nickel. */
import { stringify as toToml } from 'smol-toml';
import YAML from 'yaml';
import type { Answers } from './engine.js';
import type { Form, OutputFormat } from './form.js';
import { toNickel } from './nickel-text.js';

export function serialize(values: Answers, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(values, null, 2)}\n`;
    case 'yaml':
      return YAML.stringify(values);
    case 'toml':
      return toToml(values);
    case 'nickel':
      return `${toNickel(values)}\n`;
  }
}

/** Whether the result holds a password answer (files holding one are written owner-only). */
export function hasSecrets(form: Form, values: Answers): boolean {
  return form.fields.some((f) => f.type === 'password' && values[f.id] !== undefined);
}
