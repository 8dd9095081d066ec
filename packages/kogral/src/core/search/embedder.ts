import { STOPWORDS, stem, words } from './text.js';

/** Turns text into vectors for semantic search. */
export interface Embedder {
  /** Names the model: vectors are cached per name and dimensions. */
  readonly name: string;
  readonly dimensions: number;
  embed(text: string): Promise<Float32Array>;
  embedBatch(texts: string[]): Promise<Float32Array[]>;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a (32 bits) of a string, continuing from `h`. */
function fnv(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

const SEED_WORD = fnv('w:');
const SEED_GRAM = fnv('g:');

/** FNV-1a of characters start..start+n of `<word>` (the word padded with < and >), without building it. */
function gramHash(w: string, start: number, n: number): number {
  let h = SEED_GRAM;
  for (let i = start; i < start + n; i++) {
    const c = i === 0 ? 60 : i === w.length + 1 ? 62 : w.charCodeAt(i - 1);
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

/**
 * The offline default: hashed features, no download, deterministic. Each word (stemmed) is a
 * feature, and so are the character 3- and 4-grams of each word, so that identifiers
 * (`KubeHpaMaxedOut`), typos and partial words still land near their targets. Features are
 * hashed into `dimensions` signed buckets, weighted by log term frequency, L2-normalised.
 */
export class NgramEmbedder implements Embedder {
  readonly name = 'ngram-v2';

  constructor(
    readonly dimensions = 512,
    /** Documents are embedded from their first this-many characters. */
    readonly maxChars = 3000,
  ) {}

  /** `wordWeight` scales each word's features (e.g. by IDF, for a query); documents use 1. */
  vector(input: string, wordWeight?: (word: string) => number): Float32Array {
    const text = input.length > this.maxChars ? input.slice(0, this.maxChars) : input;
    // Feature key: hash * 2 + 1 for words, hash * 2 for character n-grams.
    const counts = new Map<number, number>();
    const scale = wordWeight ? new Map<number, number>() : undefined;
    const add = (key: number, s: number) => {
      counts.set(key, (counts.get(key) ?? 0) + 1);
      if (scale) scale.set(key, Math.max(scale.get(key) ?? 0, s));
    };
    for (const w of words(text)) {
      if (w.length < 2 || STOPWORDS.has(w)) continue;
      const s = wordWeight ? wordWeight(w) : 1;
      add(fnv(stem(w), SEED_WORD) * 2 + 1, s);
      const len = w.length + 2;
      if (len <= 4) continue;
      for (let n = 3; n <= 4; n++) for (let i = 0; i + n <= len; i++) add(gramHash(w, i, n) * 2, s);
    }
    const dims = this.dimensions;
    const v = new Float32Array(dims);
    for (const [key, c] of counts) {
      const h = Math.floor(key / 2);
      const weight = (key % 2 === 1 ? 1 : 0.25) * (1 + Math.log(c)) * (scale?.get(key) ?? 1);
      const b = h % dims;
      v[b] = (v[b] as number) + (h & 0x80000000 ? -weight : weight);
    }
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += (v[i] as number) ** 2;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < dims; i++) v[i] = (v[i] as number) / norm;
    return v;
  }

  async embed(text: string): Promise<Float32Array> {
    return this.vector(text);
  }

  async embedBatch(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.vector(t));
  }
}

/** Cosine similarity of two unit vectors (their dot product). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += (a[i] as number) * (b[i] as number);
    s1 += (a[i + 1] as number) * (b[i + 1] as number);
  }
  if (i < n) s0 += (a[i] as number) * (b[i] as number);
  return s0 + s1;
}
