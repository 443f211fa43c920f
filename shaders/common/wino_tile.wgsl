// Winograd tile addressing shared by conv2d/wino_input, wino_output and wino_dout:
// tile p = (n·TH + ty)·TW + tx covers outputs [m·ty, m·ty + m) x [m·tx, m·tx + m) of image n.

struct Tile { n: u32, ty: u32, tx: u32 }

fn tileOf(p: u32, TH: u32, TW: u32) -> Tile {
  let tiles = TH * TW;
  let n = p / tiles;
  let t = p - n * tiles;
  let ty = t / TW;
  return Tile(n, ty, t - ty * TW);
}
