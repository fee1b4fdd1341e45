/**
 * regroup-replicas (GTID), pure: the candidate choice (most advanced, promotion rule only as a tie-breaker,
 * must_not never chosen), refusals before anything is touched, and the two plan phases.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Plan from "../../core/recovery/Plan.js"
import type { Instance, PromotionRule } from "../../core/topology/Instance.js"
import { dead, master, replica, stopped } from "../analysis/fixtures.js"

const m = master("m1", { flavor: "MariaDB", version: "10.11.9-MariaDB", clusterName: "m1:3306" })
const r = (host: string, seq: number, patch: Partial<Instance> = {}) =>
  replica(host, m, { ...stopped, seq }, { flavor: "MariaDB", version: "10.11.9-MariaDB", logBinEnabled: true, logReplicationUpdatesEnabled: true, ...patch })

const input = (replicas: ReadonlyArray<Instance>, rules: Readonly<Record<string, PromotionRule>> = {}): Plan.RegroupInput => ({
  master: m,
  replicas,
  all: [m, ...replicas],
  ruleOf: (k) => rules[k.hostname] ?? "neutral",
  policy: Plan.defaultRecoveryPolicy
})

const chosen = (replicas: ReadonlyArray<Instance>, rules: Readonly<Record<string, PromotionRule>> = {}) =>
  Either.match(Plan.chooseRegroupCandidate(input(replicas, rules)), {
    onLeft: (reason) => `refused: ${reason}`,
    onRight: (c) => `${c.candidate.key.hostname} < ${c.others.map((o) => o.key.hostname).join(",")}`
  })

describe("regroup-replicas candidate", () => {
  it("the most advanced replica takes the others (best first)", () => {
    expect(chosen([r("r1", 90), r("r2", 100), r("r3", 80)])).toBe("r2 < r1,r3")
  })

  it("a must_not replica is never chosen, even the most advanced; it moves below the candidate", () => {
    expect(chosen([r("r1", 90), r("r2", 100), r("r3", 80)], { r2: "must_not" })).toBe("r1 < r2,r3")
    expect(chosen([r("r1", 90), r("r2", 100)], { r1: "must_not", r2: "must_not" })).toMatch(/^refused: no replica of m1:3306 can take its siblings/)
  })

  it("prefer_not only loses a tie (orchestrator: the promotion rule is a sort tie-breaker)", () => {
    expect(chosen([r("r1", 100), r("r2", 100)], { r1: "prefer_not" })).toBe("r2 < r1")
    expect(chosen([r("r1", 100), r("r2", 90)], { r1: "prefer_not" })).toBe("r1 < r2")
    expect(chosen([r("r1", 100), r("r2", 100)], { r2: "prefer" })).toBe("r2 < r1")
  })

  it("skips replicas that cannot master their siblings (no log_slave_updates, unreachable)", () => {
    expect(chosen([r("r1", 100, { logReplicationUpdatesEnabled: false }), r("r2", 90)])).toBe("r2 < r1")
    // An unreachable replica cannot be moved: the regroup is refused rather than leaving it behind.
    expect(chosen([dead(r("r1", 100)), r("r2", 90)])).toMatch(/^refused: cannot move r1:3306 below r2:3306: r1:3306: last check is not valid/)
  })

  it("refuses a sibling with errant GTIDs (it would be moved with transactions nobody else has)", () => {
    expect(chosen([r("r1", 100), r("r2", 90, { gtidErrant: "0-9-3" })])).toMatch(/cannot move r2:3306 below r1:3306: r2:3306 has errant GTIDs 0-9-3/)
  })
})

describe("regroup-replicas plan", () => {
  it("phase 1 drains every direct replica then decides; a failure restarts them where they were", () => {
    const p = Either.getOrThrow(Plan.planRegroup(input([r("r1", 90), r("r2", 100)])))
    expect(p.kind).toBe("Regroup")
    expect(Plan.describePlan(p)).toEqual([
      "1. drain relay logs on r1:3306, r2:3306 (SQL thread first), then stop replication",
      "2. re-read positions and choose the candidate"
    ])
    expect(p.rollback.map((s) => s.step)).toEqual([{ _tag: "StartReplication", keys: [{ hostname: "r1", port: 3306 }, { hostname: "r2", port: 3306 }] }])
  })

  it("phase 2: the candidate resumes from the master, the others move below it once it has what they applied", () => {
    const replicas = [r("r1", 90), r("r2", 100), r("r3", 95)]
    const p1 = Either.getOrThrow(Plan.planRegroup(input(replicas, { r2: "must_not" })))
    const moves = Either.getOrThrow(Plan.planRegroupMoves(p1, input(replicas, { r2: "must_not" })))
    expect(moves.successor).toEqual({ hostname: "r3", port: 3306 })
    const p = Plan.applyPromotion(p1, 1, moves)
    expect(Plan.describePlan(p)).toEqual([
      "1. drain relay logs on r1:3306, r2:3306, r3:3306 (SQL thread first), then stop replication",
      "2. start replication on r3:3306",
      "3. move r2:3306, r1:3306 below r3:3306 by GTID (slave_pos), once r3:3306 has what each applied",
      "4. (best effort) start replication on r2:3306, r1:3306"
    ])
  })

  it("refuses before touching anything: no replicas, no GTID, nobody eligible", () => {
    const reason = (replicas: ReadonlyArray<Instance>, rules: Readonly<Record<string, PromotionRule>> = {}) =>
      Either.match(Plan.planRegroup(input(replicas, rules)), { onLeft: (e) => e.reason, onRight: () => "planned" })
    expect(reason([])).toBe("m1:3306 has no replicas")
    const noGtid = r("r1", 100, { mariadbGtid: null })
    expect(reason([{ ...noGtid, replication: { ...noGtid.replication!, usingGtid: "No" } }])).toMatch(/only GTID recovery is supported/)
    expect(reason([r("r1", 100)], { r1: "must_not" })).toMatch(/r1:3306 \(rank 0\): promotion rule is must_not/)
  })
})
