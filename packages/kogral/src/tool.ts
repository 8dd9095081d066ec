import { fileURLToPath } from 'node:url';
import type { ToolSpec } from '@stratumiops/shared/cli/command';
import { toolConfigSchema } from '@stratumiops/shared/config';
import * as z from '@stratumiops/shared/zod';
import { NODE_TYPES } from './core/model.js';

export const configSchema = toolConfigSchema({
  /** The graph folder; empty means .kogral/ found from the working directory upwards. */
  dir: z.string().default(''),
  /** The graph's name (list_graphs, exports); empty means the project folder's name. */
  name: z.string().default(''),
  /** Written as `author` on new nodes; empty means git's user.name, then $USER. */
  author: z.string().default(''),
  /** Org graph whose guidelines this project inherits: a folder or a git URL. */
  org: z.string().default(''),
  git: z
    .strictObject({
      /** One commit per write, naming the node; never touches unrelated files. */
      auto_commit: z.boolean().default(false),
    })
    .prefault({}),
  search: z
    .strictObject({
      /** Embedder for --semantic: ngram (offline, default), openai, ollama, transformers (a local model folder). */
      embedder: z.enum(['ngram', 'openai', 'ollama', 'transformers']).default('ngram'),
      /** Model name (openai, ollama) or model folder (transformers). */
      model: z.string().default(''),
      /** API base URL for openai / ollama. */
      url: z.string().default(''),
      /** API key for openai (or OPENAI_API_KEY). */
      api_key: z.string().default(''),
    })
    .prefault({}),
  /**
   * The kogral daemon watches graphs so that a CLI search or list need not stat every file first:
   * "use" asks it when it runs, "start" also starts it on demand, "off" never asks (each command checks the files).
   */
  daemon: z.enum(['use', 'start', 'off']).default('use'),
  /** Node files that are symlinks out of the graph folder: refused ("inside") or read ("follow"). */
  symlinks: z.enum(['inside', 'follow']).default('inside'),
  sync: z
    .strictObject({
      /** A team PostgreSQL (postgresql://user@host/db, the password in KOGRAL_SYNC_PASSWORD or PGPASSWORD); empty means sync through the repo's git remote. */
      url: z.string().default(''),
      /** The graph's name on that server (several graphs can share one database); default: the graph's name. */
      graph: z.string().default(''),
      /** The git remote `kogral sync` pushes to and pulls from. */
      remote: z.string().default('origin'),
      /**
       * Where the PostgreSQL password is, never the password itself: svault://secret/data/<path>#<field> (read
       * through svault, SVAULT_ADDR and SVAULT_TOKEN) or env://VAR. KOGRAL_SYNC_PASSWORD wins when set.
       */
      password: z
        .string()
        .regex(
          /^(svault|env):\/\/\S+$/,
          'a reference (svault://secret/data/<path>#<field> or env://VAR), never the password',
        )
        .optional(),
    })
    .prefault({}),
  /** Watched folders (`kogral watch add`): markdown indexed where it lives, never written. */
  sources: z
    .array(
      z.strictObject({
        /** The folder, relative to the project (the folder holding .kogral/) or absolute. */
        path: z.string().min(1),
        /** Node type of its files, unless their frontmatter says otherwise. */
        type: z.enum(NODE_TYPES).default('note'),
        /** Its name in results; empty means the folder's name. */
        name: z.string().default(''),
      }),
    )
    .default([]),
  /** Other graphs `kogral serve` offers besides this one (the `graph` argument of every MCP tool, list_graphs, switch). */
  graphs: z
    .array(
      z.strictObject({
        /** The name clients use. */
        name: z.string().min(1),
        /** A `.kogral` folder, or a folder holding one; relative to the project or absolute. */
        path: z.string().min(1),
      }),
    )
    .default([]),
  import: z
    .strictObject({
      /** Files bigger than this (bytes) are skipped with a message. */
      max_bytes: z
        .number()
        .int()
        .positive()
        .default(10 * 1024 * 1024),
    })
    .prefault({}),
});

export type KogralConfig = z.infer<typeof configSchema>;

export const tool: ToolSpec = {
  name: 'kogral',
  config: {
    tool: 'kogral',
    schema: configSchema,
    projectFile: '.kogral/config.toml',
    env: {
      KOGRAL_DIR: 'dir',
      KOGRAL_ORG: 'org',
      KOGRAL_AUTHOR: 'author',
      KOGRAL_AUTO_COMMIT: 'git.auto_commit',
      KOGRAL_DAEMON: 'daemon',
    },
  },
  daemonEntry: fileURLToPath(new URL('./server/daemon.js', import.meta.url)),
};
