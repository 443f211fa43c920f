// Plain float64 CPU references for conv2d: forward, input gradient, weight gradient.
// Layouts as in PyTorch: x [N, Cin, H, W], w [Cout, Cin/groups, kh, kw], y [N, Cout, OH, OW].

export interface ConvCase {
  N: number; Cin: number; H: number; W: number; Cout: number; KH: number; KW: number;
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

export interface Geom {
  N: number; Cin: number; H: number; W: number; Cout: number; KH: number; KW: number;
  OH: number; OW: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number; G: number;
}

const two = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

export function geom(c: ConvCase): Geom {
  const [sh, sw] = two(c.stride, 1);
  const [ph, pw] = two(c.padding, 0);
  const [dh, dw] = two(c.dilation, 1);
  const OH = Math.floor((c.H + 2 * ph - dh * (c.KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((c.W + 2 * pw - dw * (c.KW - 1) - 1) / sw) + 1;
  return { N: c.N, Cin: c.Cin, H: c.H, W: c.W, Cout: c.Cout, KH: c.KH, KW: c.KW, OH, OW, sh, sw, ph, pw, dh, dw, G: c.groups ?? 1 };
}

/** Calls f(n, co, oh, ow, ci, kh, kw, xIndex, wIndex, yIndex) for every in-image tap. */
function forEachTap(g: Geom, f: (xi: number, wi: number, yi: number) => void): void {
  const Cig = g.Cin / g.G;
  const Cog = g.Cout / g.G;
  for (let n = 0; n < g.N; n++) {
    for (let co = 0; co < g.Cout; co++) {
      const grp = Math.floor(co / Cog);
      for (let oh = 0; oh < g.OH; oh++) {
        for (let ow = 0; ow < g.OW; ow++) {
          const yi = ((n * g.Cout + co) * g.OH + oh) * g.OW + ow;
          for (let cl = 0; cl < Cig; cl++) {
            const ci = grp * Cig + cl;
            for (let kh = 0; kh < g.KH; kh++) {
              const ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (let kw = 0; kw < g.KW; kw++) {
                const iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                f(((n * g.Cin + ci) * g.H + ih) * g.W + iw, ((co * Cig + cl) * g.KH + kh) * g.KW + kw, yi);
              }
            }
          }
        }
      }
    }
  }
}

export function convForward(g: Geom, x: ArrayLike<number>, w: ArrayLike<number>, b?: ArrayLike<number> | null): Float64Array {
  const y = new Float64Array(g.N * g.Cout * g.OH * g.OW);
  forEachTap(g, (xi, wi, yi) => {
    y[yi] += x[xi] * w[wi];
  });
  if (b) {
    const P = g.OH * g.OW;
    for (let i = 0; i < y.length; i++) y[i] += b[Math.floor(i / P) % g.Cout];
  }
  return y;
}

export function convGradInput(g: Geom, dy: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(g.N * g.Cin * g.H * g.W);
  forEachTap(g, (xi, wi, yi) => {
    dx[xi] += dy[yi] * w[wi];
  });
  return dx;
}

export function convGradWeight(g: Geom, dy: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const dw = new Float64Array(g.Cout * (g.Cin / g.G) * g.KH * g.KW);
  forEachTap(g, (xi, wi, yi) => {
    dw[wi] += dy[yi] * x[xi];
  });
  return dw;
}

export function convGradBias(g: Geom, dy: ArrayLike<number>): Float64Array {
  const db = new Float64Array(g.Cout);
  const P = g.OH * g.OW;
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / P) % g.Cout] += dy[i];
  return db;
}

/** max |a - e| / max |e|: the relative error of a whole tensor. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num = Math.max(num, Math.abs(actual[i] - expected[i]));
    den = Math.max(den, Math.abs(expected[i]));
  }
  return num / Math.max(den, 1e-30);
}
