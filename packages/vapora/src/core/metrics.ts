import type { Role } from './roles.js';

/** What core reports; the server turns it into Prometheus metrics with the vapora_* names. */
export interface MetricsSink {
  taskFinished(role: Role, status: string, durationSeconds: number): void;
  llmUsage(role: Role, provider: string, costCents: number, inputTokens: number, outputTokens: number): void;
  fallback(role: Role, provider: string, reason: string): void;
  budgetExceeded(role: Role): void;
}

export const noMetrics: MetricsSink = {
  taskFinished() {},
  llmUsage() {},
  fallback() {},
  budgetExceeded() {},
};
