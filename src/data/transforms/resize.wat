;; PIL's 8-bit bilinear resampling passes (src/data/transforms/geometry.ts has the same in JS, the
;; reference), with 128-bit SIMD: the same 22-bit fixed-point integer sums, so the same bytes.
;; Assembled by tools/build-wasm.mjs into resize-wasm.ts. All addresses are byte offsets into the
;; module's memory, which the caller lays out; every buffer read or written is padded by 16 bytes
;; past its end (a pixel is loaded as 4 bytes, a row as 16-byte blocks).
(module
  (memory (export "memory") 1)

  ;; Horizontal pass: `rows` rows of RGB bytes from $src (row stride $stride) to $outWidth pixels
  ;; each, packed into $dst. Column x reads $n pixels from byte offs[x] of the row, with the
  ;; weights w[x * n ..] (i32, 22-bit fixed point). One pixel is one i32x4 (R, G, B, unused).
  (func (export "horizontal")
    (param $src i32) (param $stride i32) (param $rows i32) (param $offs i32) (param $w i32)
    (param $n i32) (param $outWidth i32) (param $dst i32)
    (local $y i32) (local $x i32) (local $t i32) (local $row i32) (local $p i32) (local $wp i32)
    (local $acc v128)
    (loop $rowsLoop
      (if (i32.lt_u (local.get $y) (local.get $rows))
        (then
          (local.set $row (i32.add (local.get $src) (i32.mul (local.get $y) (local.get $stride))))
          (local.set $x (i32.const 0))
          (local.set $wp (local.get $w))
          (loop $cols
            (if (i32.lt_u (local.get $x) (local.get $outWidth))
              (then
                (local.set $p (i32.add (local.get $row)
                  (i32.load (i32.add (local.get $offs) (i32.shl (local.get $x) (i32.const 2))))))
                (local.set $acc (i32x4.splat (i32.const 2097152)))
                (local.set $t (i32.const 0))
                (loop $taps
                  (local.set $acc (i32x4.add (local.get $acc)
                    (i32x4.mul
                      (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                      (i32x4.splat (i32.load (local.get $wp))))))
                  (local.set $p (i32.add (local.get $p) (i32.const 3)))
                  (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br_if $taps (i32.lt_u (local.get $t) (local.get $n))))
                (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
                (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
                ;; 4 bytes stored: R, G, B and one that the next pixel overwrites
                (v128.store32_lane 0 (local.get $dst) (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 3)))
                (local.set $x (i32.add (local.get $x) (i32.const 1)))
                (br $cols))))
          (local.set $y (i32.add (local.get $y) (i32.const 1)))
          (br $rowsLoop)))))

  ;; Vertical pass: output row y (of $outHeight, $rowLen bytes each, packed into $dst) sums the
  ;; $n rows of $src (row stride $stride) from row starts[y], with the weights w[y * n ..].
  ;; 16 bytes at a time: four i32x4 accumulators.
  (func (export "vertical")
    (param $src i32) (param $stride i32) (param $starts i32) (param $w i32) (param $n i32)
    (param $rowLen i32) (param $outHeight i32) (param $dst i32)
    (local $y i32) (local $i i32) (local $t i32) (local $base i32) (local $p i32) (local $wy i32)
    (local $wt v128) (local $v v128) (local $lo v128) (local $hi v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (loop $rowsLoop
      (if (i32.lt_u (local.get $y) (local.get $outHeight))
        (then
          (local.set $base (i32.add (local.get $src) (i32.mul (local.get $stride)
            (i32.load (i32.add (local.get $starts) (i32.shl (local.get $y) (i32.const 2)))))))
          (local.set $wy (i32.add (local.get $w) (i32.shl (i32.mul (local.get $y) (local.get $n)) (i32.const 2))))
          (local.set $i (i32.const 0))
          (loop $blocks
            (if (i32.lt_u (local.get $i) (local.get $rowLen))
              (then
                (local.set $a0 (i32x4.splat (i32.const 2097152)))
                (local.set $a1 (local.get $a0))
                (local.set $a2 (local.get $a0))
                (local.set $a3 (local.get $a0))
                (local.set $p (i32.add (local.get $base) (local.get $i)))
                (local.set $t (i32.const 0))
                (loop $taps
                  (local.set $v (v128.load (local.get $p)))
                  (local.set $wt (i32x4.splat (i32.load (i32.add (local.get $wy) (i32.shl (local.get $t) (i32.const 2))))))
                  (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                  (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                  (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $wt))))
                  (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $wt))))
                  (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $wt))))
                  (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $wt))))
                  (local.set $p (i32.add (local.get $p) (local.get $stride)))
                  (local.set $t (i32.add (local.get $t) (i32.const 1)))
                  (br_if $taps (i32.lt_u (local.get $t) (local.get $n))))
                ;; past the row's end the block spills into the next row, which is written after
                (v128.store (local.get $dst)
                  (i8x16.narrow_i16x8_u
                    (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
                    (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
                (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                (local.set $i (i32.add (local.get $i) (i32.const 16)))
                (br $blocks))))
          ;; back to the row's true end: the next row starts there
          (local.set $dst (i32.sub (local.get $dst) (i32.sub (local.get $i) (local.get $rowLen))))
          (local.set $y (i32.add (local.get $y) (i32.const 1)))
          (br $rowsLoop)))))
)
