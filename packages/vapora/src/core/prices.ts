import { createHash } from 'node:crypto';
import defaults from './defaults.json' with { type: 'json' };
import type { ProviderName } from './model.js';

/** A price entry as configured: USD per 1M tokens. */
export interface PriceEntry {
  provider: ProviderName;
  model: string;
  input: number;
  output: number;
  cache_read?: number | undefined;
  cache_write?: number | undefined;
  max_input_tokens?: number | undefined;
}

/** The same in integer micro-cents per 1M tokens (USD 1 = 100 cents = 100,000,000 micro-cents). */
export interface Price {
  provider: ProviderName;
  model: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  maxInputTokens: number | undefined;
}

/**
 * The built-in table, versioned, from defaults.json (shipped with the package): only models that answer today;
 * retired ids live in test fixtures and can be added back through `[[prices]]` in vapora.toml. Local models are
 * priced 0 explicitly.
 */
export const BUILTIN_PRICES: { version: string; entries: PriceEntry[] } = defaults.prices as {
  version: string;
  entries: PriceEntry[];
};

const micro = (usdPerM: number | undefined): number => Math.round((usdPerM ?? 0) * 100_000_000);

/** Tokens × (micro-cents per 1M tokens), rounded up: never undercount. */
export function tokenCost(tokens: number, microPerM: number): number {
  if (tokens <= 0 || microPerM <= 0) return 0;
  const product = tokens * microPerM;
  if (Number.isSafeInteger(product)) return Math.ceil(product / 1_000_000);
  return Number((BigInt(tokens) * BigInt(microPerM) + 999_999n) / 1_000_000n);
}

export interface UsageTokens {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export class PriceTable {
  readonly version: string;
  private readonly byKey = new Map<string, Price>();

  constructor(entries: PriceEntry[], version: string) {
    this.version = version;
    for (const e of entries) {
      this.byKey.set(`${e.provider}:${e.model}`, {
        provider: e.provider,
        model: e.model,
        input: micro(e.input),
        output: micro(e.output),
        cacheRead: micro(e.cache_read ?? e.input),
        cacheWrite: micro(e.cache_write ?? e.input),
        maxInputTokens: e.max_input_tokens,
      });
    }
  }

  /** The built-in table with the user's entries on top; any override changes the version. */
  static withOverrides(overrides: PriceEntry[] = []): PriceTable {
    const merged = new Map<string, PriceEntry>();
    for (const e of [...BUILTIN_PRICES.entries, ...overrides]) merged.set(`${e.provider}:${e.model}`, e);
    let version = BUILTIN_PRICES.version;
    if (overrides.length > 0) {
      const h = createHash('sha256').update(JSON.stringify(overrides)).digest('hex').slice(0, 8);
      version = `${version}+${h}`;
    }
    return new PriceTable([...merged.values()], version);
  }

  /** The price, or undefined when the model has no entry: callers must refuse it, never count it free. */
  get(provider: ProviderName, model: string): Price | undefined {
    // The exec provider runs a command, not a model: it has no token price by definition.
    if (provider === 'exec')
      return { provider, model, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, maxInputTokens: undefined };
    return this.byKey.get(`${provider}:${model}`);
  }

  entries(): Price[] {
    return [...this.byKey.values()];
  }

  /** Upper bound reserved before a call: every input token and every allowed output token. */
  static estimate(price: Price, inputTokens: number, maxOutputTokens: number): number {
    return tokenCost(inputTokens, price.input) + tokenCost(maxOutputTokens, price.output);
  }

  static cost(price: Price, u: UsageTokens): number {
    return (
      tokenCost(u.inputTokens, price.input) +
      tokenCost(u.outputTokens, price.output) +
      tokenCost(u.cacheReadTokens ?? 0, price.cacheRead) +
      tokenCost(u.cacheWriteTokens ?? 0, price.cacheWrite)
    );
  }
}
