import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HostPool } from './cloud-hosts.js';
import type { FakeCloudOptions } from './ec2-server.js';

/**
 * A small local server speaking UpCloud's REST API 1.3 (JSON) for the calls prov makes, with the shapes of
 * UpCloud's recorded exchanges (upcloud-go-api fixtures): numbers as strings, booleans as "yes"/"no", lists
 * wrapped in a singular key (`storage_devices.storage_device[]`), `{"error":{"error_code","error_message"}}` on
 * failure. State machine: a created server is in `maintenance` for two reads, then `started`; a stop shows on the
 * next read; plan and storage size change only while stopped, and a server must be stopped to be deleted (409
 * SERVER_STATE_ILLEGAL otherwise), as the real API requires. Nothing of prov is stubbed. With a host pool, a
 * server's public address is the pool's host for its hostname (a throwaway sshd), given back when it is deleted.
 */
export interface FakeUpcloud {
  url: string;
  /** `METHOD /path` of every request, in order. */
  requests: string[];
  /** The Authorization header of the last request. */
  lastAuth: string;
  /** Bodies of POST /server, as sent. */
  createBodies: Record<string, unknown>[];
  servers: Map<string, FakeServer>;
  storages: Map<string, { title: string; size: number; server: string | null; zone: string; encrypted?: boolean }>;
  /** Return an error code to fail a call, e.g. for one plan. */
  fail?: (method: string, path: string, body: Record<string, unknown> | undefined) => string | undefined;
  /** Live servers and storages, for "the inventory is exactly as before". */
  inventory(): string[];
  close(): Promise<void>;
}

export interface FakeServer {
  uuid: string;
  title: string;
  hostname: string;
  zone: string;
  plan: string;
  core_number: string;
  memory_amount: string;
  state: string;
  /** Reads left before a transitional state settles. */
  settleIn: number;
  next: string;
  labels: Record<string, string>;
  storage: string;
  publicIp: string | null;
  privateIp: string;
}

export const CREDENTIALS = { username: 'prov-test', password: 'api-secret' };
export const TOKEN = 'ucat_01TESTTOKEN';

const TEMPLATES = [
  { uuid: '01000000-0000-4000-8000-000030240200', title: 'Ubuntu Server 24.04 LTS (Noble Numbat)' },
  { uuid: '01000000-0000-4000-8000-000030220200', title: 'Ubuntu Server 22.04 LTS (Jammy Jellyfish)' },
  { uuid: '01000000-0000-4000-8000-000020070100', title: 'Debian GNU/Linux 12 (Bookworm)' },
  { uuid: '01000000-0000-4000-8000-000150020100', title: 'Rocky Linux 9' },
];

/** Error codes the fake may be asked to fail with, and their HTTP status. */
const STATUS: Record<string, number> = {
  PLAN_INVALID: 400,
  ZONE_INVALID: 400,
  SERVER_NOT_FOUND: 404,
  STORAGE_NOT_FOUND: 404,
  SERVER_STATE_ILLEGAL: 409,
  STORAGE_STATE_ILLEGAL: 409,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500,
};

export async function startFakeUpcloud(opts: FakeCloudOptions = {}): Promise<FakeUpcloud> {
  const pool: HostPool | undefined = opts.hosts;
  let ip = 10;
  const fake: FakeUpcloud = {
    url: '',
    requests: [],
    lastAuth: '',
    createBodies: [],
    servers: new Map(),
    storages: new Map(),
    inventory() {
      return [
        ...[...fake.servers.values()].map(
          (s) =>
            `server ${s.uuid} ${s.title} ${s.zone} ${s.plan} ${s.core_number}/${s.memory_amount} ${JSON.stringify(s.labels)}`,
        ),
        ...[...fake.storages].map(([k, v]) => `storage ${k} ${v.title} ${v.size} GB${v.encrypted ? ' encrypted' : ''}`),
      ].sort();
    },
    close: async () => {},
  };

  const details = (s: FakeServer) => ({
    uuid: s.uuid,
    title: s.title,
    hostname: s.hostname,
    zone: s.zone,
    plan: s.plan,
    core_number: s.core_number,
    memory_amount: s.memory_amount,
    state: s.state,
    ...(s.state === 'maintenance' ? { progress: String(50 * (2 - s.settleIn)) } : {}),
    firewall: 'off',
    metadata: 'yes',
    boot_order: 'disk',
    labels: { label: Object.entries(s.labels).map(([key, value]) => ({ key, value })) },
    tags: { tag: [] },
    ip_addresses: {
      ip_address: [
        { access: 'utility', address: s.privateIp, family: 'IPv4' },
        ...(s.publicIp ? [{ access: 'public', address: s.publicIp, family: 'IPv4' }] : []),
      ],
    },
    storage_devices: {
      storage_device: [
        {
          address: 'virtio:0',
          boot_disk: '1',
          storage: s.storage,
          storage_size: fake.storages.get(s.storage)?.size ?? 0,
          storage_title: fake.storages.get(s.storage)?.title ?? '',
          type: 'disk',
        },
      ],
    },
  });

  const settle = (s: FakeServer) => {
    if (s.settleIn > 0 && --s.settleIn === 0) s.state = s.next;
  };

  const handle = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown> | undefined,
  ): [number, unknown] => {
    const err = (code: string, message: string): [number, unknown] => [
      STATUS[code] ?? 400,
      { error: { error_code: code, error_message: message } },
    ];
    const injected = fake.fail?.(method, path, body);
    if (injected) return err(injected, `injected failure for ${method} ${path}`);
    // /server/{uuid}[/start|/stop], /storage/{uuid}
    const [, collection, id = '', action] = path.split('/');
    const onServer = collection === 'server' && id !== '';

    if (method === 'GET' && path === '/account')
      return [200, { account: { credits: 9972.2, username: CREDENTIALS.username } }];
    if (method === 'GET' && path === '/storage/template')
      return [
        200,
        {
          storages: {
            storage: TEMPLATES.map((t) => ({ ...t, access: 'public', type: 'template', state: 'online', size: 4 })),
          },
        },
      ];
    if (method === 'GET' && path === '/server') {
      const wanted = query.getAll('label').map((l) => l.split('='));
      const list = [...fake.servers.values()].filter((s) =>
        wanted.every(([k, v]) => k !== undefined && k in s.labels && (v === undefined || s.labels[k] === v)),
      );
      return [200, { servers: { server: list.map((s) => details(s)) } }];
    }
    if (method === 'POST' && path === '/server') {
      fake.createBodies.push(body ?? {});
      const req = (body?.server ?? {}) as Record<string, unknown>;
      if (!req.zone) return err('ZONE_INVALID', 'The zone is missing.');
      const dev = (req.storage_devices as { storage_device: Record<string, unknown>[] }).storage_device[0]!;
      if (!TEMPLATES.some((t) => t.uuid === dev.storage))
        return err('STORAGE_NOT_FOUND', 'The storage does not exist.');
      const plan = String(req.plan ?? 'custom');
      const sized = /^(\d+)xCPU-(\d+)GB$/.exec(plan);
      if (plan !== 'custom' && !sized) return err('PLAN_INVALID', `The plan ${plan} does not exist.`);
      const uuid = randomUUID();
      const storage = `01${randomUUID().slice(2)}`;
      fake.storages.set(storage, {
        title: String(dev.title),
        size: Number(dev.size),
        server: uuid,
        zone: String(req.zone),
        ...(dev.encrypted === 'yes' ? { encrypted: true } : {}),
      });
      const ifaces = (req.networking as { interfaces: { interface: { type: string }[] } }).interfaces.interface;
      ip++;
      const labels = Object.fromEntries(
        ((req.labels as { label: { key: string; value: string }[] } | undefined)?.label ?? []).map((l) => [
          l.key,
          l.value,
        ]),
      );
      const s: FakeServer = {
        uuid,
        title: String(req.title),
        hostname: String(req.hostname),
        zone: String(req.zone),
        plan,
        core_number: sized ? sized[1]! : String(req.core_number),
        memory_amount: sized ? String(Number(sized[2]) * 1024) : String(req.memory_amount),
        state: 'maintenance',
        settleIn: 2,
        next: 'started',
        labels,
        storage,
        publicIp:
          pool?.claim(String(req.hostname))?.address ??
          (ifaces.some((i) => i.type === 'public') ? `94.237.0.${ip}` : null),
        privateIp: `10.6.0.${ip}`,
      };
      fake.servers.set(uuid, s);
      return [202, { server: details(s) }];
    }
    const s = onServer ? fake.servers.get(id) : undefined;
    if (onServer && !s) return err('SERVER_NOT_FOUND', `The server ${id} does not exist.`);
    if (s && !action && method === 'GET') {
      const out = details(s);
      settle(s);
      return [200, { server: out }];
    }
    if (s && !action && method === 'PUT') {
      const req = (body?.server ?? {}) as Record<string, unknown>;
      if ((req.plan || req.core_number || req.memory_amount) && s.state !== 'stopped')
        return err('SERVER_STATE_ILLEGAL', 'The server must be stopped to change its plan.');
      if (req.plan) {
        const sized = /^(\d+)xCPU-(\d+)GB$/.exec(String(req.plan));
        s.plan = String(req.plan);
        if (sized) [s.core_number, s.memory_amount] = [sized[1]!, String(Number(sized[2]) * 1024)];
      }
      if (req.core_number) s.core_number = String(req.core_number);
      if (req.memory_amount) s.memory_amount = String(req.memory_amount);
      if (req.labels)
        s.labels = Object.fromEntries(
          (req.labels as { label: { key: string; value: string }[] }).label.map((l) => [l.key, l.value]),
        );
      return [202, { server: details(s) }];
    }
    if (s && (action === 'start' || action === 'stop') && method === 'POST') {
      const want = action === 'start' ? 'stopped' : 'started';
      if (s.state !== want) return err('SERVER_STATE_ILLEGAL', `The server is ${s.state}.`);
      Object.assign(
        s,
        action === 'start' ? { state: 'maintenance', settleIn: 1, next: 'started' } : { settleIn: 1, next: 'stopped' },
      );
      return [200, { server: details(s) }];
    }
    if (s && !action && method === 'DELETE') {
      if (s.state !== 'stopped') return err('SERVER_STATE_ILLEGAL', 'The server must be stopped to be deleted.');
      fake.servers.delete(s.uuid);
      pool?.release?.(s.hostname);
      if (query.get('storages') === '1') fake.storages.delete(s.storage);
      else {
        const st = fake.storages.get(s.storage);
        if (st) st.server = null;
      }
      return [204, undefined];
    }
    if (collection === 'storage' && id && method === 'PUT') {
      const st = fake.storages.get(id);
      if (!st) return err('STORAGE_NOT_FOUND', `The storage ${id} does not exist.`);
      if (st.server && fake.servers.get(st.server)?.state !== 'stopped')
        return err('SERVER_STATE_ILLEGAL', 'The server must be stopped to resize its storage.');
      const size = Number(((body?.storage ?? {}) as Record<string, unknown>).size);
      if (size < st.size) return err('STORAGE_SIZE_INVALID', 'Storage can only grow.');
      st.size = size;
      return [202, { storage: { uuid: id, size, title: st.title, state: 'online' } }];
    }
    return err('NOT_FOUND', `no route ${method} ${path}`);
  };

  const authorized = (h: string | undefined) =>
    h === `Bearer ${TOKEN}` ||
    h === `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString('base64')}`;

  const srv = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (d: Buffer) => {
      raw += d.toString();
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname.replace(/^\/1\.3/, '').replace(/(.)\/$/, '$1');
      fake.requests.push(`${req.method} ${path}`);
      fake.lastAuth = req.headers.authorization ?? '';
      const reply = (status: number, doc: unknown) => {
        res.writeHead(status, doc === undefined ? {} : { 'content-type': 'application/json; charset=UTF-8' });
        res.end(doc === undefined ? undefined : JSON.stringify(doc, null, 3));
      };
      if (!url.pathname.startsWith('/1.3/'))
        return reply(404, { error: { error_code: 'NOT_FOUND', error_message: 'Unknown API version.' } });
      if (!authorized(req.headers.authorization))
        return reply(401, {
          error: {
            error_code: 'AUTHENTICATION_FAILED',
            error_message: 'Authentication failed using the given username and password.',
          },
        });
      const [status, doc] = handle(req.method ?? 'GET', path, url.searchParams, raw ? JSON.parse(raw) : undefined);
      reply(status, doc);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/1.3`;
  fake.close = () => new Promise<void>((r) => srv.close(() => r()));
  return fake;
}
