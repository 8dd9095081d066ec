/**
 * The web backend: a one-shot fastify server on loopback. The page lives under a secret path (printed
 * once), posts carry a CSRF token, Host and Origin must be this server (no DNS rebinding, no cross-site
 * posts), and answers are validated by the same engine and contract as everywhere else. The first valid
 * submit is the result: the server answers "thank you", closes, and the backend resolves.
 */
import { spawn } from 'node:child_process';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { StratumError } from '@stratumiops/shared/errors';
import type { Backend, BackendOptions, WebOptions } from '../../core/backend.js';
import { checkAnswers, type FormContext } from '../../core/context.js';
import type { Answers, FieldError } from '../../core/engine.js';
import { answersFromTexts, valueText } from '../../core/input.js';
import { renderMessage, renderPage, type Texts } from './page.js';

const token = () => randomBytes(24).toString('base64url');

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface WebSession {
  url: string;
  /** Resolves with the accepted answers; rejects on timeout or close. */
  result: Promise<Answers>;
  close(): Promise<void>;
}

/** Starts the server; the session's result settles on the first valid submit. */
export async function startWebForm(ctx: FormContext, opts: Partial<WebOptions> & { initial?: Answers } = {}) {
  const { createHttpServer } = await import('@stratumiops/shared/http');
  const host = opts.host ?? '127.0.0.1';
  const { app } = await createHttpServer({ name: 'typedialog', bodyLimit: 256 * 1024 });
  const access = token();
  const csrf = token();
  const path = `/form/${access}`;
  let port = 0;
  let done = false;
  let settle!: { resolve: (a: Answers) => void; reject: (e: unknown) => void };
  const result = new Promise<Answers>((resolve, reject) => {
    settle = { resolve, reject };
  });
  result.catch(() => {});

  const start: Texts = {};
  for (const f of ctx.form.fields) {
    const v = opts.initial?.[f.id] ?? ctx.engine.defaultOf(f);
    if (v === undefined || f.type === 'password') continue;
    start[f.id] = Array.isArray(v) ? v.map(String) : valueText(f, v);
  }

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  const allowedHosts = () => new Set([`${host}:${port}`, `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  // On loopback, only this server's own names: a page of another site cannot reach it through DNS rebinding.
  // Bound to another address on purpose (--host), people reach it by whatever name the network gives it.
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host);
  app.addHook('onRequest', async (req, reply) => {
    if (loopback && !allowedHosts().has(req.headers.host ?? '')) {
      return reply.code(421).type('text/plain').send('wrong host');
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });
  const send = (reply: import('fastify').FastifyReply, status: number, html: (nonce: string) => string) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .code(status)
      .header(
        'content-security-policy',
        `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; form-action 'self'; ` +
          `base-uri 'none'; frame-ancestors 'none'`,
      )
      .type('text/html; charset=utf-8')
      .send(html(nonce));
  };
  const m = ctx.messages;
  const closedPage = (nonce: string) => renderMessage(ctx, nonce, m.formTitle(ctx.form), m.t('web-closed'));

  app.get<{ Params: { access: string } }>('/form/:access', async (req, reply) => {
    if (!sameToken(req.params.access, access)) return reply.code(404).send('not found');
    if (done) return send(reply, 410, closedPage);
    return send(reply, 200, (nonce) => renderPage(ctx, { texts: start, errors: [], csrf, nonce, action: path }));
  });

  app.post<{ Params: { access: string }; Body: URLSearchParams }>('/form/:access', async (req, reply) => {
    if (!sameToken(req.params.access, access)) return reply.code(404).send('not found');
    const origin = req.headers.origin;
    const own = loopback ? allowedHosts() : new Set([req.headers.host ?? '']);
    if (origin !== undefined && origin !== 'null' && !own.has(origin.replace(/^https?:\/\//, ''))) {
      return reply.code(403).type('text/plain').send('cross-origin post refused');
    }
    const body = req.body;
    if (!(body instanceof URLSearchParams) || !sameToken(body.get('_csrf') ?? '', csrf)) {
      return reply.code(403).type('text/plain').send('missing or wrong CSRF token: reload the page');
    }
    if (done) return send(reply, 410, closedPage);
    const texts: Texts = {};
    for (const f of ctx.form.fields) {
      if (f.type === 'multi-select') texts[f.id] = body.getAll(f.id);
      else if (body.has(f.id)) texts[f.id] = body.get(f.id) ?? '';
    }
    const parsed = answersFromTexts(ctx.engine, (f) => texts[f.id]);
    let errors: FieldError[] = parsed.errors;
    let values = parsed.values;
    if (errors.length === 0) {
      const checked = await checkAnswers(ctx, values);
      errors = checked.errors;
      values = checked.values;
    }
    if (errors.length > 0) {
      return send(reply, 422, (nonce) => renderPage(ctx, { texts, errors, csrf, nonce, action: path }));
    }
    done = true;
    reply.raw.once('finish', () => {
      void app.close().then(() => settle.resolve(values), settle.reject);
    });
    return send(reply, 200, (nonce) => renderMessage(ctx, nonce, m.t('web-done-title'), m.t('web-done')));
  });

  await app.listen({ host, port: opts.port ?? 0 });
  const addr = app.server.address();
  port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${port}${path}`;

  let timer: NodeJS.Timeout | undefined;
  if (opts.timeoutSec && opts.timeoutSec > 0) {
    timer = setTimeout(() => {
      done = true;
      void app.close().finally(() =>
        settle.reject(
          new StratumError('failure', `no valid answers were submitted within ${opts.timeoutSec} s`, {
            hint: 'raise --timeout, or pass --answers <file>',
          }),
        ),
      );
    }, opts.timeoutSec * 1000);
    timer.unref();
  }
  void result.finally(() => clearTimeout(timer)).catch(() => {});
  if (opts.open) openBrowser(url);
  opts.onListening?.(url);
  return {
    url,
    result,
    close: async () => {
      done = true;
      await app.close();
      settle.reject(new StratumError('failure', 'the form server was closed before a submit'));
    },
  } satisfies WebSession;
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {}
}

export class WebBackend implements Backend {
  readonly name = 'web' as const;

  async execute(ctx: FormContext, opts: BackendOptions = {}): Promise<Answers> {
    const session = await startWebForm(ctx, { ...opts.web, ...(opts.initial ? { initial: opts.initial } : {}) });
    return session.result;
  }
}
