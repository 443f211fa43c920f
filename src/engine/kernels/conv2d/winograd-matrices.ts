/**
 * The transform matrices of Winograd F(m x m, 3x3) for m = 2 and m = 4 (Lavin & Gray, 2016),
 * and the straight-line WGSL that applies them. Every pass of the Winograd convolution is a
 * two-sided transform X' = L · X · Rᵀ of a small tile (input: Bᵀ d B; kernel: G g Gᵀ; output:
 * Aᵀ m A; and their transposes for the weight gradient). The shaders get it generated from the
 * matrices: one `let` per value, zero coefficients skipped, no loops and no arrays, which is
 * what CPU Vulkan compiles into registers.
 */

/** Outputs per tile side. */
export type WinogradM = 2 | 4;

interface Matrices {
  /** Bᵀ [t, t], G [t, 3], Aᵀ [m, t] with t = m + 2. */
  BT: number[][];
  G: number[][];
  AT: number[][];
}

const MATRICES: Record<WinogradM, Matrices> = {
  2: {
    BT: [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    G: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    AT: [[1, 1, 1, 0], [0, 1, -1, -1]],
  },
  // Interpolation points 0, ±1, ±2 and infinity.
  4: {
    BT: [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    G: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    AT: [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
  },
};

const transpose = (a: number[][]): number[][] => a[0].map((_, j) => a.map((row) => row[j]));

/** The matrices of F(m x m, 3x3). */
export function winogradMatrices(m: WinogradM): Matrices & { A: number[][]; GT: number[][] } {
  const f = MATRICES[m];
  return { ...f, A: transpose(f.AT), GT: transpose(f.G) };
}

function literal(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Σ coef · name as a WGSL expression (zero terms skipped, ±1 without a multiply). */
function linear(coefs: number[], names: string[]): string {
  const terms: string[] = [];
  coefs.forEach((c, k) => {
    if (c === 0) return;
    const mag = Math.abs(c);
    const term = mag === 1 ? names[k] : `${literal(mag)} * ${names[k]}`;
    terms.push(terms.length === 0 ? (c < 0 ? `-${term}` : term) : `${c < 0 ? '-' : '+'} ${term}`);
  });
  return terms.length ? terms.join(' ') : '0.0';
}

/**
 * WGSL statements declaring `${out}_${i}_${j}` = (L · X · Rᵀ)[i][j] for X given by the names
 * x(r, c) (L.length x R.length results; X is L[0].length x R[0].length).
 */
export function twoSidedCode(L: number[][], R: number[][], x: (r: number, c: number) => string, out: string): string {
  const rows = L[0].length;
  const cols = R[0].length;
  const lines: string[] = [];
  // t = L · X
  for (let i = 0; i < L.length; i++) {
    for (let c = 0; c < cols; c++) {
      lines.push(`let ${out}t_${i}_${c} = ${linear(L[i], Array.from({ length: rows }, (_, r) => x(r, c)))};`);
    }
  }
  // out = t · Rᵀ
  for (let i = 0; i < L.length; i++) {
    for (let j = 0; j < R.length; j++) {
      lines.push(`let ${out}_${i}_${j} = ${linear(R[j], Array.from({ length: cols }, (_, c) => `${out}t_${i}_${c}`))};`);
    }
  }
  return lines.join('\n  ');
}

/** `f(i, j)` for every (i, j) of a rows x cols grid, one statement per line. */
export function eachCell(rows: number, cols: number, f: (i: number, j: number) => string): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) lines.push(f(i, j));
  return lines.join('\n  ');
}
