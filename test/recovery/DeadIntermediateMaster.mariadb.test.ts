/**
 * Dead-intermediate-master recovery on real MariaDB GTID chains, a writer committing continuously on the master.
 *
 * 1. master → IM → 2 replicas (one with its SQL thread stopped: a relay-log backlog), kill -9 the IM: analysis says
 *    DeadIntermediateMaster; the recovery (called directly) drains both replicas and moves them below the master
 *    (Plan D: the IM has no sibling). Checked: nothing a replica received is lost, the master's writes (the ones during the recovery too) reach both replicas, the
 *    recovery and its steps are in the backend, hooks ran with orchestrator's placeholders.
 * 2. The same chain plus a sibling of the IM, through the leader-only loop (RecoverIntermediateMasterClusterFilters):
 *    the detection is registered (audit-failure-detection), the replicas move below the sibling (Plan A).
 * Times are printed, never asserted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Repository } from "../../core/backend/Repository.js"
import { layerSingleNode } from "../../core/node/Leadership.js"
import { resumePoint } from "../../core/recovery/Executor.js"
import { recoverDeadIntermediateMaster } from "../../core/recovery/Recover.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"
import * as RecoveryService from "../../service/Recovery.js"
import { type MariaDbInstance, Shape, startTopology, type Topology } from "../harness/Topology.js"
import { analysisOf, build, config, key, recoveryLayer, scalar, seqOf, setupSchema, startWriter, waitFor } from "./support.js"

const topology = (masters: ReadonlyArray<number | null>) =>
  Effect.acquireRelease(
    Effect.promise(() => startTopology({ shape: Shape.custom(masters) })),
    (t) => Effect.promise(() => t.stop())
  )

const hookDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "orc-im-hooks-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const masterOf = async (i: MariaDbInstance) => {
  const s = await i.slaveStatus()
  return s === undefined ? "none" : `${String(s["Master_Port"])} io=${String(s["Slave_IO_Running"])} sql=${String(s["Slave_SQL_Running"])}`
}

const count = (i: MariaDbInstance) => Effect.promise(async () => Number(await scalar(i, "SELECT COUNT(*) FROM app.t")))

const received = (replicas: ReadonlyArray<MariaDbInstance>) =>
  Effect.promise(() => Promise.all(replicas.map(async (r) => seqOf(String((await r.slaveStatus())?.["Gtid_IO_Pos"] ?? "")))))

/** Every replica replicates from `from` (both threads running) and has every row `from` has. */
const converged = (topo: Topology, from: MariaDbInstance, replicas: ReadonlyArray<MariaDbInstance>) =>
  Effect.gen(function*() {
    for (const r of replicas) yield* Effect.promise(() => r.waitForReplication(10_000))
    yield* Effect.promise(() => topo.syncReplicas({ from, to: replicas }))
    const expected = yield* count(from)
    for (const r of replicas) expect(yield* count(r)).toBe(expected)
    return expected
  })

describe("DeadIntermediateMaster recovery on MariaDB GTID", () => {
  it.scopedLive("kill -9 the intermediate master under writes: its replicas move below the master, nothing lost", () =>
    Effect.gen(function*() {
      const topo = yield* topology([null, 0, 1, 1])
      const [m, im, r1, r2] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance, MariaDbInstance]
      yield* Effect.promise(() => setupSchema(topo))
      const dir = yield* hookDir
      const log = path.join(dir, "log")
      const c = config(topo, {
        PreFailoverProcesses: [`echo "pre {failureType} {instanceType} {failedPort} {isSuccessful}" >> ${log}`],
        PostIntermediateMasterFailoverProcesses: [`echo "post-im {failedPort} {successorPort} {countReplicas} {isSuccessful}" >> ${log}`],
        PostFailoverProcesses: [`echo "post $ORC_FAILURE_TYPE $ORC_SUCCESSOR_PORT lost=[{lostReplicas}]" >> ${log}`],
        PostMasterFailoverProcesses: [`echo "post-master (must not run)" >> ${log}`]
      })
      const { ctx, discovery, repo } = yield* build(c)
      yield* discovery.discover(key(m.key))
      yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
      const writer = yield* Effect.promise(() => startWriter(m, topo.credentials))
      yield* Effect.sleep("300 millis")
      // r2 falls behind: its SQL thread stops while its IO thread keeps receiving, so at the failure it holds
      // transactions it received and has not applied — exactly what MariaDB drops if both threads stop first.
      yield* Effect.promise(() => r2.query("STOP SLAVE SQL_THREAD", [], { user: "admin" }))
      yield* Effect.sleep("300 millis")
      yield* Effect.promise(() => im.kill9())
      const killedAt = Date.now()
      const analysis = yield* waitFor(
        "DeadIntermediateMaster",
        analysisOf(c, im.key, ["DeadIntermediateMaster"]).pipe(Effect.provide(ctx))
      )
      const detectedAt = Date.now()
      expect(analysis.isMaster).toBe(false)
      expect(analysis.countReplicas).toBe(2)
      expect(analysis.analyzedInstanceMasterKey?.port).toBe(m.port)
      // What each replica received from the dead IM before the recovery touches it.
      const before = yield* received([r1, r2])
      const backlog = before[1]! - seqOf(yield* Effect.promise(() => scalar(r2, "SELECT @@gtid_slave_pos")))
      const outcome = yield* recoverDeadIntermediateMaster(analysis, { requested: null, runHooks: true, command: "", detectionId: 0 }).pipe(
        Effect.provide(ctx)
      )
      const healedAt = Date.now()
      expect(outcome._tag).toBe("Done")
      if (outcome._tag !== "Done") return
      const steps = yield* repo.readRecoverySteps(outcome.uid)
      console.log(steps.map((s) => s.message.slice(0, 220)).join("\n"))
      expect(outcome.result.errors).toEqual([])
      expect(outcome.result.successful).toBe(true)
      expect(outcome.result.successor?.port).toBe(m.port)
      expect(outcome.result.lost).toEqual([])
      // Both replicas replicate from the master now, and still have what they had received.
      for (const r of [r1, r2]) {
        const s = yield* Effect.promise(() => r.slaveStatus())
        expect(Number(s?.["Master_Port"])).toBe(m.port)
        expect(String(s?.["Using_Gtid"])).toBe("Slave_Pos")
      }
      const after = yield* Effect.promise(() => Promise.all([r1, r2].map(async (r) => seqOf(await scalar(r, "SELECT @@gtid_slave_pos")))))
      after.forEach((seq, n) => expect(seq).toBeGreaterThanOrEqual(before[n]!))
      // The master kept taking writes during the recovery: they all reach both replicas.
      yield* Effect.promise(() => writer.stop())
      const rows = yield* converged(topo, m, [r1, r2])
      expect(rows).toBeGreaterThanOrEqual(writer.committed())
      // Recorded in the backend, the audit complete.
      const recovery = yield* repo.readRecoveryByUid(outcome.uid)
      expect(recovery?.isSuccessful).toBe(true)
      expect(recovery?.recoveryType).toBe("IntermediateMasterRecovery")
      expect(recovery?.analysis).toBe("DeadIntermediateMaster")
      expect(recovery?.successorKey?.port).toBe(m.port)
      expect(steps.some((s) => s.message.startsWith("plan (from step 1)"))).toBe(true)
      expect(steps.some((s) => /^step 3\/\d+: move .* below 127\.0\.0\.1:\d+ by GTID/.test(s.message))).toBe(true)
      const point = resumePoint(steps.map((s) => s.message))
      expect(point?.from).toBe(point?.plan.steps.length)
      // Hooks: PreFailover without a successor, then PostIntermediateMasterFailover and PostFailover with it.
      expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([
        `pre DeadIntermediateMaster intermediate-master ${im.port} false`,
        `post-im ${im.port} ${m.port} 2 true`,
        `post DeadIntermediateMaster ${m.port} lost=[]`
      ])
      console.log(
        `IM recovery: detected after ${detectedAt - killedAt} ms, healed ${healedAt - detectedAt} ms later; ` +
          `received ${before.join("/")} (r2 had ${backlog} unapplied) → applied ${after.join("/")}; writer committed ${writer.committed()}, rows ${rows}; ` +
          `replicas: ${(yield* Effect.promise(() => Promise.all([r1, r2].map(masterOf)))).join(" | ")}`
      )
    }), 90_000)

  it.scopedLive("the leader loop registers the detection and moves the replicas below the IM's sibling (Plan A)", () =>
    Effect.gen(function*() {
      // 0 master, 1 IM, 2-3 its replicas, 4 a sibling of the IM.
      const topo = yield* topology([null, 0, 1, 1, 0])
      const [m, im, r1, r2, sibling] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance, MariaDbInstance, MariaDbInstance]
      yield* Effect.promise(() => setupSchema(topo))
      // Only intermediate-master recoveries are automated here.
      const c = config(topo, { RecoverMasterClusterFilters: [], RecoverIntermediateMasterClusterFilters: ["*"] })
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(m.key))
      yield* waitFor("all 5 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 5 ? true : undefined)))
      const writer = yield* Effect.promise(() => startWriter(m, topo.credentials))
      yield* Effect.sleep("300 millis")
      yield* Effect.promise(() => im.kill9())
      const killedAt = Date.now()
      const recovery = yield* waitFor(
        "an automated intermediate-master recovery",
        Effect.map(repo.readRecoveries(10, 0), (rs) => rs.find((r) => r.endRecovery !== null)),
        45_000
      )
      console.log(`loop: kill -9 of the IM → recovery resolved in ${Date.now() - killedAt} ms (successful=${recovery.isSuccessful})`)
      const steps = yield* repo.readRecoverySteps(recovery.uid)
      console.log(steps.map((s) => s.message.slice(0, 220)).join("\n"))
      expect(recovery.isSuccessful).toBe(true)
      expect(recovery.key.port).toBe(im.port)
      expect(recovery.successorKey?.port).toBe(sibling.port)
      expect(steps.some((s) => s.message.startsWith("Plan A"))).toBe(true)
      for (const r of [r1, r2]) expect(Number((yield* Effect.promise(() => r.slaveStatus()))?.["Master_Port"])).toBe(sibling.port)
      // Writes on the master reach the moved replicas through the sibling.
      yield* Effect.promise(() => writer.stop())
      yield* Effect.promise(() => topo.syncReplicas({ from: m, to: [sibling] }))
      const rows = yield* converged(topo, sibling, [r1, r2])
      expect(rows).toBe(yield* count(m))
      // The detection is in the audit (orchestrator's audit-failure-detection), the recovery in audit-recovery.
      const detections = (yield* recoveryHandlers.auditFailureDetection().pipe(Effect.provide(ctx))) as { readonly body: ReadonlyArray<{ readonly AnalysisEntry: { readonly Analysis: string; readonly AnalyzedInstanceKey: { readonly Port: number } } }> }
      expect(detections.body.some((d) => d.AnalysisEntry.Analysis === "DeadIntermediateMaster" && d.AnalysisEntry.AnalyzedInstanceKey.Port === im.port)).toBe(true)
      const audit = (yield* recoveryHandlers.auditRecoveryByUid({ uid: recovery.uid }).pipe(Effect.provide(ctx))) as { readonly body: ReadonlyArray<{ readonly Type: string; readonly RecoveryType: string; readonly SuccessorKey: { readonly Port: number } }> }
      expect(audit.body[0]).toMatchObject({ Type: "IntermediateMasterRecovery", RecoveryType: "NotMasterRecovery", SuccessorKey: { Port: sibling.port } })
    }), 90_000)
})
