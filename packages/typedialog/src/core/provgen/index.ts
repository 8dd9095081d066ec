/** prov-gen from validated answers: config, render, validate; the caller writes (or prints) the files. */
import { type FormContext, invalidAnswers } from '../context.js';
import type { Answers } from '../engine.js';
import { type InfrastructureConfig, type Provider, toInfrastructure } from './config.js';
import { type GeneratedFile, render, schemaProviderTag, validateFiles } from './generate.js';

export interface ProvGenOptions {
  templatesDir: string;
  schemasDir: string;
  /** The output folder (absolute): errors name the files as they would be written there. */
  outDir: string;
}

export interface ProvGenResult {
  config: InfrastructureConfig;
  files: GeneratedFile[];
  warnings: string[];
}

export async function provGen(ctx: FormContext, values: Answers, opts: ProvGenOptions): Promise<ProvGenResult> {
  const provider = values.provider as Provider;
  const warnings: string[] = [];
  let tag = provider;
  const known = (['aws', 'gcp', 'azure', 'hetzner', 'upcloud', 'lxd'] as string[]).includes(String(provider));
  if (known) {
    const t = await schemaProviderTag(provider, opts.schemasDir);
    tag = t.tag as Provider;
    if (t.warning) warnings.push(t.warning);
  }
  const { config, errors } = toInfrastructure(values, () => tag);
  if (!config) throw invalidAnswers(ctx, errors, 'prov-gen');
  const files = await render(config, { templatesDir: opts.templatesDir, form: ctx.form });
  await validateFiles(files, opts.schemasDir, opts.outDir);
  return { config, files, warnings };
}
