/**
 * `multigrain index build OUT --embeddings DIR`: a retrieval index (one safetensors file, see
 * src/io/FORMAT.md) from the folder `multigrain embed` writes: DIR/embeddings.npy (float32
 * [N, D]), DIR/paths.txt (N lines, row order) and DIR/embed_args.json (how the images were
 * embedded; `multigrain search` embeds its query the same way).
 */
import { isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { parseOptions, optionsHelp } from './args.js';
import { decodeNpy, nodeFileStore, readTextFile } from '../io/index.js';
import { RetrievalIndex } from '../multigrain/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

export const INDEX_OPTIONS = {
  embeddings: { flag: 'embeddings', type: 'string', help: 'folder written by `multigrain embed` (embeddings.npy, paths.txt, embed_args.json)' },
} as const satisfies OptionTable;

const USAGE = 'Usage: multigrain index build OUT --embeddings DIR';

/** What `multigrain embed` records (embed_args.json), as far as search needs it. */
export interface EmbedSettings {
  checkpoint?: string;
  inputSize?: number;
  inputCrop?: 'rect' | 'square';
  poolingExponent?: number;
  [key: string]: unknown;
}

export async function indexCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    console.log(`${USAGE}\n\n${optionsHelp('index build OUT', 'Builds a retrieval index file OUT from the embeddings of `multigrain embed`.', INDEX_OPTIONS)}`);
    if (sub === undefined) throw new Error(`a subcommand is required (${USAGE})`);
    return;
  }
  if (sub !== 'build') throw new Error(`unknown subcommand '${sub}' (${USAGE})`);
  const out = rest[0] !== undefined && !rest[0].startsWith('-') ? rest.shift() : undefined;
  const f = parseOptions(rest, INDEX_OPTIONS) as OptionValues<typeof INDEX_OPTIONS> | null;
  if (!f) {
    console.log(optionsHelp('index build OUT', 'Builds a retrieval index file OUT from the embeddings of `multigrain embed`.', INDEX_OPTIONS));
    return;
  }
  if (out === undefined) throw new Error(`the output index file is required (${USAGE})`);
  if (f.embeddings === undefined) throw new Error(`--embeddings DIR is required (${USAGE})`);
  const index = await indexFromEmbeddings(f.embeddings);
  await index.save(out);
  console.log(`indexed ${index.size} ${index.dim}-d embeddings of ${f.embeddings} -> ${out}`);
}

/** Reads an embeddings folder into an index; the settings record how to embed queries. */
export async function indexFromEmbeddings(dir: string): Promise<RetrievalIndex> {
  const npyFile = join(dir, 'embeddings.npy');
  const pathsFile = join(dir, 'paths.txt');
  if (!(await nodeFileStore.stat(dir))?.isDirectory) throw new Error(`--embeddings ${dir}: no such folder`);
  if (!(await nodeFileStore.stat(npyFile))) throw new Error(`--embeddings ${dir}: no embeddings.npy there (write it with multigrain embed)`);
  const array = decodeNpy(await nodeFileStore.readFile(npyFile), npyFile);
  if (array.dtype !== 'float32' || array.shape.length !== 2) throw new Error(`${npyFile}: expected float32 [N, D], got ${array.dtype} [${array.shape.join(', ')}]`);
  const [rows, dim] = array.shape as [number, number];
  if (rows === 0) throw new Error(`${npyFile}: no embeddings (0 rows)`);
  const pathsText = await readTextFile(nodeFileStore, pathsFile);
  if (pathsText === null) throw new Error(`--embeddings ${dir}: no paths.txt there`);
  const paths = pathsText.split(/\r?\n/).filter((l) => l !== '');
  if (paths.length !== rows) throw new Error(`${pathsFile}: ${paths.length} paths for ${rows} embeddings in ${npyFile}`);
  const settings = await readEmbedSettings(dir);
  const index = new RetrievalIndex(dim, { settings: { ...settings, embeddings: resolve(dir) } });
  index.add(array.data as Float32Array, paths);
  return index;
}

/** embed_args.json, with the checkpoint made absolute (the index may be searched from elsewhere). */
async function readEmbedSettings(dir: string): Promise<EmbedSettings> {
  const file = join(dir, 'embed_args.json');
  const text = await readTextFile(nodeFileStore, file);
  if (text === null) throw new Error(`--embeddings ${dir}: no embed_args.json there (it records the model that made the embeddings)`);
  let settings: EmbedSettings;
  try {
    settings = JSON.parse(text) as EmbedSettings;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const ckpt = settings.checkpoint ?? (settings.resumeFrom as string | undefined);
  if (typeof ckpt !== 'string') throw new Error(`${file}: no "checkpoint" recorded (the model that made the embeddings)`);
  // relative to where embed ran (usually here), else to the embeddings folder
  const absolute = isAbsolute(ckpt) ? ckpt : existsSync(ckpt) ? resolve(ckpt) : resolve(dir, ckpt);
  return { ...settings, checkpoint: absolute };
}
