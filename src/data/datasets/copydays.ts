/**
 * INRIA Copydays (release layout, as the MultiGrain loader reads it): the 157 originals
 * `root/NNNN00.jpg` (or `root/original/`), and attacked copies in sub-folders, one folder per
 * family: `crops/<level>/`, `jpegqual/<level>/`, `strong/`. A copy belongs to the original
 * with id floor(id / 100) * 100. Optional distractor images (the paper's 10k YFCC100M
 * images) join the database: `root/distractors/` when present, or a list / folder given.
 * Any other folder in the root is an error naming it (a stray folder parsed as a family of
 * copies would fail on its first file with a confusing "has no original").
 *
 * Dataset order: originals (sorted by id), attacked copies (sorted by family, level, id),
 * distractors. Queries = the copies; database = originals + distractors; each query's one
 * positive is its original. `queryVariants` gives family and level of each query for
 * per-family mAP.
 */
import type { ImageDecoder } from '../decode.js';
import type { ImageRecord, RetrievalDataset, RetrievalTruth } from './common.js';
import { ImageListDataset } from './list-dataset.js';
import { RecordDataset, fileNumber, joinPath, listDir, pathKind, requireDir, walkImages } from './common.js';

/** Family and level of an attacked copy ('crops', '10'), ('strong', ''). */
export interface CopydaysVariant {
  family: string;
  level: string;
  /** Id of the original it derives from. */
  originalId: number;
}

/** The attack families of the release, as folders of the root. */
export const COPYDAYS_FAMILIES: readonly string[] = ['crops', 'jpegqual', 'strong'];

/**
 * The query subsets `evaluate --copydays-subset` names, as `variants`: the paper's Copydays
 * figure is `strong` (with 10k distractors); `jpeg` is the release's `jpegqual` folder.
 */
export const COPYDAYS_SUBSETS = { strong: ['strong'], crops: ['crops'], jpeg: ['jpegqual'], all: [...COPYDAYS_FAMILIES] } as const;
export type CopydaysSubset = keyof typeof COPYDAYS_SUBSETS;

/** Distractor folder read from inside the root unless a list or folder is given. */
export const COPYDAYS_DISTRACTOR_DIR = 'distractors';

/** Options of {@link CopydaysDataset.open}. */
export interface CopydaysOptions {
  /** Keep only these variants, given as a family ('strong') or 'family/level' ('crops/50'). */
  variants?: readonly string[];
  /** Distractors: a list file of paths (relative to `distractorRoot` or its own folder). */
  distractorList?: string;
  /** Distractors: a folder walked for .jpg files (or the root of `distractorList`). Default:
   * `root/distractors/` when it exists (`false`: none). */
  distractorRoot?: string | false;
  /** Keep at most this many distractors (default all). */
  numDistractors?: number;
  decoder?: ImageDecoder;
}

/** INRIA Copydays retrieval benchmark. */
export class CopydaysDataset extends RecordDataset implements RetrievalDataset {
  readonly queries: Int32Array;
  readonly database: Int32Array;
  readonly groundTruth: readonly RetrievalTruth[];
  /** Variant of each query (same order as `queries`). */
  readonly queryVariants: readonly CopydaysVariant[];
  readonly numOriginals: number;
  readonly numDistractors: number;

  private constructor(records: ImageRecord[], numOriginals: number, variants: CopydaysVariant[], originalPos: number[], numDistractors: number, decoder?: ImageDecoder) {
    super(records, decoder);
    this.numOriginals = numOriginals;
    this.numDistractors = numDistractors;
    const nq = variants.length;
    this.queries = Int32Array.from({ length: nq }, (_, k) => numOriginals + k);
    this.database = Int32Array.from({ length: numOriginals + numDistractors }, (_, k) => (k < numOriginals ? k : k + nq));
    this.queryVariants = variants;
    this.groundTruth = originalPos.map((p) => ({ positives: [p], ignore: [] }));
  }

  /** Query positions (indices into `queries`) grouped by family. */
  queriesByFamily(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    this.queryVariants.forEach((v, q) => {
      if (!out.has(v.family)) out.set(v.family, []);
      out.get(v.family)!.push(q);
    });
    return out;
  }

  /** Scans the release folder (and the distractors). */
  static async open(root: string, options: CopydaysOptions = {}): Promise<CopydaysDataset> {
    await requireDir(root, 'Copydays');
    const origDir = (await pathKind(joinPath(root, 'original'))) === 'dir' ? joinPath(root, 'original') : root;
    const { files: rootFiles } = await listDir(origDir);
    const originals = rootFiles.filter((f) => /\.jpe?g$/i.test(f)).map((f) => {
      const path = joinPath(origDir, f);
      const id = fileNumber(path);
      if (id === null) throw new Error(`Copydays: file name ${path} is not a numeric id`);
      return { path, id };
    }).sort((a, b) => a.id - b.id);
    if (originals.length === 0) throw new Error(`Copydays: no original .jpg images in ${origDir} (expected root/NNNN00.jpg)`);
    const originalIndex = new Map(originals.map((o, i) => [o.id, i]));

    const { dirs } = await listDir(root);
    const unexpected = dirs.filter((d) => !COPYDAYS_FAMILIES.includes(d) && d !== COPYDAYS_DISTRACTOR_DIR && !(d === 'original' && origDir !== root));
    if (unexpected.length > 0) {
      throw new Error(`Copydays: unexpected folder ${unexpected.map((d) => joinPath(root, d) + '/').join(', ')} (expected the originals, ` +
        `${COPYDAYS_FAMILIES.map((f) => f + '/').join(', ')} and optionally original/ and ${COPYDAYS_DISTRACTOR_DIR}/)`);
    }
    const copies: { path: string; id: number; variant: CopydaysVariant }[] = [];
    for (const family of dirs) {
      if (!COPYDAYS_FAMILIES.includes(family)) continue;
      if (options.variants && !options.variants.some((v) => v === family || v.startsWith(`${family}/`))) continue;
      const files = await walkImages(joinPath(root, family), ['.jpg', '.jpeg']);
      for (const path of files) {
        const rel = path.slice(joinPath(root, family).length + 1);
        const level = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
        const variantName = level ? `${family}/${level}` : family;
        if (options.variants && !options.variants.includes(family) && !options.variants.includes(variantName)) continue;
        const id = fileNumber(path);
        if (id === null) throw new Error(`Copydays: file name ${path} is not a numeric id`);
        const originalId = Math.floor(id / 100) * 100;
        if (!originalIndex.has(originalId)) throw new Error(`Copydays: ${path} has no original ${originalId}.jpg in ${origDir}`);
        copies.push({ path, id, variant: { family, level, originalId } });
      }
    }
    if (copies.length === 0) {
      throw new Error(`Copydays: no attacked copies in ${root}${options.variants ? ` for ${options.variants.join(', ')}` : ''} (expected ${COPYDAYS_FAMILIES.map((f) => f + '/').join(', ')})`);
    }
    const levelKey = (l: string): number => (/^\d+$/.test(l) ? Number(l) : Number.POSITIVE_INFINITY);
    copies.sort((a, b) => a.variant.family.localeCompare(b.variant.family) ||
      levelKey(a.variant.level) - levelKey(b.variant.level) || a.variant.level.localeCompare(b.variant.level) || a.id - b.id);

    let distractors: string[] = [];
    const inside = joinPath(root, COPYDAYS_DISTRACTOR_DIR);
    const distractorRoot = options.distractorRoot ?? (options.distractorList === undefined && dirs.includes(COPYDAYS_DISTRACTOR_DIR) ? inside : undefined);
    if (options.distractorList !== undefined) {
      const listOpts = typeof options.distractorRoot === 'string' ? { root: options.distractorRoot } : {};
      const list = await ImageListDataset.open(options.distractorList, listOpts);
      distractors = Array.from({ length: list.length }, (_, i) => list.record(i).path!);
    } else if (typeof distractorRoot === 'string') {
      await requireDir(distractorRoot, 'Copydays distractors');
      distractors = await walkImages(distractorRoot, ['.jpg', '.jpeg']);
    }
    if (options.numDistractors !== undefined && options.numDistractors >= 0) distractors = distractors.slice(0, options.numDistractors);

    const records: ImageRecord[] = [
      ...originals.map((o, i) => ({ path: o.path, label: i })),
      ...copies.map((c) => ({ path: c.path, label: originalIndex.get(c.variant.originalId)! })),
      ...distractors.map((path) => ({ path, label: -1 })),
    ];
    return new CopydaysDataset(records, originals.length, copies.map((c) => c.variant),
      copies.map((c) => originalIndex.get(c.variant.originalId)!), distractors.length, options.decoder);
  }
}
