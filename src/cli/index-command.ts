/**
 * `multigrain index build OUT --embeddings DIR`: a retrieval index (one safetensors file, see
 * src/io/FORMAT.md) from the folder `multigrain embed` writes: DIR/embeddings.npy (float32
 * [N, D]), DIR/paths.txt (N lines, row order) and DIR/embed_args.json (how the images were
 * embedded; `multigrain search` embeds its query the same way). With `--data-path DIR` (or
 * `--list FILE`) and `--checkpoint C` instead, it embeds the images first, into the folder
 * OUT.embeddings beside OUT (resumable, as `multigrain embed`), then indexes them.
 *
 * `--kind exact` (default) searches every vector on the GPU; `--kind hnsw` (or `--approximate`)
 * builds an HNSW graph (hnswlib-node) for approximate search of databases past what the GPU
 * holds or searched from a CPU; `multigrain search` tells the kinds apart from the file.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { parseOptions, optionsHelp } from './args.js';
import { decodeNpy, nodeFileStore, readTextFile } from '../io/index.js';
import { RetrievalIndex, HnswIndex, HNSW_DEFAULTS, type AnyRetrievalIndex, type HnswParameters } from '../multigrain/index.js';
import { EMBED_OPTIONS, runEmbed } from './embed-command.js';
import type { OptionTable, OptionValues } from '../util/options.js';

// every embed flag but --output: the embeddings go to OUT.embeddings
const { output: _output, ...EMBED_FLAGS } = EMBED_OPTIONS;

export const INDEX_OPTIONS = {
  embeddings: { flag: 'embeddings', type: 'string', help: 'folder written by `multigrain embed` (embeddings.npy, paths.txt, embed_args.json)' },
  kind: { flag: 'kind', type: 'string', help: 'exact: every vector, on the GPU; hnsw: approximate (HNSW graph, hnswlib-node), for databases past the GPU', choices: ['exact', 'hnsw'], default: 'exact' },
  approximate: { flag: 'approximate', type: 'boolean', help: 'same as --kind hnsw' },
  m: { flag: 'm', type: 'int', help: `hnsw: links per node (more: better recall, more memory) (default ${HNSW_DEFAULTS.m})`, min: 2, max: 512 },
  efConstruction: { flag: 'ef-construction', type: 'int', help: `hnsw: candidates while building (default ${HNSW_DEFAULTS.efConstruction})`, min: 1 },
  efSearch: { flag: 'ef-search', type: 'int', help: `hnsw: candidates while searching, stored in the index (default ${HNSW_DEFAULTS.efSearch})`, min: 1 },
  ...EMBED_FLAGS,
} as const satisfies OptionTable;

type IndexFlags = OptionValues<typeof INDEX_OPTIONS>;

const USAGE = 'Usage: multigrain index build OUT (--embeddings DIR | --data-path DIR --checkpoint C [embed flags]) [--kind exact|hnsw]';
const ABOUT = 'Builds a retrieval index file OUT from the embeddings of `multigrain embed`, or embeds a folder first (into OUT.embeddings).';

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
    console.log(`${USAGE}\n\n${optionsHelp('index build OUT', ABOUT, INDEX_OPTIONS)}`);
    if (sub === undefined) throw new Error(`a subcommand is required (${USAGE})`);
    return;
  }
  if (sub !== 'build') throw new Error(`unknown subcommand '${sub}' (${USAGE})`);
  const out = rest[0] !== undefined && !rest[0].startsWith('-') ? rest.shift() : undefined;
  const f = parseOptions(rest, INDEX_OPTIONS) as IndexFlags | null;
  if (!f) {
    console.log(optionsHelp('index build OUT', ABOUT, INDEX_OPTIONS));
    return;
  }
  if (out === undefined) throw new Error(`the output index file is required (${USAGE})`);
  const fromImages = f.dataPath !== undefined || f.list !== undefined;
  if (f.embeddings !== undefined && fromImages) throw new Error(`give either --embeddings DIR or --${f.dataPath !== undefined ? 'data-path' : 'list'} (with --checkpoint), not both`);
  if (f.embeddings === undefined && !fromImages) throw new Error(`--embeddings DIR or --data-path DIR is required (${USAGE})`);
  if (f.embeddings !== undefined && f.checkpoint !== undefined) throw new Error('--checkpoint goes with --data-path or --list (the embeddings folder records its own checkpoint)');
  if (f.approximate && f.kind === 'exact' && rest.some((a) => a === '--kind' || a.startsWith('--kind='))) throw new Error('--approximate and --kind exact contradict each other');
  const kind = f.approximate ? 'hnsw' : f.kind;
  if (kind !== 'hnsw') {
    for (const [key, flag] of [['m', 'm'], ['efConstruction', 'ef-construction'], ['efSearch', 'ef-search']] as const) {
      if (f[key] !== undefined) throw new Error(`--${flag} is an HNSW parameter: add --kind hnsw (or --approximate)`);
    }
  }
  let dir = f.embeddings;
  if (dir === undefined) {
    dir = `${out}.embeddings`;
    if (!(await runEmbed(f, dir))) {
      console.log(`not indexed yet: the embeddings in ${dir} are incomplete (rerun the same command to continue)`);
      return;
    }
  }
  const hnsw = kind === 'hnsw' ? { m: f.m, efConstruction: f.efConstruction, efSearch: f.efSearch } : undefined;
  const started = performance.now();
  const index = await indexFromEmbeddings(dir, hnsw);
  const seconds = (performance.now() - started) / 1000;
  await index.save(out);
  const how = index instanceof HnswIndex ? `an HNSW index (M ${index.m}, efConstruction ${index.efConstruction}, efSearch ${index.efSearch}) in ${seconds.toFixed(1)} s` : 'an exact index';
  console.log(`indexed ${index.size} ${index.dim}-d embeddings of ${dir} -> ${out}: ${how}`);
}

/**
 * Reads an embeddings folder into an index (exact, or HNSW when `hnsw` parameters are given,
 * unset ones at their defaults); the settings record how to embed queries.
 */
export async function indexFromEmbeddings(dir: string, hnsw?: Partial<HnswParameters>): Promise<AnyRetrievalIndex> {
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
  const options = { settings: { ...settings, embeddings: resolve(dir) } };
  const defined = Object.fromEntries(Object.entries(hnsw ?? {}).filter(([, v]) => v !== undefined));
  const index = hnsw ? await HnswIndex.create(dim, { ...defined, ...options }) : new RetrievalIndex(dim, options);
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
