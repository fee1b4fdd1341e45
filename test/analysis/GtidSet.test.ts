/**
 * GTID sets against a naive twin: a set of `source:n` strings. Small sources and numbers so that random
 * sets overlap often. Seeds are fixed (fast-check prints the seed of a failure).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as FastCheck from "effect/FastCheck"
import * as Gtid from "../../core/analysis/GtidSet.js"

const U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
const U2 = "00020194-3333-3333-3333-333333333333"
const sources = [U1, U2, `${U1}:blue`] as const

type Naive = ReadonlySet<string>

const arbSet: FastCheck.Arbitrary<Gtid.GtidSet> = FastCheck.array(
  FastCheck.tuple(FastCheck.constantFrom(...sources), FastCheck.integer({ min: 1, max: 40 }), FastCheck.integer({ min: 0, max: 6 })),
  { maxLength: 6 }
).map((ivs) => {
  const text = ivs.map(([s, start, len]) => {
    const [uuid, tag] = s.split(":") as [string, string | undefined]
    return `${uuid}:${tag === undefined ? "" : `${tag}:`}${start}-${start + len}`
  }).join(",")
  return Either.getOrThrow(Gtid.parse(text))
})

const naive = (set: Gtid.GtidSet): Naive => {
  const out = new Set<string>()
  for (const [source, ivs] of set) for (const iv of ivs) for (let n = iv.start; n <= iv.end; n++) out.add(`${source}#${n}`)
  return out
}

const naiveEq = (a: Naive, b: Naive) => a.size === b.size && [...a].every((x) => b.has(x))
const params = { numRuns: 300, seed: 20261125 }

describe("GTID sets (MySQL)", () => {
  it("parses MySQL's forms: wrapped lines, single numbers, tags, case", () => {
    const set = Either.getOrThrow(Gtid.parse(`${U1.toUpperCase()}:1-5:7,\n${U2}:1-3:4-9,${U1}:blue:1-2`))
    expect(Gtid.format(set)).toBe(`${U2}:1-9,${U1}:1-5:7,${U1}:blue:1-2`)
    expect(Gtid.count(set)).toBe(9 + 6 + 2)
    expect(Gtid.isEmpty(Either.getOrThrow(Gtid.parse("")))).toBe(true)
    expect(Either.isLeft(Gtid.parse("nonsense:1-2"))).toBe(true)
    expect(Either.isLeft(Gtid.parse(`${U1}:5-2`))).toBe(true)
  })

  it("format and parse are inverse", () => {
    FastCheck.assert(FastCheck.property(arbSet, (a) => Gtid.equals(Either.getOrThrow(Gtid.parse(Gtid.format(a))), a)), params)
  })

  it("union, subtract, intersect and count match the naive twin", () => {
    FastCheck.assert(
      FastCheck.property(arbSet, arbSet, (a, b) => {
        const na = naive(a)
        const nb = naive(b)
        expect(naiveEq(naive(Gtid.union(a, b)), new Set([...na, ...nb]))).toBe(true)
        expect(naiveEq(naive(Gtid.subtract(a, b)), new Set([...na].filter((x) => !nb.has(x))))).toBe(true)
        expect(naiveEq(naive(Gtid.intersect(a, b)), new Set([...na].filter((x) => nb.has(x))))).toBe(true)
        expect(Gtid.count(a)).toBe(na.size)
        expect(Gtid.isSubset(a, b)).toBe([...na].every((x) => nb.has(x)))
      }),
      params
    )
  })

  it("laws: union is commutative, associative, idempotent; a ⊆ a ∪ b; (a − b) ∩ b = ∅", () => {
    FastCheck.assert(
      FastCheck.property(arbSet, arbSet, arbSet, (a, b, c) => {
        expect(Gtid.equals(Gtid.union(a, b), Gtid.union(b, a))).toBe(true)
        expect(Gtid.equals(Gtid.union(Gtid.union(a, b), c), Gtid.union(a, Gtid.union(b, c)))).toBe(true)
        expect(Gtid.equals(Gtid.union(a, a), a)).toBe(true)
        expect(Gtid.isSubset(a, Gtid.union(a, b))).toBe(true)
        expect(Gtid.isEmpty(Gtid.intersect(Gtid.subtract(a, b), b))).toBe(true)
      }),
      params
    )
  })

  it("compare agrees with inclusion, and count extends it linearly", () => {
    FastCheck.assert(
      FastCheck.property(arbSet, arbSet, (a, b) => {
        const o = Gtid.compare(a, b)
        const flipped = { equal: "equal", ahead: "behind", behind: "ahead", diverged: "diverged" }[o]
        expect(Gtid.compare(b, a)).toBe(flipped)
        if (o === "behind") expect(Gtid.count(a)).toBeLessThan(Gtid.count(b))
        if (o === "equal") expect(Gtid.format(a)).toBe(Gtid.format(b))
        expect(Gtid.compare(a, Gtid.union(a, b))).toMatch(/equal|behind/)
      }),
      params
    )
  })
})

describe("GTID positions (MariaDB)", () => {
  const arbPos = FastCheck.array(
    FastCheck.tuple(FastCheck.integer({ min: 0, max: 2 }), FastCheck.integer({ min: 1, max: 3 }), FastCheck.integer({ min: 0, max: 20 })),
    { maxLength: 3 }
  ).map((gs) => Either.getOrThrow(Gtid.parseMariaDb(gs.map(([d, s, q]) => `${d}-${s}-${q}`).join(","))))

  it("parses and formats `domain-server-seq` lists", () => {
    const p = Either.getOrThrow(Gtid.parseMariaDb("1-2-5, 0-1-100"))
    expect(Gtid.formatMariaDb(p)).toBe("0-1-100,1-2-5")
    expect(Either.isLeft(Gtid.parseMariaDb("0-1"))).toBe(true)
  })

  it("compares per domain on seq numbers, ignoring server ids", () => {
    const p = (s: string) => Either.getOrThrow(Gtid.parseMariaDb(s))
    expect(Gtid.compareMariaDb(p("0-1-10"), p("0-2-10"))).toBe("equal")
    expect(Gtid.compareMariaDb(p("0-1-11"), p("0-1-10"))).toBe("ahead")
    expect(Gtid.compareMariaDb(p("0-1-10,1-1-1"), p("0-1-10"))).toBe("ahead")
    expect(Gtid.compareMariaDb(p("0-1-11,1-1-1"), p("0-1-10,1-1-2"))).toBe("diverged")
  })

  it("antisymmetry and a consistent linear weight", () => {
    FastCheck.assert(
      FastCheck.property(arbPos, arbPos, (a, b) => {
        const o = Gtid.compareMariaDb(a, b)
        const flipped = { equal: "equal", ahead: "behind", behind: "ahead", diverged: "diverged" }[o]
        expect(Gtid.compareMariaDb(b, a)).toBe(flipped)
        if (o === "ahead") expect(Gtid.mariaDbWeight(a)).toBeGreaterThan(Gtid.mariaDbWeight(b))
      }),
      params
    )
  })

  it("local writes: gtid_current_pos differs from gtid_slave_pos in a replicated domain", () => {
    const p = (s: string) => Either.getOrThrow(Gtid.parseMariaDb(s))
    expect(Gtid.mariaDbLocalWrites(p("0-23306-3"), p("0-23307-4"))).toEqual([{ domain: 0, serverId: 23307, seq: 4 }])
    expect(Gtid.mariaDbLocalWrites(p("0-23306-3"), p("0-23306-3"))).toEqual([])
  })
})
