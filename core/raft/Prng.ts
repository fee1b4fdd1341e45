/**
 * A tiny seedable PRNG (xorshift32) whose whole state is one uint32, so it lives inside the raft state
 * and `step` stays a pure function. etcd's package-global rand for the election timeout is the one
 * impurity its tests have to work around (style-models.md, etcd-io/raft §2); here it is an input.
 */

export type PrngState = number

/** Any integer seed is accepted; 0 (a fixed point of xorshift) is remapped. */
export const seed = (value: number): PrngState => {
  const s = (value ^ 0x9e3779b9) >>> 0
  return s === 0 ? 0x6d2b79f5 : s
}

/** Returns [uint32, next state]. */
export const next = (state: PrngState): readonly [number, PrngState] => {
  let x = state >>> 0
  x ^= x << 13
  x >>>= 0
  x ^= x >>> 17
  x ^= x << 5
  x >>>= 0
  return [x, x]
}

/** Uniform integer in [lo, hi). Slight modulo bias is irrelevant for timeouts of tens of ticks. */
export const intBetween = (state: PrngState, lo: number, hi: number): readonly [number, PrngState] => {
  const [x, s] = next(state)
  return [lo + (x % Math.max(1, hi - lo)), s]
}
