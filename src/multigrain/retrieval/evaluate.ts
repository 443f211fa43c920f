/**
 * Retrieval evaluation of a model on a benchmark (Holidays, Copydays, UKBench, or any
 * {@link RetrievalDataset}): embed every image, rank the database for each query by
 * similarity of the normalized (whitened, if the model is) embeddings, and score.
 */
import type { DataLoader, RetrievalDataset } from '../../data/index.js';
import type { MultiGrain } from '../model.js';
import { extractEmbeddings, type Embeddings } from './embeddings.js';
import { rankPositives, type SearchOptions } from './search.js';
import { averagePrecision, hitsInTop, mean } from './metrics.js';

export interface RetrievalResult {
  /** Mean average precision over the queries (0-1). */
  mAP: number;
  /** Mean number of relevant items in the top 4 (UKBench's N-S score, out of 4). */
  top4: number;
  /** Average precision of each query. */
  ap: Float64Array;
  /** Each query's best database positions (`topK` of them; empty without `topK`). */
  top: Int32Array[];
  /** mAP per query family (Copydays: crops, jpegqual, strong) and per family/level variant. */
  groups: Record<string, number>;
  /** Number of queries behind each entry of `groups`. */
  groupQueries: Record<string, number>;
  queries: number;
  databaseSize: number;
  /** How the embedding went (absent when scoring precomputed embeddings): images, forward passes, seconds. */
  extraction?: { images: number; batches: number; seconds: number };
}

export interface RetrievalOptions extends SearchOptions {
  /** Images per forward pass (default 1; rect mode groups the images by output size first). */
  batchSize?: number;
  /** Progress bar label for the feature extraction; none when omitted. */
  progress?: string;
}

/** Embeds the loader's dataset (it must be `dataset`) and scores the benchmark. */
export async function evaluateRetrieval(model: MultiGrain, dataset: RetrievalDataset, loader: DataLoader, options: RetrievalOptions = {}): Promise<RetrievalResult> {
  if (loader.dataset !== dataset) throw new Error('evaluateRetrieval: the loader must read the benchmark dataset');
  const features = await extractEmbeddings(model, loader, { kind: 'normalized', batchSize: options.batchSize ?? 1, ...(options.progress ? { progress: options.progress } : {}) });
  const result = await scoreRetrieval(features, dataset, options);
  return { ...result, extraction: { images: features.rows, batches: features.batches ?? 0, seconds: features.seconds ?? 0 } };
}

/** Scores precomputed embeddings (row i = dataset item i) on a benchmark. */
export async function scoreRetrieval(features: Embeddings, dataset: RetrievalDataset, options: SearchOptions = {}): Promise<RetrievalResult> {
  const { ranks, top } = await rankPositives(features, dataset.queries, dataset.database, dataset.groundTruth, options);
  const ap = Float64Array.from(ranks, (r, q) => averagePrecision(r, dataset.groundTruth[q]!.positives.length));
  return {
    mAP: mean([...ap]),
    top4: mean(ranks.map((r) => hitsInTop(r, 4))),
    ap,
    top,
    ...groupMeans(dataset, ap),
    queries: ranks.length,
    databaseSize: dataset.database.length,
  };
}

/** Per-family and per-level mAP (and query counts) where the dataset labels its queries (Copydays). */
function groupMeans(dataset: RetrievalDataset, ap: Float64Array): { groups: Record<string, number>; groupQueries: Record<string, number> } {
  const variants = (dataset as Partial<{ queryVariants: readonly { family: string; level: string }[] }>).queryVariants;
  if (!variants) return { groups: {}, groupQueries: {} };
  const members = new Map<string, number[]>();
  variants.forEach((v, q) => {
    for (const key of v.level ? [v.family, `${v.family}/${v.level}`] : [v.family]) {
      if (!members.has(key)) members.set(key, []);
      members.get(key)!.push(ap[q]!);
    }
  });
  return {
    groups: Object.fromEntries([...members].map(([k, values]) => [k, mean(values)])),
    groupQueries: Object.fromEntries([...members].map(([k, values]) => [k, values.length])),
  };
}
