import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** How unknown host keys are treated: strict refuses, accept-new records a first-seen key (TOFU), off skips. */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export const hostPattern = (address: string, port: number) => (port === 22 ? address : `[${address}]:${port}`);

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

interface Entry {
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  blob: Buffer;
}

function parse(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, , key] = line.split(/\s+/);
    if (!hosts || !key) continue;
    const blob = Buffer.from(key, 'base64');
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      out.push({
        patterns: [],
        hashed: { salt: Buffer.from(salt ?? '', 'base64'), hash: Buffer.from(hash ?? '', 'base64') },
        blob,
      });
    } else out.push({ patterns: hosts.split(','), blob });
  }
  return out;
}

/** known_hosts files (OpenSSH format, plain or hashed entries): prov's own first, then ~/.ssh/known_hosts. */
export class KnownHosts {
  private entries: Entry[] = [];
  constructor(
    private readonly file: string,
    readonly policy: HostKeyPolicy,
    extraFiles: string[] = [],
  ) {
    for (const f of [file, ...extraFiles]) if (existsSync(f)) this.entries.push(...parse(readFileSync(f, 'utf8')));
  }

  private keysFor(address: string, port: number): Buffer[] {
    const pattern = hostPattern(address, port);
    return this.entries
      .filter((e) =>
        e.hashed
          ? createHmac('sha1', e.hashed.salt).update(pattern).digest().equals(e.hashed.hash)
          : e.patterns.includes(pattern),
      )
      .map((e) => e.blob);
  }

  /** 'ok', 'unknown' (no entry) or 'mismatch' (an entry with a different key). */
  check(address: string, port: number, blob: Buffer): 'ok' | 'unknown' | 'mismatch' {
    const keys = this.keysFor(address, port);
    if (keys.length === 0) return 'unknown';
    return keys.some((k) => k.equals(blob)) ? 'ok' : 'mismatch';
  }

  expected(address: string, port: number): string[] {
    return this.keysFor(address, port).map(fingerprint);
  }

  /** Records a first-seen key (accept-new). */
  add(address: string, port: number, blob: Buffer) {
    mkdirSync(dirname(this.file), { recursive: true });
    const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
    appendFileSync(this.file, `${hostPattern(address, port)} ${type} ${blob.toString('base64')}\n`, { mode: 0o600 });
    this.entries.push({ patterns: [hostPattern(address, port)], blob });
  }
}
