/**
 * `@stratumiops/vapora/client/llm`: the provider layer, for typedialog's agents and anyone else.
 *
 *   import { createProvider, LlmError } from '@stratumiops/vapora/client/llm';
 *   const claude = createProvider('anthropic', { apiKey: process.env.ANTHROPIC_API_KEY });
 *   const r = await claude.chat({ model: 'claude-sonnet-4-6', maxTokens: 512, messages: [{ role: 'user', content: 'Hi' }] });
 *   r.text; r.usage.inputTokens; r.model; // the served model
 *
 * Errors are LlmErrors with a kind (rate_limit, overloaded, server, timeout, network, bad_response, context_window,
 * content_policy, auth, invalid_request) and the action vapora's router takes for it (ERROR_ACTIONS).
 * For routing, fallbacks and budgets use LlmRouter (with a BudgetLedger over a Store).
 */
export {
  AnthropicProvider,
  apiKeyProblem,
  createProvider,
  type ExecOptions,
  ExecProvider,
  GeminiProvider,
  KEY_ENV,
  OllamaProvider,
  OpenAiProvider,
  type ProviderKind,
  type ProviderOptions,
} from '../adapters/llm/index.js';
export { BudgetLedger, type BudgetStatus, type LedgerPort } from '../core/budget.js';
export {
  type Attempt,
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  ERROR_ACTIONS,
  ERROR_KINDS,
  type ErrorAction,
  isLlmError,
  LlmError,
  type LlmErrorKind,
  type LlmProvider,
  type Usage,
  zeroUsage,
} from '../core/llm/types.js';
export { BUILTIN_PRICES, type Price, type PriceEntry, PriceTable, tokenCost } from '../core/prices.js';
export { ROLES, type Role } from '../core/roles.js';
export {
  BudgetExceededError,
  backoff,
  compileRules,
  type Decision,
  describeAttempts,
  formatCents,
  inputTokenBound,
  LlmRouter,
  type Route,
  type RoutedResponse,
  type RouterOptions,
  roleDefaultRoute,
  type Target,
} from '../core/router.js';
