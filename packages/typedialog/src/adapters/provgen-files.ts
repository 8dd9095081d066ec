/** prov-gen's output: the generated files, validated by the core, written into the output folder. */
import { join } from 'node:path';
import { writeFileAtomic } from '@stratumiops/shared/fs';
import { describe, type GeneratedFile, type WrittenFile } from '../core/provgen/generate.js';

/** Writes the validated files, each atomically. */
export function writeFiles(files: GeneratedFile[], outDir: string): WrittenFile[] {
  return files.map((f) => {
    const path = join(outDir, f.name);
    writeFileAtomic(path, f.text);
    return describe(f, path);
  });
}
