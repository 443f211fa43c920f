/**
 * Kernels `conv2d/wgrad` and `conv2d/wgrad_reduce`: the weight gradient as an implicit GEMM
 *   dW[co, k] = Σ_r dY[co, r] · X̂ᵀ[r, k]        M = Cout, N = Cin·kh·kw, K = N·OH·OW
 * with split-K: the reduction is cut into chunks whose partial sums go to a
 * [splits, Cout, Cin·kh·kw] buffer, added by the second kernel, when the weight is small
 * relative to N·OH·OW (ResNet layer4, conv1). Raw launchers (no autograd).
 */
import source from '../../../../shaders/conv2d/wgrad.wgsl';
import { defineKernel } from '../../kernel.js';
import { wgradReduceKernel, REDUCE_WORKGROUP } from './wgrad_reduce.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { directTile, tileDims, TILED_DEFAULTS, shareWeights, broadcastFmas, unrollTiles, checkGrid, type ConvSchedule } from './schedule.js';

export const wgradKernel = defineKernel({
  name: 'conv2d/wgrad',
  source,
  uniforms: {
    M: 'u32', NCOL: 'u32', TH: 'u32', TW: 'u32',
    H: 'u32', W: 'u32', OH: 'u32', OW: 'u32',
    strideH: 'i32', strideW: 'i32', padH: 'i32', padW: 'i32',
    dilH: 'i32', dilW: 'i32', rPerSplit: 'u32', RTOT: 'u32',
    xImg: 'u32', dyImg: 'u32', xGroup: 'u32', dyGroup: 'u32',
    outSplit: 'u32', outGroup: 'u32', rowBlocks: 'u32', tk: 'u32',
  },
  bindings: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'OUT', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: (d) => (d.TILED ? 256 : 64),
  enables: { SUBGROUP: 'subgroups' },
});


/** Partial-sum buffers above this size make split-K use fewer chunks. */
const MAX_PARTIAL_BYTES = 64 * 2 ** 20;

/** The weight gradient dy, x → dW [Cout, Cin/groups, kh, kw] (split-K over N·OH·OW). */
export function gemmGradWeight(dy: Tensor, x: Tensor, g: Conv2dGeometry, schedule: ConvSchedule): Tensor {
  const rt = runtime();
  const direct = schedule === 'direct';
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const M = Cog;
  const NCOL = Cig * g.KH * g.KW;
  const P = g.OH * g.OW;
  const RTOT = g.N * P;
  const tile = direct ? directTile(M, NCOL, g.groups, Math.max(1, Math.floor(RTOT / 512))) : TILED_DEFAULTS;
  const { rowsPerWg, colsPerWg } = tileDims(direct, tile);
  const rowBlocks = Math.ceil(M / rowsPerWg);
  const tiles = rowBlocks * Math.ceil(NCOL / colsPerWg) * g.groups;
  // Split-K: enough workgroups to fill the device, each chunk long enough to amortize its
  // partial-sum write, and a bounded partial buffer.
  const wanted = direct ? 32 : 512;
  const minChunk = direct ? 512 : 256;
  const size = g.Cout * NCOL;
  let splits = Math.max(1, Math.min(Math.ceil(wanted / tiles), Math.floor(RTOT / minChunk), Math.floor(MAX_PARTIAL_BYTES / (4 * size))));
  let rPerSplit = Math.ceil(Math.ceil(RTOT / splits) / 4) * 4;
  splits = Math.ceil(RTOT / rPerSplit);
  if (splits === 1) rPerSplit = RTOT;
  const dw = empty([g.Cout, Cig, g.KH, g.KW]);
  const part = splits > 1 ? empty([splits * size]) : dw;
  const workgroups: [number, number, number] = [Math.ceil(NCOL / colsPerWg), rowBlocks * g.groups, splits];
  checkGrid('conv2d_wgrad', workgroups);
  const subgroup = direct && shareWeights(tile);
  wgradKernel.dispatch({
    defines: {
      TILED: !direct, ROWS: tile.rows, CGROUPS: tile.cgroups, COLT: tile.colt, KLOOP: unrollTiles() ? 'TK' : 'params.tk',
      SUBGROUP: subgroup, BROADCAST_FMAS: subgroup ? broadcastFmas(tile.rows) : '',
    },
    uniforms: {
      M, NCOL, TH: g.KH, TW: g.KW, H: g.H, W: g.W, OH: g.OH, OW: g.OW,
      strideH: g.sh, strideW: g.sw, padH: g.ph, padW: g.pw, dilH: g.dh, dilW: g.dw, rPerSplit, RTOT,
      xImg: g.Cin * g.H * g.W, dyImg: g.Cout * P, xGroup: Cig * g.H * g.W, dyGroup: Cog * P,
      outSplit: size, outGroup: M * NCOL, rowBlocks, tk: 16,
    },
    bindings: { X: x, DY: dy, OUT: part },
    workgroups,
    shape: () => `${M}x${NCOL}x${RTOT} ${g.KH}x${g.KW}${g.sh > 1 ? ` s${g.sh}` : ''} split ${splits}`,
  });
  if (splits > 1) {
    wgradReduceKernel.dispatch({
      uniforms: { size, splits },
      bindings: { part, out: dw },
      workgroups: rt.grid(Math.ceil(size / REDUCE_WORKGROUP)),
    });
    part.dispose();
  }
  return dw;
}
