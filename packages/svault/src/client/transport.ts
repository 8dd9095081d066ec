import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** TLS settings of a client: PEM contents (not paths). */
export interface ClientTls {
  /** CA certificate(s) to trust instead of the system's. */
  ca?: string | Buffer;
  /** Client certificate and key, for servers that require mTLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Do not verify the server's certificate (tests only). */
  skipVerify?: boolean;
}

export interface RawResponse {
  status: number;
  text: string;
  /** The Location header of a redirect (an HA standby points at the active node). */
  location?: string;
}

export interface CallOptions {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** A unix socket to connect to instead of the URL's host (the local daemon). */
  socketPath?: string;
  tls?: ClientTls;
}

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgents = new Map<string, HttpsAgent>();

function httpsAgent(tls: ClientTls | undefined): HttpsAgent {
  const key = JSON.stringify([tls?.ca?.toString(), tls?.cert?.toString(), tls?.key?.toString(), tls?.skipVerify]);
  let agent = httpsAgents.get(key);
  if (!agent) {
    agent = new HttpsAgent({
      keepAlive: true,
      ...(tls?.ca ? { ca: tls.ca } : {}),
      ...(tls?.cert ? { cert: tls.cert } : {}),
      ...(tls?.key ? { key: tls.key } : {}),
      rejectUnauthorized: !tls?.skipVerify,
    });
    httpsAgents.set(key, agent);
  }
  return agent;
}

/**
 * One HTTP exchange over node:http(s) with keep-alive, or over a unix socket. (fetch cannot
 * take a custom CA, a client certificate or a socket path without extra packages.)
 */
export function httpCall(o: CallOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const https = o.url.protocol === 'https:';
    const headers = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = String(Buffer.byteLength(o.body));
    const base: RequestOptions = { method: o.method, path: `${o.url.pathname}${o.url.search}`, headers };
    const opts: RequestOptions = o.socketPath
      ? { ...base, socketPath: o.socketPath }
      : {
          ...base,
          host: o.url.hostname.replace(/^\[|\]$/g, ''),
          port: o.url.port || (https ? 443 : 80),
          agent: https ? httpsAgent(o.tls) : httpAgent,
        };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          ...(res.headers.location ? { location: res.headers.location } : {}),
        }),
      );
      res.on('error', reject);
    };
    const req = https && !o.socketPath ? httpsRequest(opts, onResponse) : httpRequest(opts, onResponse);
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      o.timeoutMs,
    );
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}
