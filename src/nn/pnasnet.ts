/**
 * PNASNet-5-Large (Liu et al., 2018) with the module names of Cadene's `pretrainedmodels`
 * (`conv_0.conv`, `cell_stem_0.comb_iter_0_left.separable_1.depthwise_conv2d`, ...,
 * `cell_11`, `last_linear`), as the original MultiGrain release loads it, and the release's
 * forward that crops branches to a common size (multigrain/backbones/pnasnet.py): any input
 * size. `stem` = 96 and `f` = 54 are the published net (cells of 5f, 10f, 20f, 40f, 80f = 4320
 * channels); smaller values give test-sized nets with the same modules.
 */
import { type Tensor, shapeString } from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { Conv2d, BatchNorm2d, Linear, convBatchNorm } from './layers.js';
import {
  NAS_BN_EPS, BranchSeparables, ReluConvBn, FactorizedReduction, StemConvBn, shrinkSum, shrinkCat, maxPool3,
} from './nas-cells.js';

export interface PNASNetOptions {
  /** Channels of `conv_0` (96 published). */
  stem?: number;
  /** The cells' unit of channels (54 published; must be even). */
  f?: number;
  /** Classes of `last_linear` (1000, or 1001 with the background class). */
  numClasses?: number;
  /** Build `last_linear` (MultiGrain keeps it as its classifier instead). */
  head?: boolean;
  seed?: number;
}

/** `comb_iter_0_right` of the stem cell: max pool, then conv + bn (`conv`, `bn`). */
class PoolConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inC: number, outC: number, rng: DataRng) {
    super();
    this.conv = this.addModule('conv', new Conv2d(inC, outC, 1, {}, rng));
    this.bn = this.addModule('bn', new BatchNorm2d(outC, 0.1, NAS_BN_EPS));
  }
  forward(x: Tensor): Tensor {
    const pooled = maxPool3(x, 2);
    const out = convBatchNorm(this.conv, this.bn, pooled);
    pooled.dispose();
    return out;
  }
}

type Branch = { forward(x: Tensor): Tensor };

/** The five comb_iter sums of a PNASNet cell, concatenated (`cell_forward` of the release). */
abstract class CellBase extends Module {
  protected c0l!: Branch; protected c0r!: Branch;
  protected c1l!: Branch; protected c1r!: Branch;
  protected c2l!: Branch; protected c2r!: Branch;
  protected c3l!: Branch; protected c3r!: Branch;
  protected c4l!: Branch; protected c4r: Branch | null = null;

  protected branch<M extends Module>(name: string, m: M): M {
    return this.addModule(name, m);
  }

  protected cellForward(left: Tensor, right: Tensor): Tensor {
    const pair = (a: Branch, xa: Tensor, b: Branch | null, xb: Tensor): Tensor => {
      const ya = a.forward(xa);
      const yb = b ? b.forward(xb) : xb;
      const s = shrinkSum(ya, yb);
      ya.dispose();
      if (yb !== xb) yb.dispose();
      return s;
    };
    const c0 = pair(this.c0l, left, this.c0r, left);
    const c1 = pair(this.c1l, right, this.c1r, right);
    const c2 = pair(this.c2l, right, this.c2r, right);
    const c3 = pair(this.c3l, c2, this.c3r, right);
    const c4 = pair(this.c4l, left, this.c4r, right);
    const parts = [c0, c1, c2, c3, c4];
    const out = shrinkCat(parts);
    parts.forEach((t) => t.dispose());
    return out;
  }
}

/** A branch without parameters. */
const pool = (stride: number, topLeftPad = false): Branch => ({ forward: (x) => maxPool3(x, stride, topLeftPad) });

class CellStem0 extends CellBase {
  readonly conv1x1: ReluConvBn;
  constructor(inLeft: number, outLeft: number, inRight: number, outRight: number, rng: DataRng) {
    super();
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(inRight, outRight, rng));
    this.c0l = this.branch('comb_iter_0_left', new BranchSeparables(inLeft, outLeft, 5, 2, rng, { stem: true }));
    this.c0r = this.branch('comb_iter_0_right', new PoolConvBn(inLeft, outLeft, rng));
    this.c1l = this.branch('comb_iter_1_left', new BranchSeparables(outRight, outRight, 7, 2, rng));
    this.c1r = pool(2);
    this.c2l = this.branch('comb_iter_2_left', new BranchSeparables(outRight, outRight, 5, 2, rng));
    this.c2r = this.branch('comb_iter_2_right', new BranchSeparables(outRight, outRight, 3, 2, rng));
    this.c3l = this.branch('comb_iter_3_left', new BranchSeparables(outRight, outRight, 3, 1, rng));
    this.c3r = pool(2);
    this.c4l = this.branch('comb_iter_4_left', new BranchSeparables(inRight, outRight, 3, 2, rng, { stem: true }));
    this.c4r = this.branch('comb_iter_4_right', new ReluConvBn(outRight, outRight, rng, 1, 2));
  }
  forward(x: Tensor): Tensor {
    const right = this.conv1x1.forward(x);
    const out = this.cellForward(x, right);
    right.dispose();
    return out;
  }
}

interface CellShape {
  reduction?: boolean;
  zeroPad?: boolean;
  /** The left input is twice the right's size: a FactorizedReduction instead of a 1x1 conv. */
  matchPrev?: boolean;
}

class Cell extends CellBase {
  readonly convPrev: ReluConvBn | FactorizedReduction;
  readonly conv1x1: ReluConvBn;
  constructor(inLeft: number, outLeft: number, inRight: number, outRight: number, shape: CellShape, rng: DataRng) {
    super();
    const stride = shape.reduction ? 2 : 1;
    const topLeftPad = shape.zeroPad ?? false;
    this.convPrev = this.addModule('conv_prev_1x1', shape.matchPrev
      ? new FactorizedReduction(inLeft, outLeft / 2, rng)
      : new ReluConvBn(inLeft, outLeft, rng));
    this.conv1x1 = this.addModule('conv_1x1', new ReluConvBn(inRight, outRight, rng));
    const sep = (c: number, k: number, s = stride, pad = topLeftPad): BranchSeparables => new BranchSeparables(c, c, k, s, rng, { topLeftPad: pad });
    this.c0l = this.branch('comb_iter_0_left', sep(outLeft, 5));
    this.c0r = pool(stride, topLeftPad);
    this.c1l = this.branch('comb_iter_1_left', sep(outRight, 7));
    this.c1r = pool(stride, topLeftPad);
    this.c2l = this.branch('comb_iter_2_left', sep(outRight, 5));
    this.c2r = this.branch('comb_iter_2_right', sep(outRight, 3));
    this.c3l = this.branch('comb_iter_3_left', sep(outRight, 3, 1, false));
    this.c3r = pool(stride, topLeftPad);
    this.c4l = this.branch('comb_iter_4_left', sep(outLeft, 3));
    this.c4r = shape.reduction ? this.branch('comb_iter_4_right', new ReluConvBn(outRight, outRight, rng, 1, 2)) : null;
  }
  forward(xLeft: Tensor, xRight: Tensor): Tensor {
    const left = this.convPrev.forward(xLeft);
    const right = this.conv1x1.forward(xRight);
    const out = this.cellForward(left, right);
    left.dispose();
    right.dispose();
    return out;
  }
}

/** The twelve cells after the stem: [in_left, out_left, in_right, out_right] in units of f, and their shape. */
const CELLS: [number, number, number, number, CellShape][] = [
  [5, 4, 10, 4, { matchPrev: true }],
  [10, 4, 20, 4, {}],
  [20, 4, 20, 4, {}],
  [20, 4, 20, 4, {}],
  [20, 8, 20, 8, { reduction: true, zeroPad: true }],
  [20, 8, 40, 8, { matchPrev: true }],
  [40, 8, 40, 8, {}],
  [40, 8, 40, 8, {}],
  [40, 16, 40, 16, { reduction: true }],
  [40, 16, 80, 16, { matchPrev: true }],
  [80, 16, 80, 16, {}],
  [80, 16, 80, 16, {}],
];

export class PNASNet5Large extends Module {
  /** Channels of `features()` (4320 published). */
  readonly featureDim: number;
  readonly conv0: StemConvBn;
  readonly stem0: CellStem0;
  readonly stem1: Cell;
  readonly cells: Cell[];
  readonly lastLinear: Linear | null;

  constructor(options: PNASNetOptions = {}) {
    super();
    const stem = options.stem ?? 96;
    const f = options.f ?? 54;
    if (f % 2 !== 0) throw new Error(`PNASNet5Large: f must be even (its factorized reductions halve 2f), got ${f}`);
    const rng = new DataRng(options.seed ?? 0);
    this.conv0 = this.addModule('conv_0', new StemConvBn(stem, rng));
    this.stem0 = this.addModule('cell_stem_0', new CellStem0(stem, f, stem, f, rng));
    this.stem1 = this.addModule('cell_stem_1', new Cell(stem, 2 * f, 5 * f, 2 * f, { matchPrev: true, reduction: true }, rng));
    this.cells = CELLS.map(([il, ol, ir, or, shape], i) => this.addModule(`cell_${i}`, new Cell(il * f, ol * f, ir * f, or * f, shape, rng)));
    this.featureDim = 80 * f;
    this.lastLinear = options.head === false ? null : this.addModule('last_linear', new Linear(this.featureDim, options.numClasses ?? 1000, true, rng));
  }

  /** The trunk, conv_0 ... cell_11 (no final ReLU, as the original's `features`): [N, 80f, ~H/32, ~W/32]. */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`PNASNet5Large: input must be [N, 3, H, W], got ${shapeString(x.shape)}`);
    if (x.shape[2] < 32 || x.shape[3] < 32) throw new Error(`PNASNet5Large: input ${shapeString(x.shape)} is smaller than 32x32`);
    const c0 = this.conv0.forward(x);
    const s0 = this.stem0.forward(c0);
    let prev = s0;
    let cur = this.stem1.forward(c0, s0);
    c0.dispose();
    for (const cell of this.cells) {
      const next = cell.forward(prev, cur);
      prev.dispose();
      [prev, cur] = [cur, next];
    }
    prev.dispose();
    return cur;
  }
}
