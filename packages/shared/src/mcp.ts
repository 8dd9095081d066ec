/**
 * The one MCP scaffold of the tools (official SDK): tool results and errors, a guard that turns any thrown error
 * into an `isError` result (never a crash, never a stack), and a stdio server loop. stdout belongs to JSON-RPC:
 * a tool's server never writes anything else there.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { StratumError } from './errors.js';

export type ToolResult = CallToolResult;

export function toolResult(text: string, structured?: Record<string, unknown>): ToolResult {
  return { content: [{ type: 'text', text }], ...(structured ? { structuredContent: structured } : {}) };
}

/** Any failure as an MCP tool error: message and hint. */
export function toolError(e: unknown): ToolResult {
  const msg =
    e instanceof StratumError
      ? `${e.message}${e.hint ? ` (${e.hint})` : ''}`
      : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
  return { isError: true, content: [{ type: 'text', text: msg }] };
}

export function guard<A>(fn: (args: A) => Promise<ToolResult>): (args: A) => Promise<ToolResult> {
  return async (args: A) => {
    try {
      return await fn(args);
    } catch (e) {
      return toolError(e);
    }
  };
}

/** Tool annotations for read-only and writing tools. */
export const READ_ONLY = { readOnlyHint: true, openWorldHint: false } as const;
export const WRITES = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const;

/** Serves `server` on stdio until the client disconnects. */
export async function serveStdio(server: McpServer): Promise<void> {
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
}
