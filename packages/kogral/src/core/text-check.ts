/** Whether a file's bytes are a node's text: size, binary data, UTF-8. */
import { isUtf8 } from 'node:buffer';

/** Byte offset of the first byte that is not valid UTF-8, or -1. */
export function invalidUtf8At(buf: Buffer): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let len: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [len, min] = [2, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [len, min] = [3, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [len, min] = [4, 0x10000];
    else return i;
    if (i + len > n) return i;
    let cp = b & (0xff >> (len + 1));
    for (let k = 1; k < len; k++) {
      const c = buf[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += len;
  }
  return -1;
}

export interface TextCheck {
  text?: string;
  /** Why the file is not readable as text, with a line when there is one. */
  error?: { message: string; line?: number };
}

/** Decodes a file's bytes as UTF-8 text, refusing binary data, invalid UTF-8 and files over `maxBytes`. */
export function checkText(buf: Buffer, maxBytes: number): TextCheck {
  if (buf.length > maxBytes)
    return {
      error: {
        message: `file is ${mb(buf.length)}, over the ${mb(maxBytes)} limit (a node must be text of sane size)`,
      },
    };
  const nul = buf.subarray(0, 8192).indexOf(0);
  if (nul >= 0) return { error: { message: 'binary file (it contains NUL bytes), not markdown' } };
  if (isUtf8(buf)) return { text: buf.toString('utf8') };
  const bad = invalidUtf8At(buf);
  const line = buf.subarray(0, Math.max(0, bad)).toString('latin1').split('\n').length;
  return { error: { message: `invalid UTF-8 at byte ${bad}`, line } };
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`);
