/**
 * Recovery planning, pure: golden plans for DeadMaster (both phases), graceful takeover and refactoring
 * refusals; the gates (filters, downtime, global switch, anti-flapping); the resume protocol over audit lines;
 * hook placeholders and environment.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type { Recovery } from "../../core/backend/Repository.js"
import { planMessage, resumePoint } from "../../core/recovery/Executor.js"
import { agreeingCodes, gate, quorumOf } from "../../core/recovery/Gate.js"
import { asyncForm, environment, type HookValues, prepareCommand } from "../../core/recovery/Hooks.js"
import * as Plan from "../../core/recovery/Plan.js"
import { analyze } from "../../core/analysis/Analyze.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import type { Instance } from "../../core/topology/Instance.js"
import { coMasters, dead, failingToConnect, key, master, now, replica, stopped } from "../analysis/fixtures.js"

const m = master("m1", { flavor: "MariaDB", version: "10.11.9-MariaDB", clusterName: "m1:3306" })
const r = (host: string, seq: number, patch: Partial<Instance> = {}) =>
  replica(host, m, { ...stopped, seq }, { flavor: "MariaDB", version: "10.11.9-MariaDB", logBinEnabled: true, logReplicationUpdatesEnabled: true, ...patch })

const policy = Plan.defaultRecoveryPolicy

const phase1 = (replicas: ReadonlyArray<Instance>, requested: ReturnType<typeof key> | null = null) =>
  Either.getOrThrow(Plan.planDeadMaster({ failedKey: m.key, clusterName: "m1:3306", master: dead(m), replicas, requested, policy }))

const full = (replicas: ReadonlyArray<Instance>, rules: Readonly<Record<string, "prefer" | "must_not">> = {}) => {
  const p1 = phase1(replicas)
  const decideAt = p1.steps.findIndex((s) => s.step._tag === "Decide")
  const promotion = Either.getOrThrow(Plan.planPromotion({
    plan: p1,
    master: dead(m),
    replicas,
    ruleOf: (k) => rules[k.hostname] ?? "neutral",
    requested: null,
    policy
  }))
  return Plan.applyPromotion(p1, decideAt, promotion)
}

describe("DeadMaster plan", () => {
  it("MasterFailoverDetachReplicaMasterHost detaches the promoted replica when it kept its replication settings", () => {
    const replicas = [r("r1", 100), r("r2", 90)]
    const detached = (applyMySQLPromotion: boolean, detachPromotedMasterHost: boolean) => {
      const p = Either.getOrThrow(Plan.planPromotion({
        plan: phase1(replicas),
        master: dead(m),
        replicas,
        ruleOf: () => "neutral",
        requested: null,
        policy: { ...policy, applyMySQLPromotion, detachPromotedMasterHost }
      }))
      return p.steps.flatMap((x) => (x.step._tag === "DetachMasterHost" ? x.step.keys.map((k) => k.hostname) : []))
    }
    expect(detached(false, true)).toEqual(["r1"])
    expect(detached(false, false)).toEqual([])
    expect(detached(true, true)).toEqual([]) // RESET SLAVE ALL left nothing to detach
  })

  it("FailMasterPromotionOnLagMinutes: a candidate that lags that much fails the promotion; unknown lag does not", () => {
    const replicas = [r("r1", 100, { replicationLagSeconds: 600 }), r("r2", 90, { replicationLagSeconds: 0 })]
    const promote = (minutes: number, rs: ReadonlyArray<Instance>) =>
      Plan.planPromotion({
        plan: phase1(rs),
        master: dead(m),
        replicas: rs,
        ruleOf: () => "neutral",
        requested: null,
        policy: { ...policy, failPromotionOnLagSeconds: minutes * 60 }
      })
    const refused = promote(5, replicas)
    expect(Either.isLeft(refused) && refused.left.reason).toBe(
      "failed promotion: FailMasterPromotionOnLagMinutes is 5 and the candidate r1:3306 lags 600 s"
    )
    expect(Either.isLeft(promote(10, replicas))).toBe(true) // 600 s is 10 minutes: reached
    expect(Either.getOrThrow(promote(11, replicas).pipe(Either.map((p) => p.successor?.hostname)))).toBe("r1")
    expect(Either.getOrThrow(promote(0, replicas).pipe(Either.map((p) => p.successor?.hostname)))).toBe("r1")
    const unknown = [r("r1", 100, { replicationLagSeconds: null }), r("r2", 90)]
    expect(Either.getOrThrow(promote(1, unknown).pipe(Either.map((p) => p.successor?.hostname)))).toBe("r1")
  })

  it("phase 1: PreFailover, drain the reachable replicas, decide; unreachable ones are lost", () => {
    const p = phase1([r("r1", 100), r("r2", 90), dead(r("r3", 80))])
    expect(Plan.describePlan(p)).toEqual([
      "1. run PreFailoverProcesses (a failure aborts)",
      "2. drain relay logs on r1:3306, r2:3306 (SQL thread first), then stop replication",
      "3. re-read positions and choose the candidate"
    ])
    expect(p.lost.map((k) => k.hostname)).toEqual(["r3"])
    expect(p.gtid).toBe("mariadb")
    expect(p.dialects["r1:3306"]).toBe("mariadb")
  })

  it("golden: most advanced promoted, others repointed by GTID, lost downtimed and detached, old master read_only", async () => {
    const p = full([r("r1", 100), r("r2", 90), dead(r("r3", 80))])
    expect(p.successor?.hostname).toBe("r1")
    await expect(JSON.stringify({ steps: Plan.describePlan(p), lost: p.lost, notes: p.notes }, null, 2) + "\n")
      .toMatchFileSnapshot("golden/dead-master.json")
  })

  it("a preferred candidate that is behind catches up from the most advanced replica first", () => {
    const p = full([r("r1", 100), r("r2", 90)], { r2: "prefer" })
    expect(Plan.describePlan(p).slice(2, 5)).toEqual([
      "3. r2:3306 catches up from r1:3306",
      "4. promote r2:3306: RESET SLAVE ALL, read_only=0",
      "5. (best effort) repoint r1:3306 to r2:3306 by GTID (slave_pos)"
    ])
    expect(p.lost).toEqual([])
  })

  it("refuses without GTID, without reachable replicas, and for a requested candidate that is not a replica", () => {
    const noGtid = r("r1", 100, { mariadbGtid: null })
    const withoutGtid = { ...noGtid, replication: { ...noGtid.replication!, usingGtid: "No" } }
    const refused = (replicas: ReadonlyArray<Instance>, requested: ReturnType<typeof key> | null = null) =>
      Either.match(Plan.planDeadMaster({ failedKey: m.key, clusterName: "c", master: m, replicas, requested, policy }), {
        onLeft: (e) => e.reason,
        onRight: () => "planned"
      })
    expect(refused([withoutGtid])).toMatch(/only GTID recovery is supported/)
    expect(refused([dead(r("r1", 1))])).toMatch(/no reachable replica/)
    expect(refused([r("r1", 1)], key("x9"))).toMatch(/is not a replica of m1:3306/)
  })

  it("the plan round-trips through its audit line, and resume starts at the first step not done", () => {
    const p = full([r("r1", 100), r("r2", 90)])
    const lines = [
      planMessage(phase1([r("r1", 100), r("r2", 90)]), 0),
      "step 1/3: run PreFailoverProcesses",
      "step 1/3 done",
      "step 2/3 done",
      planMessage(p, 2),
      "step 3/9: promote",
      "step 3/9 done",
      "step 4/9: repoint",
      "step 4/9 failed: r2 unreachable"
    ]
    const point = resumePoint(lines)
    expect(point?.plan).toEqual(p)
    expect(point?.from).toBe(4)
    expect(resumePoint(["step 1/3 done"])).toBeUndefined()
  })
})

describe("graceful takeover and refactoring plans", () => {
  const live = (host: string, seq: number) => r(host, seq, { replication: { ...r(host, seq).replication!, ioRunning: "Yes", sqlRunning: "Yes" } })

  it("graceful: siblings below the designated, master read_only, wait, promote, demoted master below (started with -auto)", () => {
    const p = Either.getOrThrow(Plan.planGracefulTakeover({
      master: m, replicas: [live("r1", 100), live("r2", 100)], designated: key("r2"), auto: true, ruleOf: () => "neutral", policy
    }))
    expect(Plan.describePlan(p)).toEqual([
      "1. run PreGracefulTakeoverProcesses (a failure aborts)",
      "2. repoint r1:3306 to r2:3306 by GTID (slave_pos)",
      "3. set m1:3306 read_only=1",
      "4. wait until r2:3306 has applied m1:3306's binlog",
      "5. promote r2:3306: RESET SLAVE ALL, read_only=0",
      "6. (best effort) repoint m1:3306 to r2:3306 by GTID (current_pos)",
      "7. (best effort) run PostGracefulTakeoverProcesses"
    ])
    expect(p.rollback.map((s) => s.step._tag)).toEqual(["SetReadOnly"])
  })

  it("graceful refuses several replicas without a designated one (unless -auto)", () => {
    const p = Plan.planGracefulTakeover({ master: m, replicas: [live("r1", 1), live("r2", 1)], designated: null, auto: false, ruleOf: () => "neutral", policy })
    expect(Either.isLeft(p) && p.left.reason).toMatch(/designate one/)
  })

  it("relocate refuses cycles and diverged replicas, and leaves the topology alone (no steps)", () => {
    const r1 = live("r1", 100)
    const below = replica("r3", r1, { seq: 100 }, { flavor: "MariaDB", logBinEnabled: true, logReplicationUpdatesEnabled: true })
    const all = [m, r1, below]
    expect(Plan.unsafeMoveReason(r1, below, all, policy)).toMatch(/cycle/)
    const diverged = r("r2", 50, { mariadbGtid: { currentPos: "0-1-50,1-9-4", slavePos: "0-1-50,1-9-4", binlogPos: "", strictMode: true, domainId: 0 } })
    expect(Plan.unsafeMoveReason(diverged, r1, [...all, diverged], policy)).toMatch(/diverge/)
    expect(Either.isLeft(Plan.planRelocate([r1], below, all, policy))).toBe(true)
    const ok = Either.getOrThrow(Plan.planRelocate([below], m, all, policy))
    expect(Plan.describePlan(ok)).toEqual(["1. repoint r3:3306 to m1:3306 by GTID (slave_pos)"])
  })
})

describe("DeadIntermediateMaster plan", () => {
  const im = replica("im", m, {}, { flavor: "MariaDB", logBinEnabled: true, logReplicationUpdatesEnabled: true })
  const below = (host: string, patch: Partial<Instance> = {}) => replica(host, im, failingToConnect, patch)
  const r1 = below("r1")
  const r2 = below("r2")
  const plan = (instances: ReadonlyArray<Instance>, rules: Readonly<Record<string, "prefer" | "must_not">> = {}) =>
    Plan.planDeadIntermediateMaster({
      failedKey: im.key,
      clusterName: "m1:3306",
      intermediateMaster: dead(im),
      replicas: instances.filter((i) => i.replication?.masterKey?.hostname === "im"),
      all: [m, dead(im), ...instances],
      ruleOf: (k) => rules[k.hostname] ?? "neutral",
      policy
    })
  const planned = (instances: ReadonlyArray<Instance>, rules: Readonly<Record<string, "prefer" | "must_not">> = {}) =>
    Either.getOrThrow(plan(instances, rules))

  it("the analysis of a dead intermediate master with two replicas is DeadIntermediateMaster", () => {
    const s = Snapshot.make({ now, instances: [m, dead(im), r1, r2] })
    expect(analyze(s).find((a) => a.analyzedInstanceKey.hostname === "im")?.analysis).toBe("DeadIntermediateMaster")
  })

  it("golden, Plan D: without siblings the replicas are drained and move below the intermediate master's master", async () => {
    const p = planned([r1, r2])
    expect(p.kind).toBe("DeadIntermediateMaster")
    expect(p.successor).toEqual({ hostname: "m1", port: 3306 })
    expect(Plan.describePlan(p)).toEqual([
      "1. run PreFailoverProcesses (a failure aborts)",
      "2. drain relay logs on r1:3306, r2:3306 (SQL thread first), then stop replication",
      "3. move r1:3306, r2:3306 below m1:3306 by GTID (slave_pos), once m1:3306 has what each applied",
      "4. (best effort) downtime the replicas lost during the run, if any (lost-in-recovery)",
      "5. (best effort) run PostIntermediateMasterFailoverProcesses",
      "6. (best effort) end downtime of m1:3306",
      "7. (best effort) run PostFailoverProcesses"
    ])
    expect(p.rollback.map((s) => s.step._tag)).toEqual(["StartReplication"])
    await expect(JSON.stringify({ steps: Plan.describePlan(p), lost: p.lost, notes: p.notes }, null, 2) + "\n")
      .toMatchFileSnapshot("golden/dead-intermediate-master.json")
  })

  it("Plan A: a valid sibling in the same DC takes the replicas; a registered candidate sibling comes first", () => {
    const s1 = replica("s1", m)
    const s2 = replica("s2", m)
    const child = replica("c1", s1)
    expect(planned([r1, r2, s1, s2, child]).successor?.hostname).toBe("s1")
    expect(planned([r1, r2, s1, s2, child], { s2: "prefer" }).successor?.hostname).toBe("s2")
    // Siblings that cannot take over: banned, not replicating, behind the intermediate master, without log_slave_updates.
    const notes = planned([r1, r2, s1, s2], { s1: "must_not", s2: "must_not" }).notes
    expect(notes).toContain("sibling s1:3306: not a candidate: promotion rule is must_not")
    const behind = replica("s3", m, { seq: 90 })
    const stoppedSibling = replica("s4", m, stopped)
    const noLogging = replica("s5", m, {}, { logReplicationUpdatesEnabled: false })
    const p = planned([r1, r2, behind, stoppedSibling, noLogging])
    expect(p.successor?.hostname).toBe("m1")
    expect(p.notes).toEqual(expect.arrayContaining([
      "sibling s3:3306: not a candidate: behind the intermediate master's last known position",
      "sibling s4:3306: not a candidate: not replicating",
      "sibling s5:3306: not a candidate: log_slave_updates is disabled"
    ]))
  })

  it("a sibling in another DC is only used when the intermediate master's master cannot take the replicas (Plan C)", () => {
    const far = replica("s1", m, {}, { dataCenter: "dc2" })
    expect(planned([r1, r2, far]).successor?.hostname).toBe("m1")
    const p = Either.getOrThrow(Plan.planDeadIntermediateMaster({
      failedKey: im.key, clusterName: "m1:3306", intermediateMaster: dead(im), replicas: [r1, r2],
      all: [dead(m), dead(im), r1, r2, far], ruleOf: () => "neutral", policy
    }))
    expect(p.successor?.hostname).toBe("s1")
    expect(p.notes.some((n) => n.startsWith("Plan C"))).toBe(true)
  })

  it("unreachable replicas and replicas with errant GTIDs are lost: downtimed, the reachable ones detached", () => {
    const errant = below("r3", { mariadbGtid: { currentPos: "0-9-101", slavePos: "0-1-100", binlogPos: "0-9-101", strictMode: true, domainId: 0 } })
    const p = planned([r1, dead(r2), errant])
    expect(p.lost.map((k) => k.hostname).sort()).toEqual(["r2", "r3"])
    const steps = p.steps.map((s) => s.step)
    expect(steps.find((s) => s._tag === "MoveReplicas")).toMatchObject({ replicas: [{ hostname: "r1" }] })
    expect(steps.find((s) => s._tag === "Downtime")).toMatchObject({ keys: [{ hostname: "r2" }, { hostname: "r3" }] })
    expect(steps.find((s) => s._tag === "DetachMasterHost")).toMatchObject({ keys: [{ hostname: "r3" }] })
    expect(p.notes.join("\n")).toMatch(/r3:3306: cannot move below m1:3306 \(lost\): .*errant GTIDs/)
  })

  it("refuses without reachable replicas, without GTID, and without any target", () => {
    const reason = (e: ReturnType<typeof plan>) => (Either.isLeft(e) ? e.left.reason : "planned")
    expect(reason(plan([dead(r1), dead(r2)]))).toMatch(/no reachable replica/)
    const noGtid = below("r1", { mariadbGtid: null })
    expect(reason(plan([{ ...noGtid, replication: { ...noGtid.replication!, usingGtid: "No" } }]))).toMatch(/only GTID recovery is supported/)
    expect(reason(Plan.planDeadIntermediateMaster({
      failedKey: im.key, clusterName: "m1:3306", intermediateMaster: dead(im), replicas: [r1], all: [dead(m), dead(im), r1],
      ruleOf: () => "neutral", policy
    }))).toMatch(/no target to relocate/)
  })
})

describe("DeadCoMaster plan", () => {
  const [a, b] = coMasters()
  const c = replica("c1", b, failingToConnect)
  const other = replica("cm1", b, failingToConnect, { isCoMaster: true, clusterName: "cm1:3306", serverId: a.serverId, readOnly: a.readOnly })
  const plan = (must: boolean, otherCoMaster: Instance = other) =>
    Either.getOrThrow(Plan.planDeadCoMaster({
      failedKey: b.key, clusterName: "cm1:3306", coMaster: dead(b), otherCoMaster, replicas: [otherCoMaster, c], mustPromoteOtherCoMaster: must, policy
    }))

  it("the analysis of a dead co-master whose replicas (the other co-master among them) lost it is DeadCoMaster", () => {
    const s = Snapshot.make({ now, instances: [other, dead(b), c] })
    expect(analyze(s).find((x) => x.analyzedInstanceKey.hostname === "cm2")?.analysis).toBe("DeadCoMaster")
  })

  it("drains, then decides pinned to the other co-master (CoMasterRecoveryMustPromoteOtherCoMaster, or it is writable)", () => {
    const p = plan(true)
    expect(p.kind).toBe("DeadCoMaster")
    expect(Plan.describePlan(p)).toEqual([
      "1. run PreFailoverProcesses (a failure aborts)",
      "2. drain relay logs on cm1:3306, c1:3306 (SQL thread first), then stop replication",
      "3. re-read positions and choose the candidate (requested cm1:3306)"
    ])
    expect(p.notes[0]).toBe("other co-master cm1:3306 must be promoted (CoMasterRecoveryMustPromoteOtherCoMaster)")
    // Writable: promoted whatever the setting (orchestrator).
    expect(plan(false, { ...other, readOnly: false }).steps.find((s) => s.step._tag === "Decide")?.step).toMatchObject({ requested: { hostname: "cm1" } })
    expect(plan(false, { ...other, readOnly: true }).steps.find((s) => s.step._tag === "Decide")?.step).toMatchObject({ requested: null })
  })

  it("phase 2: the other co-master is promoted (RESET SLAVE ALL: it stops replicating from the dead one), the rest move below it", () => {
    const p1 = plan(true)
    const decideAt = p1.steps.findIndex((s) => s.step._tag === "Decide")
    const promote = (apply: boolean, requested: ReturnType<typeof key> | null) => {
      const pol = { ...policy, applyMySQLPromotion: apply }
      const done = Plan.planPromotion({ plan: p1, master: dead(b), replicas: [other, c], ruleOf: () => "neutral", requested, policy: pol })
      return Plan.describePlan(Plan.applyPromotion(p1, decideAt, Either.getOrThrow(done)))
    }
    expect(promote(true, key("cm1")).slice(2, 4)).toEqual([
      "3. promote cm1:3306: RESET SLAVE ALL, read_only=0",
      "4. (best effort) repoint c1:3306 to cm1:3306 by GTID (slave_pos)"
    ])
    // No MySQL promotion and another replica promoted: its master host is detached (no circle through the dead co-master).
    expect(promote(false, key("c1")).slice(2, 4)).toEqual([
      "3. promote c1:3306 (no MySQL promotion)",
      "4. (best effort) detach c1:3306 from their master host"
    ])
  })
})

const recovery = (patch: Partial<Recovery>): Recovery => ({
  id: 7, uid: "u7", key: { hostname: "m1", port: 3306 }, analysis: "DeadMaster", clusterName: "m1:3306", clusterAlias: "m1",
  recoveryType: "MasterRecovery", inActivePeriod: true, startActivePeriod: now - 60_000, endActivePeriodUnixtime: 0, endRecovery: now - 50_000,
  processingNodeHostname: "n1", processingNodeToken: "t", successorKey: null, successorAlias: "", isSuccessful: true, lostReplicas: "",
  participatingInstances: "", allErrors: "", acknowledged: false, acknowledgedAt: null, acknowledgedBy: "", acknowledgedComment: "",
  lastDetectionId: 0, relatedRecoveryId: 0, analysisEntry: "", ...patch
})

describe("gates", () => {
  const snapshot = Snapshot.make({ now, instances: [dead(m), r("r1", 1), r("r2", 1)], policy: { ...Snapshot.defaultAnalysisPolicy, recoverMasterClusterFilters: ["*"] } })
  const entry = analyze(snapshot).find((a) => a.analysis === "DeadMaster")!
  const gp = { recoverMasterClusterFilters: ["*"], recoverIntermediateMasterClusterFilters: [], recoveryPeriodBlockSeconds: 3600 }
  const verdict = (patch: Partial<Parameters<typeof gate>[0]> = {}) =>
    gate({ analysis: entry, recoveries: [], globallyDisabled: false, now, policy: gp, ...patch })._tag

  it("proceeds for a DeadMaster in a cluster matching RecoverMasterClusterFilters", () => {
    expect(entry).toBeDefined()
    expect(verdict()).toBe("Proceed")
  })
  it("skips with no matching filter, when globally disabled, when downtimed", () => {
    expect(verdict({ policy: { ...gp, recoverMasterClusterFilters: [] } })).toBe("Skip")
    expect(verdict({ policy: { ...gp, recoverMasterClusterFilters: ["alias~=^other"] } })).toBe("Skip")
    expect(verdict({ globallyDisabled: true })).toBe("Skip")
    expect(verdict({ analysis: { ...entry, skippableDueToDowntime: true, isDowntimed: true } })).toBe("Skip")
  })
  it("RecoveryPeriodBlockSeconds: an active recovery of the cluster blocks; acknowledged or expired ones do not", () => {
    expect(verdict({ recoveries: [recovery({})] })).toBe("Blocked")
    expect(verdict({ recoveries: [recovery({ acknowledged: true })] })).toBe("Proceed")
    expect(verdict({ recoveries: [recovery({ startActivePeriod: now - 3601_000 })] })).toBe("Proceed")
    expect(verdict({ recoveries: [recovery({ clusterName: "other:3306" })] })).toBe("Proceed")
    // The failed master was promoted by a recovery still active (its cluster was renamed after its new master).
    expect(verdict({ recoveries: [recovery({ clusterName: "old:3306", clusterAlias: "old:3306", successorKey: { hostname: "m1", port: 3306 } })] }))
      .toBe("Blocked")
  })
  it("intermediate masters follow RecoverIntermediateMasterClusterFilters, co-masters RecoverMasterClusterFilters", () => {
    const im = replica("im", m)
    const s = Snapshot.make({ now, instances: [m, dead(im), replica("r1", im, failingToConnect), replica("r2", im, failingToConnect)] })
    const imEntry = analyze(s).find((a) => a.analysis === "DeadIntermediateMaster")!
    expect(verdict({ analysis: imEntry })).toBe("Skip")
    expect(verdict({ analysis: imEntry, policy: { ...gp, recoverMasterClusterFilters: [], recoverIntermediateMasterClusterFilters: ["*"] } })).toBe("Proceed")
    const coEntry = { ...imEntry, analysis: "DeadCoMaster" as const, isCoMaster: true }
    expect(verdict({ analysis: coEntry })).toBe("Proceed")
    expect(verdict({ analysis: coEntry, policy: { ...gp, recoverMasterClusterFilters: [], recoverIntermediateMasterClusterFilters: ["*"] } })).toBe("Skip")
    // Detection only: orchestrator's generic function.
    expect(verdict({ analysis: { ...imEntry, analysis: "DeadIntermediateMasterAndReplicas" }, policy: { ...gp, recoverIntermediateMasterClusterFilters: ["*"] } })).toBe("Skip")
  })
  it("a peer agrees with a detection of the same family only", () => {
    expect(agreeingCodes("DeadMaster").has("UnreachableMaster")).toBe(false)
    expect(agreeingCodes("DeadMaster").has("DeadMasterAndReplicas")).toBe(true)
    expect(agreeingCodes("DeadIntermediateMaster").has("DeadIntermediateMasterAndSomeReplicas")).toBe(true)
    // A peer that reaches the intermediate master does not see it dead.
    expect(agreeingCodes("DeadIntermediateMaster").has("AllIntermediateMasterReplicasFailingToConnectOrDead")).toBe(false)
    expect(agreeingCodes("DeadIntermediateMaster").has("DeadMaster")).toBe(false)
    expect([...agreeingCodes("DeadCoMaster")]).toEqual(["DeadCoMaster", "DeadCoMasterAndSomeReplicas"])
  })
  it("quorum is a majority of the voters", () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3])
  })
})

describe("hooks", () => {
  const values: HookValues = {
    failureType: "DeadMaster", instanceType: "master", isMaster: true, isCoMaster: false, failureDescription: "d", command: "",
    failedHost: "m1", failedPort: 3306, failureCluster: "m1:3306", failureClusterAlias: "main", failureClusterDomain: "d",
    countReplicas: 2, isDowntimed: false, autoMasterRecovery: true, autoIntermediateMasterRecovery: false, orchestratorHost: "orc1",
    recoveryUid: "u1", isSuccessful: true, successor: { host: "r1", port: 3306, binlogCoordinates: "", alias: "r1:3306" },
    lostReplicas: ["r3:3306"], replicaHosts: ["r1:3306", "r2:3306"]
  }
  it("fills orchestrator's placeholders and ORC_* variables", () => {
    expect(prepareCommand("echo {failureType} {failedHost}:{failedPort} -> {successorHost}:{successorPort} lost={lostReplicas} n={countLostReplicas} {recoveryUID}", values))
      .toBe("echo DeadMaster m1:3306 -> r1:3306 lost=r3:3306 n=1 u1")
    const env = environment(values)
    expect(env.ORC_SUCCESSOR_HOST).toBe("r1")
    expect(env.ORC_FAILURE_CLUSTER_ALIAS).toBe("main")
    expect(environment({ ...values, successor: null }).ORC_SUCCESSOR_HOST).toBeUndefined()
  })
  it("a trailing & runs asynchronously", () => {
    expect(asyncForm("notify.sh &")).toEqual({ command: "notify.sh", async: true })
    expect(asyncForm("a && b")).toEqual({ command: "a && b", async: false })
  })
})
