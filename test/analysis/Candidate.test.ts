/**
 * Candidate selection for a dead master: each rule and tie-breaker, the classification of the others,
 * catch-up, fallback, and the audit text.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Candidate from "../../core/analysis/Candidate.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import type { Instance, PromotionRule } from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import { dead, key, master, now, replica, type ReplicaOptions, stopped } from "./fixtures.js"

const m = dead(master())
const U1 = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

const at = (seq: number, more: ReplicaOptions = {}): ReplicaOptions => ({ ...stopped, seq, ...more })

const decide = (
  replicas: ReadonlyArray<Instance>,
  options: {
    readonly rules?: Readonly<Record<string, PromotionRule>>
    readonly policy?: Partial<Snapshot.PromotionPolicy>
    readonly deadMaster?: Instance
    readonly requested?: InstanceKey
  } = {}
) =>
  Candidate.chooseCandidate({
    deadMaster: options.deadMaster ?? m,
    replicas,
    ruleOf: (k) => options.rules?.[k.hostname] ?? "neutral",
    policy: { ...Snapshot.defaultPromotionPolicy, ...options.policy },
    ...(options.requested === undefined ? {} : { requested: options.requested })
  })

/** MariaDB GTID state: applied `slavePos`, and `currentPos` (differs after local writes). */
const gtid = (slavePos: string, currentPos = slavePos) =>
  ({ currentPos, slavePos, binlogPos: currentPos, strictMode: true, domainId: 0 })

const hosts = (keys: ReadonlyArray<InstanceKey>) => keys.map((k) => k.hostname)
const chosen = (d: Candidate.CandidateDecision) => d.candidate?.hostname ?? null

describe("ordering by position", () => {
  it("MariaDB GTID: the highest gtid_slave_pos seq wins; the others are later", () => {
    const d = decide([replica("r1", m, at(90)), replica("r2", m, at(120)), replica("r3", m, at(100))])
    expect(d.mode).toBe("mariadb-gtid")
    expect(chosen(d)).toBe("r2")
    expect(hosts(d.later)).toEqual(["r3", "r1"])
    expect(d.lost).toEqual([])
    expect(d.catchUpFrom).toBeNull()
  })

  it("MySQL GTID: executed sets by inclusion (errant transactions excluded from the comparison)", () => {
    const mysql = (host: string, executed: string, errant = "") =>
      replica(host, m, stopped, {
        flavor: "MySQL",
        version: "8.0.36",
        gtidMode: "ON",
        mariadbGtid: null,
        executedGtidSet: executed,
        gtidErrant: errant,
        replication: { ...replica(host, m, stopped).replication!, autoPosition: true, usingGtid: null }
      })
    const d = decide([mysql("r1", `${U1}:1-50`), mysql("r2", `${U1}:1-40`), mysql("r3", `${U1}:1-45`)])
    expect(d.mode).toBe("mysql-gtid")
    expect(chosen(d)).toBe("r1")
    expect(hosts(d.later)).toEqual(["r3", "r2"])
  })

  it("binlog coordinates when not every replica uses GTID", () => {
    const d = decide([
      replica("r1", m, at(100, { usingGtid: "No", execFile: "mysql-bin.000003", exec: 9000 })),
      replica("r2", m, at(100, { usingGtid: "No", execFile: "mysql-bin.000004", exec: 120 }))
    ])
    expect(d.mode).toBe("binlog")
    expect(chosen(d)).toBe("r2")
  })
})

describe("tie-breakers at equal positions", () => {
  const tie = (patchA: Partial<Instance>, patchB: Partial<Instance> = {}) =>
    Candidate.sortReplicas([replica("ra", m, at(100), patchA), replica("rb", m, at(100), patchB)], {
      mode: "mariadb-gtid",
      dataCenter: "dc1",
      ruleOf: (k) => (k.hostname === "ra" ? "neutral" : "neutral")
    }).map((i) => i.key.hostname)

  it("log_slave_updates first", () => expect(tie({ logReplicationUpdatesEnabled: false })).toEqual(["rb", "ra"]))
  it("lower major version first", () => expect(tie({ version: "10.11.9" }, { version: "10.6.18" })).toEqual(["rb", "ra"]))
  it("smaller binlog format first", () => expect(tie({ binlogFormat: "ROW" }, { binlogFormat: "MIXED" })).toEqual(["rb", "ra"]))
  it("the dead master's DC first", () => expect(tie({ dataCenter: "dc2" })).toEqual(["rb", "ra"]))
  it("no errant GTIDs first", () => expect(tie({ gtidErrant: `${U1}:7` })).toEqual(["rb", "ra"]))
  it("then the key", () => expect(tie({})).toEqual(["ra", "rb"]))

  it("better promotion rule first", () => {
    const order = Candidate.sortReplicas([replica("ra", m, at(100)), replica("rb", m, at(100))], {
      mode: "mariadb-gtid",
      dataCenter: "dc1",
      ruleOf: (k) => (k.hostname === "rb" ? "prefer" : "neutral")
    })
    expect(order.map((i) => i.key.hostname)).toEqual(["rb", "ra"])
  })
})

describe("promotion rules and constraints", () => {
  it("prefer beats a more advanced neutral, which the candidate catches up from first", () => {
    const d = decide([replica("r1", m, at(120)), replica("r2", m, at(100)), replica("r3", m, at(90))], { rules: { r2: "prefer" } })
    expect(chosen(d)).toBe("r2")
    expect(d.catchUpFrom?.hostname).toBe("r1")
    expect(hosts(d.ahead)).toEqual(["r1"])
    expect(d.lost).toEqual([])
    expect(d.verdicts[0]?.reasons).toEqual(["ahead of the candidate", "covered by the candidate's catch-up"])
  })

  it("must beats prefer; among prefer, the dead master's DC and environment first", () => {
    expect(chosen(decide([replica("r1", m, at(100)), replica("r2", m, at(99))], { rules: { r1: "prefer", r2: "must" } }))).toBe("r2")
    const remote = replica("r1", m, at(120), { dataCenter: "dc2" })
    expect(chosen(decide([remote, replica("r2", m, at(100))], { rules: { r1: "prefer", r2: "prefer" } }))).toBe("r2")
  })

  it("must_not and PromotionIgnoreHostnameFilters ban a replica", () => {
    const rs = [replica("r1", m, at(120)), replica("r2", m, at(100))]
    const banned = decide(rs, { rules: { r1: "must_not" } })
    expect(chosen(banned)).toBe("r2")
    expect(banned.verdicts[0]?.rejections).toEqual(["promotion rule is must_not"])
    expect(chosen(decide(rs, { policy: { promotionIgnoreHostnameFilters: ["^r1:"] } }))).toBe("r2")
  })

  it("prefer_not only when nothing better is acceptable", () => {
    expect(chosen(decide([replica("r1", m, at(120)), replica("r2", m, at(100))], { rules: { r1: "prefer_not" } }))).toBe("r2")
    expect(chosen(decide([replica("r1", m, at(120))], { rules: { r1: "prefer_not" } }))).toBe("r1")
  })

  it("PreventCrossDataCenterMasterFailover and PreventCrossRegionMasterFailover", () => {
    const rs = [replica("r1", m, at(120), { dataCenter: "dc2" }), replica("r2", m, at(100))]
    expect(chosen(decide(rs))).toBe("r1")
    expect(chosen(decide(rs, { policy: { preventCrossDataCenterMasterFailover: true } }))).toBe("r2")
    const far = [replica("r1", m, at(120), { region: "us" })]
    const d = decide(far, { policy: { preventCrossRegionMasterFailover: true } })
    expect(chosen(d)).toBeNull()
    expect(d.log).toEqual(["no replica can be promoted"])
  })

  it("a major version above the siblings' most common one is refused", () => {
    const d = decide([replica("r1", m, at(100), { version: "11.4.2-MariaDB" }), replica("r2", m, at(100)), replica("r3", m, at(100))])
    expect(chosen(d)).toBe("r2")
    expect(d.verdicts.find((v) => v.key.hostname === "r1")?.rejections).toEqual([
      "major version 11.4 is above the siblings' most common 10.11"
    ])
    expect(hosts(d.equal)).toEqual(["r3", "r1"])
  })

  it("a binlog format above the siblings' most common one is refused", () => {
    const d = decide([
      replica("r1", m, at(100), { binlogFormat: "ROW" }),
      replica("r2", m, at(100), { binlogFormat: "MIXED" }),
      replica("r3", m, at(100), { binlogFormat: "MIXED" })
    ])
    expect(chosen(d)).toBe("r2")
    expect(d.verdicts.find((v) => v.key.hostname === "r1")?.rejections).toEqual([
      "binlog format ROW is above the siblings' most common MIXED"
    ])
  })

  it("data first: when only a newer-version replica holds the latest transactions, it is promoted (fallback)", () => {
    // orchestrator would promote r2 and lose r1's transactions; we keep them and lose the replicas instead.
    const d = decide([replica("r1", m, at(120), { version: "11.4.2-MariaDB" }), replica("r2", m, at(110)), replica("r3", m, at(100))])
    expect(chosen(d)).toBe("r1")
    expect(d.fallback).toBe(true)
    expect(hosts(d.cannotReplicate)).toEqual(["r2", "r3"])
    expect(d.verdicts[1]?.rejections).toEqual([
      "behind r1:3306 and cannot catch up from it: version 10.11.9-MariaDB-log is lower than 11.4.2-MariaDB on r1:3306"
    ])
  })

  it("errant GTIDs (MariaDB local writes) are refused", () => {
    const writer = replica("r1", m, at(120), { mariadbGtid: gtid("0-1-120", "0-9-121") })
    const d = decide([writer, replica("r2", m, at(120))])
    expect(chosen(d)).toBe("r2")
    expect(d.verdicts.find((v) => v.key.hostname === "r1")?.rejections).toEqual(["has errant GTIDs 0-9-121"])
  })

  it("a replica behind that cannot catch up from the most advanced one is refused", () => {
    // r1 is the most advanced but writes no binlog: r2 cannot catch up from it.
    const d = decide([replica("r1", m, at(120), { logBinEnabled: false }), replica("r2", m, at(100))], { rules: { r2: "prefer" } })
    expect(d.verdicts.find((v) => v.key.hostname === "r2")?.rejections).toEqual([
      "behind r1:3306 and cannot catch up from it: r1:3306 does not have binary logs enabled"
    ])
    // orchestrator's fallback: the best valid non-banned replica, mastering nobody it cannot.
    expect(chosen(d)).toBe("r1")
    expect(d.fallback).toBe(true)
    expect(hosts(d.cannotReplicate)).toEqual(["r2"])
    expect(hosts(d.lost)).toEqual(["r2"])
  })

  it("a single replica without log_slave_updates is still promoted (fallback), nobody is lost", () => {
    const d = decide([replica("r1", m, at(100), { logReplicationUpdatesEnabled: false })])
    expect(chosen(d)).toBe("r1")
    expect(d.fallback).toBe(true)
    expect(d.lost).toEqual([])
  })
})

describe("classification of the others", () => {
  it("ahead / equal / later / cannotReplicate, and who is lost", () => {
    const d = decide([
      replica("r1", m, at(120)),
      replica("r2", m, at(110)),
      replica("r3", m, at(110)),
      replica("r4", m, at(100)),
      replica("r5", m, at(90), { version: "10.6.18-MariaDB" }),
      dead(replica("r6", m, at(80)))
    ], { rules: { r1: "must_not" } })
    expect(chosen(d)).toBe("r2")
    expect(d.catchUpFrom?.hostname).toBe("r1")
    expect(hosts(d.ahead)).toEqual(["r1"])
    expect(hosts(d.equal)).toEqual(["r3"])
    expect(hosts(d.later)).toEqual(["r4", "r6"])
    expect(hosts(d.cannotReplicate)).toEqual(["r5"])
    // r1's transactions reach the candidate by catch-up; r5 is older than the candidate; r6 is unreachable.
    expect(hosts(d.lost)).toEqual(["r5", "r6"])
  })

  it("without a way to catch up, replicas ahead of the candidate are lost (fallback past a banned replica)", () => {
    const d = decide([replica("r1", m, at(120), { logBinEnabled: false }), replica("r2", m, at(100))], { rules: { r1: "must_not" } })
    expect(chosen(d)).toBe("r2")
    expect(d.fallback).toBe(true)
    expect(hosts(d.ahead)).toEqual(["r1"])
    expect(hosts(d.lost)).toEqual(["r1"])
    expect(d.verdicts[0]?.reasons).toEqual(["ahead of the candidate", "its extra transactions are lost"])
  })

  it("a requested candidate that cannot catch up is refused", () => {
    const d = decide([replica("r1", m, at(120), { logBinEnabled: false }), replica("r2", m, at(100))], { requested: key("r2") })
    expect(chosen(d)).toBeNull()
    expect(d.log).toEqual([
      "requested candidate r2:3306 refused: behind r1:3306 and cannot catch up from it: r1:3306 does not have binary logs enabled"
    ])
  })

  it("diverged positions are reported", () => {
    const a = replica("r1", m, at(120), { mariadbGtid: gtid("0-1-120,1-1-5") })
    const b = replica("r2", m, at(110), { mariadbGtid: gtid("0-1-110,1-1-9") })
    const d = decide([a, b])
    expect(chosen(d)).toBe("r1")
    expect(d.log).toContain("replica positions diverge: some transactions are lost whatever the choice")
    expect(d.verdicts[1]?.reasons).toEqual(["has transactions the candidate lacks (diverged)", "its extra transactions are lost"])
  })
})

describe("operator-designated candidate", () => {
  it("is accepted without promotion rules, catching up first", () => {
    const d = decide([replica("r1", m, at(120)), replica("r2", m, at(100))], { rules: { r2: "must_not" }, requested: key("r2") })
    expect(chosen(d)).toBe("r2")
    expect(d.catchUpFrom?.hostname).toBe("r1")
  })

  it("is refused when it is not a valid replica of the failed master", () => {
    expect(decide([replica("r1", m, at(120))], { requested: key("zz") }).log).toEqual([
      "requested candidate zz:3306 is not a replica of the failed master"
    ])
    expect(chosen(decide([dead(replica("r1", m, at(120)))], { requested: key("r1") }))).toBeNull()
  })
})

describe("from a snapshot, with an audit", () => {
  it("inputFor reads replicas and promotion rules; describeDecision prints every verdict", () => {
    const s = Snapshot.make({
      now,
      instances: [m, replica("r1", m, at(120)), replica("r2", m, at(100))],
      candidates: [{ key: { hostname: "r2", port: 3306 }, promotionRule: "prefer", lastSuggested: now, priority: 1 }]
    })
    const d = Candidate.chooseCandidate(Candidate.inputFor(s, m.key))
    expect(Key.format(d.candidate!)).toBe("r2:3306")
    expect(Candidate.describeDecision(d)).toEqual([
      "candidate selection by mariadb-gtid position; most advanced: r1:3306",
      "chose r2:3306 (promotion rule prefer, rank 1)",
      "r1:3306 #0 ahead at 0-1-120 [neutral]: ahead of the candidate; covered by the candidate's catch-up",
      "r2:3306 #1 candidate at 0-1-100 [prefer]: chose r2:3306 (promotion rule prefer, rank 1); catches up from r1:3306 first"
    ])
  })
})
