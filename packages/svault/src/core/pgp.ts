import type { Key } from 'openpgp';
import { invalid } from './errors.js';

/**
 * PGP encryption of what a key ceremony hands out (Vault's `pgp_keys` for rekeyed unseal keys,
 * `pgp_key` for a generated root token): each public key is given base64-encoded (binary, as
 * `vault operator rekey -pgp-keys` sends it; an ASCII-armored key is accepted too). The OpenPGP
 * library is loaded only on this path, so start-up does not pay for it.
 */
export interface PgpRecipient {
  /** Hex, lower case, as Vault reports pgp_fingerprints. */
  fingerprint: string;
  key: Key;
}

const openpgp = () => import('openpgp');

/** Parses the given public keys; a bad one is refused with Vault's wording and nothing starts. */
export async function readPgpKeys(given: unknown[]): Promise<PgpRecipient[]> {
  const pgp = await openpgp();
  const out: PgpRecipient[] = [];
  for (const k of given) {
    if (typeof k !== 'string' || k.trim() === '') throw invalid('error decoding given PGP key: not a string');
    const text = k.trim();
    let key: Key;
    try {
      if (text.startsWith('-----BEGIN PGP')) key = await pgp.readKey({ armoredKey: text });
      else {
        if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new Error('illegal base64 data');
        key = await pgp.readKey({ binaryKey: new Uint8Array(Buffer.from(text, 'base64')) });
      }
    } catch (e) {
      throw invalid(`error parsing given PGP key: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
    }
    try {
      await key.getEncryptionKey();
    } catch {
      throw invalid(`error parsing given PGP key: key ${key.getFingerprint()} has no usable encryption key`);
    }
    out.push({ fingerprint: key.getFingerprint().toLowerCase(), key });
  }
  return out;
}

/** An OpenPGP message (binary) that only the recipient's private key opens. */
export async function encryptFor(recipient: PgpRecipient, plain: Uint8Array): Promise<Uint8Array> {
  const pgp = await openpgp();
  const message = await pgp.createMessage({ binary: plain });
  return (await pgp.encrypt({ message, encryptionKeys: recipient.key, format: 'binary' })) as Uint8Array;
}
