/**
 * INRIA Holidays (original release layout: `root/jpg/NNNNXX.jpg`, or the jpgs directly in
 * `root`). Files sorted by id; group = floor(id / 100); the image whose id is divisible
 * by 100 is the group's query. Every group is kept (the original loader dropped the last).
 *
 * Rotations: the release's fix-up list ({@link HOLIDAYS_ROTATIONS}) is applied after
 * decoding, before any transform. Because that list was made for the pixels as stored
 * (PIL ignores EXIF orientation), EXIF orientation is NOT applied to these files.
 *
 * Protocol: 500 queries; the database is every image (queries included); each query's
 * positives are the other images of its group and the query itself is ignored (removed
 * from its own ranking). mAP over queries.
 */
import type { ImageDecoder } from '../decode.js';
import type { ImageRecord, RetrievalDataset, RetrievalTruth } from './common.js';
import { RecordDataset, baseName, fileNumber, joinPath, pathKind, requireDir, walkImages } from './common.js';
import { HOLIDAYS_ROTATIONS } from './holidays-rotate.js';

/** Options of {@link HolidaysDataset.open}. */
export interface HolidaysOptions {
  /** Apply the rotation fix-up list (default true). */
  rotate?: boolean;
  decoder?: ImageDecoder;
}

/** INRIA Holidays retrieval benchmark. */
export class HolidaysDataset extends RecordDataset implements RetrievalDataset {
  readonly queries: Int32Array;
  readonly database: Int32Array;
  readonly groundTruth: readonly RetrievalTruth[];
  /** File id of each image (e.g. 100301). */
  readonly ids: Int32Array;
  /** Group of each image: rank of floor(id / 100) (also its label). */
  readonly groups: Int32Array;

  private constructor(records: ImageRecord[], ids: number[], decoder?: ImageDecoder) {
    super(records, decoder);
    this.ids = Int32Array.from(ids);
    this.groups = this.labels;
    const queries: number[] = [];
    const truth: RetrievalTruth[] = [];
    const members = new Map<number, number[]>();
    ids.forEach((_, i) => {
      const g = this.labels[i]!;
      if (!members.has(g)) members.set(g, []);
      members.get(g)!.push(i);
    });
    ids.forEach((id, i) => {
      if (id % 100 !== 0) return;
      queries.push(i);
      truth.push({ positives: members.get(this.labels[i]!)!.filter((j) => j !== i), ignore: [i] });
    });
    this.queries = Int32Array.from(queries);
    this.database = Int32Array.from(ids, (_, i) => i);
    this.groundTruth = truth;
  }

  /** Scans the release folder. */
  static async open(root: string, options: HolidaysOptions = {}): Promise<HolidaysDataset> {
    await requireDir(root, 'Holidays');
    const dir = (await pathKind(joinPath(root, 'jpg'))) === 'dir' ? joinPath(root, 'jpg') : root;
    const files = await walkImages(dir, ['.jpg', '.jpeg']);
    if (files.length === 0) throw new Error(`Holidays: no .jpg images in ${dir} (expected root/jpg/NNNNXX.jpg)`);
    const items = files.map((path) => {
      const id = fileNumber(path);
      if (id === null) throw new Error(`Holidays: file name ${path} is not a numeric id (expected NNNNXX.jpg)`);
      return { path, id };
    });
    items.sort((a, b) => a.id - b.id);
    const groupIds = [...new Set(items.map((it) => Math.floor(it.id / 100)))];
    const rank = new Map(groupIds.map((g, i) => [g, i]));
    const withQuery = new Set(items.filter((it) => it.id % 100 === 0).map((it) => Math.floor(it.id / 100)));
    const missing = groupIds.filter((g) => !withQuery.has(g));
    if (missing.length > 0) {
      throw new Error(`Holidays: ${missing.length} group(s) have no query image (id divisible by 100), e.g. ${missing[0]! * 100}.jpg missing in ${dir}`);
    }
    const rotate = options.rotate ?? true;
    const records: ImageRecord[] = items.map((it) => {
      const r: ImageRecord = { path: it.path, label: rank.get(Math.floor(it.id / 100))!, autoOrient: false };
      const angle = rotate ? HOLIDAYS_ROTATIONS[baseName(it.path)] : undefined;
      if (angle) r.rotate = angle;
      return r;
    });
    return new HolidaysDataset(records, items.map((it) => it.id), options.decoder);
  }
}
