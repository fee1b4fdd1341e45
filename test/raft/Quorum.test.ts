import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Quorum from "../../core/raft/Quorum.js"

// Naive twins (etcd quorum/quick_test.go): try every candidate value / count directly.
const naiveCommitted = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return 0
  let best = 0
  for (const v of values) {
    const atLeast = values.filter((x) => x >= v).length
    if (atLeast > values.length / 2 && v > best) best = v
  }
  return best
}

const naiveVote = (n: number, granted: number, rejected: number): Quorum.VoteResult => {
  if (n === 0) return "lost"
  if (2 * granted > n) return "won"
  if (2 * (n - rejected) <= n) return "lost"
  return "pending"
}

describe("Quorum", () => {
  it("majority", () => {
    expect([1, 2, 3, 4, 5].map(Quorum.majority)).toEqual([1, 2, 2, 3, 3])
  })

  it.prop("committedValue matches the naive twin", [fc.array(fc.nat(50), { maxLength: 9 })], ([values]) => {
    const ids = values.map((_, k) => `n${k}`)
    const got = Quorum.committedValue(ids, (id) => values[Number(id.slice(1))])
    expect(got).toBe(naiveCommitted(values))
  })

  it.prop(
    "voteResult matches the naive twin",
    [fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { maxLength: 9 })],
    ([votes]) => {
      const ids = votes.map((_, k) => `n${k}`)
      const map = new Map<string, boolean>()
      votes.forEach((v, k) => {
        if (v !== undefined) map.set(`n${k}`, v)
      })
      // A vote from a non-voter never counts.
      map.set("outsider", true)
      const granted = votes.filter((v) => v === true).length
      const rejected = votes.filter((v) => v === false).length
      expect(Quorum.voteResult(ids, map)).toBe(naiveVote(ids.length, granted, rejected))
    }
  )

  it("missing voters count as 0", () => {
    expect(Quorum.committedValue(["a", "b", "c"], (id) => (id === "a" ? 7 : undefined))).toBe(0)
    expect(Quorum.committedValue(["a", "b", "c"], (id) => (id === "c" ? undefined : 7))).toBe(7)
  })
})
