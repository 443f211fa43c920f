/**
 * NASNet-A-Mobile (Zoph et al., 2018; "4 @ 1056") with the module names of Cadene's
 * `pretrainedmodels` (`conv0.conv`, `cell_stem_0.comb_iter_0_left.separable_1.depthwise_conv2d`,
 * `cell_stem_1.path_1.conv`, ..., `reduction_cell_0`, `cell_15`, `last_linear`), as the original
 * MultiGrain release loads it, and the release's forwards that crop branches to a common size
 * (multigrain/backbones/nasnet_mobile.py): any input size. `stemFilters` = 32 and
 * `penultimateFilters` = 1056 are the published net; smaller values give test-sized nets with the
 * same modules.
 */
import { type Tensor, shapeString } from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { Linear } from './layers.js';
import {
  BranchSeparables, ReluConvBn, FactorizedReduction, StemConvBn, shrinkSum, shrinkCat, maxPool3, avgPool3,
} from './nas-cells.js';

export interface NASNetMobileOptions {
  /** Channels of `conv0` (32 published). */
  stemFilters?: number;
  /** Channels of the last cell, 24 f (1056 published, f = 44). */
  penultimateFilters?: number;
  /** Classes of `last_linear`. */
  numClasses?: number;
  /** Build `last_linear` (MultiGrain keeps it as its classifier instead). */
  head?: boolean;
  seed?: number;
}

/** sum of two tensors over their common window, disposing both. */
function sumOwned(a: Tensor, b: Tensor): Tensor {
  const out = shrinkSum(a, b);
  a.dispose();
  b.dispose();
  return out;
}

/** Concatenation over the common window, disposing the parts. */
function catOwned(parts: Tensor[]): Tensor {
  const out = shrinkCat(parts);
  parts.forEach((t) => t.dispose());
  return out;
}

/** Registers a FactorizedReduction's `path_1`, `path_2` and `final_path_bn` on the cell itself (their names in CellStem1 and FirstCell). */
abstract class NasCell extends Module {
  protected paths(inC: number, half: number, rng: DataRng): FactorizedReduction {
    const fr = new FactorizedReduction(inC, half, rng);
    this.addModule('path_1', fr.path1);
    this.addModule('path_2', fr.path2);
    this.addModule('final_path_bn', fr.bn);
    return fr;
  }

  /** `combs` of the cell's two prepared inputs, which it then releases. */
  protected combined(left: Tensor, right: Tensor, combs: (left: Tensor, right: Tensor) => Tensor): Tensor {
    try {
      return combs(left, right);
    } finally {
      left.dispose();
      right.dispose();
    }
  }
}

class CellStem0 extends NasCell {
  readonly conv1x1: ReluConvBn;
  readonly c0l: BranchSeparables; readonly c0r: BranchSeparables;
  readonly c1r: BranchSeparables; readonly c2r: BranchSeparables;
  readonly c4l: BranchSeparables;
  constructor(stem: number, nf: number, rng: DataRng) {
    super();
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(stem, nf, rng));
    this.c0l = this.addModule('comb_iter_0_left', new BranchSeparables(nf, nf, 5, 2, rng));
    this.c0r = this.addModule('comb_iter_0_right', new BranchSeparables(stem, nf, 7, 2, rng, { stem: true }));
    this.c1r = this.addModule('comb_iter_1_right', new BranchSeparables(stem, nf, 7, 2, rng, { stem: true }));
    this.c2r = this.addModule('comb_iter_2_right', new BranchSeparables(stem, nf, 5, 2, rng, { stem: true }));
    this.c4l = this.addModule('comb_iter_4_left', new BranchSeparables(nf, nf, 3, 1, rng));
  }
  forward(x: Tensor): Tensor {
    const x1 = this.conv1x1.forward(x);
    const c0 = sumOwned(this.c0l.forward(x1), this.c0r.forward(x));
    const c1 = sumOwned(maxPool3(x1, 2), this.c1r.forward(x));
    const c2 = sumOwned(avgPool3(x1, 2), this.c2r.forward(x));
    const a3 = avgPool3(c0, 1);
    const c3 = shrinkSum(a3, c1);
    a3.dispose();
    const c4 = sumOwned(this.c4l.forward(c0), maxPool3(x1, 2));
    x1.dispose();
    c0.dispose();
    return catOwned([c1, c2, c3, c4]);
  }
}

/** The comb_iter branches of CellStem1 and the reduction cells ('specific': top-left padded, cropped). */
abstract class ReductionCombs extends NasCell {
  protected c0l!: BranchSeparables; protected c0r!: BranchSeparables;
  protected c1r!: BranchSeparables; protected c2r!: BranchSeparables;
  protected c4l!: BranchSeparables;
  protected addCombs(c: number, rng: DataRng): void {
    const sep = (k: number, stride: number): BranchSeparables => new BranchSeparables(c, c, k, stride, rng, { topLeftPad: true });
    this.c0l = this.addModule('comb_iter_0_left', sep(5, 2));
    this.c0r = this.addModule('comb_iter_0_right', sep(7, 2));
    this.c1r = this.addModule('comb_iter_1_right', sep(7, 2));
    this.c2r = this.addModule('comb_iter_2_right', sep(5, 2));
    this.c4l = this.addModule('comb_iter_4_left', sep(3, 1));
  }
  /** a: the input of the *_left branches, b: of the *_right ones. */
  protected combs(a: Tensor, b: Tensor): Tensor {
    const c0 = sumOwned(this.c0l.forward(a), this.c0r.forward(b));
    const c1 = sumOwned(maxPool3(a, 2, true), this.c1r.forward(b));
    const c2 = sumOwned(avgPool3(a, 2, true), this.c2r.forward(b));
    const a3 = avgPool3(c0, 1);
    const c3 = shrinkSum(a3, c1);
    a3.dispose();
    const c4 = sumOwned(this.c4l.forward(c0), maxPool3(a, 2, true));
    c0.dispose();
    return catOwned([c1, c2, c3, c4]);
  }
}

class CellStem1 extends ReductionCombs {
  readonly conv1x1: ReluConvBn;
  readonly fr: FactorizedReduction;
  constructor(stem: number, nf: number, rng: DataRng) {
    super();
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(2 * nf, nf, rng));
    this.fr = this.paths(stem, Math.floor(nf / 2), rng);
    this.addCombs(nf, rng);
  }
  forward(xConv0: Tensor, xStem0: Tensor): Tensor {
    return this.combined(this.conv1x1.forward(xStem0), this.fr.forward(xConv0), (left, right) => this.combs(left, right));
  }
}

/** ReductionCell0 and ReductionCell1 (the same modules; the release's forwards agree). */
class ReductionCell extends ReductionCombs {
  readonly convPrev: ReluConvBn;
  readonly conv1x1: ReluConvBn;
  constructor(inLeft: number, outLeft: number, inRight: number, outRight: number, rng: DataRng) {
    super();
    this.convPrev = this.addModule('conv_prev_1x1', new ReluConvBn(inLeft, outLeft, rng));
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(inRight, outRight, rng));
    this.addCombs(outRight, rng);
  }
  forward(x: Tensor, xPrev: Tensor): Tensor {
    return this.combined(this.convPrev.forward(xPrev), this.conv1x1.forward(x), (left, right) => this.combs(right, left));
  }
}

/** The comb_iter branches of FirstCell and NormalCell; the output keeps the left input. */
abstract class NormalCombs extends NasCell {
  protected c0l!: BranchSeparables; protected c0r!: BranchSeparables;
  protected c1l!: BranchSeparables; protected c1r!: BranchSeparables;
  protected c4l!: BranchSeparables;
  protected addCombs(left: number, right: number, rng: DataRng): void {
    const sep = (c: number, k: number): BranchSeparables => new BranchSeparables(c, c, k, 1, rng);
    this.c0l = this.addModule('comb_iter_0_left', sep(right, 5));
    this.c0r = this.addModule('comb_iter_0_right', sep(left, 3));
    this.c1l = this.addModule('comb_iter_1_left', sep(left, 5));
    this.c1r = this.addModule('comb_iter_1_right', sep(left, 3));
    this.c4l = this.addModule('comb_iter_4_left', sep(right, 3));
  }
  protected combs(left: Tensor, right: Tensor): Tensor {
    const c0 = sumOwned(this.c0l.forward(right), this.c0r.forward(left));
    const c1 = sumOwned(this.c1l.forward(left), this.c1r.forward(left));
    const a2 = avgPool3(right, 1);
    const c2 = shrinkSum(a2, left);
    a2.dispose();
    const c3 = sumOwned(avgPool3(left, 1), avgPool3(left, 1));
    const b4 = this.c4l.forward(right);
    const c4 = shrinkSum(b4, right);
    b4.dispose();
    const parts = [left, c0, c1, c2, c3, c4];
    const out = shrinkCat(parts);
    parts.slice(1).forEach((t) => t.dispose());
    return out;
  }
}

class FirstCell extends NormalCombs {
  readonly conv1x1: ReluConvBn;
  readonly fr: FactorizedReduction;
  constructor(inLeft: number, outLeft: number, inRight: number, outRight: number, rng: DataRng) {
    super();
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(inRight, outRight, rng));
    this.fr = this.paths(inLeft, outLeft, rng);
    this.addCombs(2 * outLeft, outRight, rng);
  }
  forward(x: Tensor, xPrev: Tensor): Tensor {
    return this.combined(this.fr.forward(xPrev), this.conv1x1.forward(x), (left, right) => this.combs(left, right));
  }
}

class NormalCell extends NormalCombs {
  readonly convPrev: ReluConvBn;
  readonly conv1x1: ReluConvBn;
  constructor(inLeft: number, outLeft: number, inRight: number, outRight: number, rng: DataRng) {
    super();
    this.convPrev = this.addModule('conv_prev_1x1', new ReluConvBn(inLeft, outLeft, rng));
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(inRight, outRight, rng));
    this.addCombs(outLeft, outRight, rng);
  }
  forward(x: Tensor, xPrev: Tensor): Tensor {
    return this.combined(this.convPrev.forward(xPrev), this.conv1x1.forward(x), (left, right) => this.combs(left, right));
  }
}

type TwoInputCell = FirstCell | NormalCell | ReductionCell;

/** The cells after the stem: name, kind, [in_left, out_left, in_right, out_right] in units of f / 2. */
const CELLS: [string, 'first' | 'normal' | 'reduction', [number, number, number, number]][] = [
  ['cell_0', 'first', [2, 1, 4, 2]],
  ['cell_1', 'normal', [4, 2, 12, 2]],
  ['cell_2', 'normal', [12, 2, 12, 2]],
  ['cell_3', 'normal', [12, 2, 12, 2]],
  ['reduction_cell_0', 'reduction', [12, 4, 12, 4]],
  ['cell_6', 'first', [12, 2, 16, 4]],
  ['cell_7', 'normal', [16, 4, 24, 4]],
  ['cell_8', 'normal', [24, 4, 24, 4]],
  ['cell_9', 'normal', [24, 4, 24, 4]],
  ['reduction_cell_1', 'reduction', [24, 8, 24, 8]],
  ['cell_12', 'first', [24, 4, 32, 8]],
  ['cell_13', 'normal', [32, 8, 48, 8]],
  ['cell_14', 'normal', [48, 8, 48, 8]],
  ['cell_15', 'normal', [48, 8, 48, 8]],
];

export class NASNetAMobile extends Module {
  /** Channels of `features()` (1056 published). */
  readonly featureDim: number;
  readonly conv0: StemConvBn;
  readonly stem0: CellStem0;
  readonly stem1: CellStem1;
  readonly cells: TwoInputCell[];
  readonly lastLinear: Linear | null;

  constructor(options: NASNetMobileOptions = {}) {
    super();
    const stem = options.stemFilters ?? 32;
    const f = Math.floor((options.penultimateFilters ?? 1056) / 24);
    if (f < 4) throw new Error(`NASNetAMobile: penultimateFilters must be at least 96 (f = penultimate / 24 >= 4), got ${options.penultimateFilters}`);
    const rng = new DataRng(options.seed ?? 0);
    this.conv0 = this.addModule('conv0', new StemConvBn(stem, rng));
    this.stem0 = this.addModule('cell_stem_0', new CellStem0(stem, Math.floor(f / 4), rng));
    this.stem1 = this.addModule('cell_stem_1', new CellStem1(stem, Math.floor(f / 2), rng));
    // in units of f / 2: `f / 2` itself is floor(f / 2) as the original's `filters // 2`
    const unit = (u: number): number => (u === 1 ? Math.floor(f / 2) : (u / 2) * f);
    this.cells = CELLS.map(([name, kind, dims]) => {
      const [il, ol, ir, or] = dims.map(unit) as [number, number, number, number];
      const cell = kind === 'first' ? new FirstCell(il, ol, ir, or, rng)
        : kind === 'normal' ? new NormalCell(il, ol, ir, or, rng) : new ReductionCell(il, ol, ir, or, rng);
      return this.addModule(name, cell);
    });
    this.featureDim = 24 * f;
    this.lastLinear = options.head === false ? null : this.addModule('last_linear', new Linear(this.featureDim, options.numClasses ?? 1000, true, rng));
  }

  /** The trunk, conv0 ... cell_15 (no final ReLU, as the original's `features`): [N, 24f, ~H/32, ~W/32]. */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`NASNetAMobile: input must be [N, 3, H, W], got ${shapeString(x.shape)}`);
    if (x.shape[2] < 32 || x.shape[3] < 32) throw new Error(`NASNetAMobile: input ${shapeString(x.shape)} is smaller than 32x32`);
    const c0 = this.conv0.forward(x);
    const s0 = this.stem0.forward(c0);
    const s1 = this.stem1.forward(c0, s0);
    c0.dispose();
    // each cell reads the two previous outputs (x, x_prev): (stem_1, stem_0), (cell_0, stem_1), ...
    let [prev, cur] = [s0, s1];
    for (const cell of this.cells) {
      const next = cell.forward(cur, prev);
      prev.dispose();
      [prev, cur] = [cur, next];
    }
    prev.dispose();
    return cur;
  }
}
