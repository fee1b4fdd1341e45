/**
 * The chaos soak's leadership check (iii) on synthetic monitor answers: which observations prove that a
 * deposed leader claimed the lease after a newer leader had it, and which only look suspicious.
 */
import { describe, expect, it } from "vitest"
import { type Claim, claimsOf, leadershipViolations, type Probe } from "./Chaos.js"

const names = ["node1", "node2", "node3"]

/** A raft-status answer of `node`: HasLease and Term from one evaluation. */
const status = (node: number, term: number, hasLease: boolean, sent: number, received: number, incarnation = 0): Probe =>
  ({ node, incarnation, kind: "raft-status", sent, received, status: 200, term, hasLease })
/** A leader-check answer of `node`. */
const check = (node: number, code: number, sent: number, received: number, incarnation = 0): Probe =>
  ({ node, incarnation, kind: "leader-check", sent, received, status: code })

const violations = (probes: ReadonlyArray<Probe>) => leadershipViolations(claimsOf(probes, 3), names)

describe("leadership claims (chaos check iii)", () => {
  it("accepts a handover: the old leader's last claim before the new leader's first", () => {
    expect(violations([
      status(0, 1, true, 0, 10),
      check(0, 200, 20, 30),
      status(0, 1, true, 40, 50),
      status(1, 2, true, 400, 410),
      check(1, 200, 420, 430),
      status(1, 2, true, 440, 450),
      check(0, 404, 460, 470)
    ])).toEqual([])
  })

  it("flags a deposed leader that claims the lease after a newer leader certainly had it", () => {
    const v = violations([
      status(1, 2, true, 100, 110),
      status(0, 1, true, 200, 210)
    ])
    expect(v).toHaveLength(1)
    expect(v[0]).toContain("stale leader: node1 claimed the lease in term ≤ 1")
    expect(v[0]).toContain("after node2 had claimed it in term ≥ 2")
  })

  it("does not judge overlapping intervals: a stopped leader's answer may have been evaluated long before it arrived", () => {
    expect(violations([
      status(0, 1, true, 100, 3000),
      status(1, 2, true, 500, 510)
    ])).toEqual([])
  })

  it("flags two nodes claiming the lease in the same term", () => {
    const v = violations([status(0, 3, true, 0, 10), status(1, 3, true, 5000, 5010)])
    expect(v).toEqual([expect.stringContaining("two leaders in term 3: node1")])
  })

  it("gives a leader-check 200 the term of the same process's raft-status answers around it", () => {
    const before = status(0, 1, false, 0, 5)
    const after = (term: number) => status(0, term, false, 40, 45)
    const newer = status(1, 2, true, 10, 15)
    const stale = check(0, 200, 20, 30)
    // Term 1 before and after: node1 claimed leadership in term 1 after node2 led in term 2.
    expect(violations([before, newer, stale, after(1)])).toHaveLength(1)
    // Term 3 after: node1 may have been re-elected in between (term in [1, 3]); nothing is proven.
    expect(violations([before, newer, stale, after(3)])).toEqual([])
    // Without an answer after it, the term is unbounded above: nothing is proven either.
    expect(violations([before, newer, stale])).toEqual([])
  })

  it("never brackets a leader-check with answers of another incarnation (a wiped node restarts at term 0)", () => {
    const claims: Array<Claim> = claimsOf([
      status(0, 5, false, 0, 5, 0),
      check(0, 200, 20, 30, 1),
      status(0, 1, false, 40, 45, 1)
    ], 3)
    expect(claims).toEqual([{ node: 0, sent: 20, received: 30, termLo: 0, termHi: 1, source: "leader-check" }])
  })
})
