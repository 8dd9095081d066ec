import { BlockList, isIP } from 'node:net';
import { invalid } from './errors.js';

/** A CIDR block ("10.0.0.0/8", "::1/128") or a single address; a malformed one is a 400. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [addr = '', bits] = text.trim().split('/');
  const v = isIP(addr);
  const max = v === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (v === 0 || !/^\d*$/.test(bits ?? '') || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw invalid(`invalid CIDR block "${text}"`);
  }
  return { address: addr, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** Checks every block, returns them trimmed. */
export function validateCidrs(list: string[]): string[] {
  return list.map((c) => {
    parseCidr(c);
    return c.trim();
  });
}

/** Whether `address` (as a socket reports it, IPv4-mapped or not) lies in one of `cidrs`. */
export function addressInCidrs(address: string, cidrs: string[]): boolean {
  const addr = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const family = isIP(addr) === 4 ? 'ipv4' : isIP(addr) === 6 ? 'ipv6' : undefined;
  if (!family) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const b = parseCidr(c);
    list.addSubnet(b.address, b.prefix, b.family);
  }
  return list.check(addr, family);
}
