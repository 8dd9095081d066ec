import { basename, dirname } from 'node:path';
import { StratumError, unavailableError, usageError } from '@stratumiops/shared/errors';
import { type Embedder, NgramEmbedder } from '../core/search/embedder.js';

export interface EmbedderConfig {
  embedder: 'ngram' | 'openai' | 'ollama' | 'transformers';
  model: string;
  url: string;
  api_key: string;
}

function normalise(v: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(v);
  let n = 0;
  for (let i = 0; i < out.length; i++) n += (out[i] as number) ** 2;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / n;
  return out;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    throw unavailableError(`cannot reach the embedding service at ${url}: ${(e as Error).message}`, {
      hint: 'check search.url, or use search.embedder = "ngram" (offline)',
    });
  }
  const text = await res.text();
  if (!res.ok)
    throw new StratumError('unavailable', `embedding service ${url} answered ${res.status}: ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new StratumError('unavailable', `embedding service ${url} answered something that is not JSON`);
  }
}

/** OpenAI (or a compatible API): POST /embeddings. */
class OpenAIEmbedder implements Embedder {
  readonly name: string;
  dimensions = 0;
  constructor(
    private readonly model: string,
    private readonly base: string,
    private readonly key: string,
  ) {
    this.name = `openai:${model}`;
  }
  async embedBatch(texts: string[]): Promise<Float32Array[]> {
    const r = (await postJson(
      `${this.base.replace(/\/$/, '')}/embeddings`,
      { model: this.model, input: texts.map((t) => t.slice(0, 8000)) },
      { authorization: `Bearer ${this.key}` },
    )) as { data?: { embedding: number[] }[] };
    const out = (r.data ?? []).map((d) => normalise(d.embedding));
    if (out.length !== texts.length)
      throw new StratumError('unavailable', 'the embedding service returned too few vectors');
    this.dimensions ||= out[0]?.length ?? 0;
    return out;
  }
  async embed(text: string): Promise<Float32Array> {
    return (await this.embedBatch([text]))[0] as Float32Array;
  }
}

/** Ollama: POST /api/embed. */
class OllamaEmbedder implements Embedder {
  readonly name: string;
  dimensions = 0;
  constructor(
    private readonly model: string,
    private readonly base: string,
  ) {
    this.name = `ollama:${model}`;
  }
  async embedBatch(texts: string[]): Promise<Float32Array[]> {
    const r = (await postJson(`${this.base.replace(/\/$/, '')}/api/embed`, { model: this.model, input: texts })) as {
      embeddings?: number[][];
    };
    const out = (r.embeddings ?? []).map((e) => normalise(e));
    if (out.length !== texts.length) throw new StratumError('unavailable', 'ollama returned too few vectors');
    this.dimensions ||= out[0]?.length ?? 0;
    return out;
  }
  async embed(text: string): Promise<Float32Array> {
    return (await this.embedBatch([text]))[0] as Float32Array;
  }
}

type FeatureExtractor = (texts: string[], o: object) => Promise<{ tolist(): number[][] }>;

/** transformers.js with a model folder the user provides (no download): an optional dependency. */
class TransformersEmbedder implements Embedder {
  readonly name: string;
  dimensions = 0;
  private pipe?: FeatureExtractor;
  constructor(private readonly dir: string) {
    this.name = `transformers:${dir}`;
  }
  private async load(): Promise<FeatureExtractor> {
    if (this.pipe) return this.pipe;
    let mod: {
      env: { allowRemoteModels: boolean; localModelPath: string };
      pipeline: (task: string, model: string) => Promise<FeatureExtractor>;
    };
    try {
      const name = '@huggingface/transformers';
      mod = (await import(name)) as typeof mod;
    } catch {
      throw usageError('search.embedder = "transformers" needs the optional package @huggingface/transformers', {
        hint: 'install it with: ONNXRUNTIME_NODE_INSTALL=skip npm install @huggingface/transformers',
      });
    }
    mod.env.allowRemoteModels = false;
    mod.env.localModelPath = dirname(this.dir);
    try {
      this.pipe = await mod.pipeline('feature-extraction', basename(this.dir));
    } catch (e) {
      throw usageError(`cannot load the model in ${this.dir}: ${(e as Error).message}`, {
        hint: 'search.model must be a folder with config.json, tokenizer.json and onnx/model.onnx',
      });
    }
    return this.pipe;
  }
  async embedBatch(texts: string[]): Promise<Float32Array[]> {
    const pipe = await this.load();
    const t = await pipe(texts, { pooling: 'mean', normalize: true });
    const out = t.tolist().map((v) => normalise(v));
    this.dimensions ||= out[0]?.length ?? 0;
    return out;
  }
  async embed(text: string): Promise<Float32Array> {
    return (await this.embedBatch([text]))[0] as Float32Array;
  }
}

/** The configured embedder; remote ones are probed once so that their dimensions are known. */
export async function createEmbedder(c: EmbedderConfig, env: NodeJS.ProcessEnv = process.env): Promise<Embedder> {
  let e: Embedder;
  switch (c.embedder) {
    case 'ngram':
      return new NgramEmbedder();
    case 'openai': {
      const key = c.api_key || env.OPENAI_API_KEY || '';
      if (!key)
        throw usageError('search.embedder = "openai" needs an API key', {
          hint: 'set OPENAI_API_KEY or search.api_key',
        });
      e = new OpenAIEmbedder(c.model || 'text-embedding-3-small', c.url || 'https://api.openai.com/v1', key);
      break;
    }
    case 'ollama':
      e = new OllamaEmbedder(c.model || 'nomic-embed-text', c.url || 'http://127.0.0.1:11434');
      break;
    case 'transformers':
      if (!c.model) throw usageError('search.embedder = "transformers" needs search.model: a local model folder');
      e = new TransformersEmbedder(c.model);
      break;
  }
  await e.embed('probe');
  return e;
}
