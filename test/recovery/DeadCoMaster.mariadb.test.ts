/**
 * Dead-co-master recovery on real MariaDB GTID: two co-masters replicating from each other (the active one writable,
 * taking a writer's commits; the passive one read_only) and a replica below the active one. kill -9 the active
 * co-master: the analysis says DeadCoMaster, the leader registers the detection (RecoverMasterClusterFilters is empty
 * here, so only the operator recovers), and the manual `recover` route promotes the other co-master: writable, no
 * longer replicating from the dead one (RESET SLAVE ALL); the dead one's replica moves below it; nothing any of them
 * received is lost; the recovery is in the backend as a CoMasterRecovery. Times are printed, never asserted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { Repository } from "../../core/backend/Repository.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { layerSingleNode } from "../../core/node/Leadership.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"
import * as RecoveryService from "../../service/Recovery.js"
import { type MariaDbInstance, Shape, startTopology } from "../harness/Topology.js"
import { analysisOf, config, key, recoveryLayer, scalar, seqOf, setupSchema, startWriter, waitFor } from "./support.js"

const topology = Effect.acquireRelease(
  Effect.promise(() => startTopology({ shape: Shape.coMasters(1) })),
  (t) => Effect.promise(() => t.stop())
)

const written = (i: MariaDbInstance) => Effect.promise(async () => Number(await scalar(i, "SELECT COUNT(*) FROM app.t WHERE v = 1")))

describe("DeadCoMaster recovery on MariaDB GTID", () => {
  it.scopedLive("kill -9 the active co-master under writes: detected, the other co-master promoted, its replica moved", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const [active, passive, replica] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance]
      expect(topo.master).toBe(active)
      yield* Effect.promise(() => setupSchema(topo))
      const c = config(topo, { RecoverMasterClusterFilters: [] })
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(active.key))
      // Co-master flags are derived from the stored master's row: they settle a probe after both are known.
      yield* waitFor("both co-masters probed as co-masters", Snapshot.readWithConfig(c).pipe(
        Effect.map((s) => {
          const all = [...s.instances.values()]
          return all.length === 3 && [active, passive].every((i) => s.instances.get(Key.format(key(i.key)))?.isCoMaster === true) ? true : undefined
        }),
        Effect.provide(ctx)
      ))
      // The writer's transactions are the active co-master's GTIDs after this one.
      const base = seqOf(yield* Effect.promise(() => scalar(active, "SELECT @@gtid_binlog_pos")))
      const writer = yield* Effect.promise(() => startWriter(active, topo.credentials))
      yield* Effect.sleep("300 millis")
      yield* Effect.promise(() => active.kill9())
      const killedAt = Date.now()
      yield* Effect.promise(() => writer.stop())
      const analysis = yield* waitFor("DeadCoMaster", analysisOf(c, active.key, ["DeadCoMaster"]).pipe(Effect.provide(ctx)))
      const detectedAt = Date.now()
      expect(analysis.isCoMaster).toBe(true)
      expect(analysis.analyzedInstanceMasterKey?.port).toBe(passive.port)
      // The leader loop registers the detection even though no automated recovery is allowed.
      const detection = yield* waitFor("the detection registered", Effect.map(repo.readFailureDetections(10, 0), (ds) =>
        ds.find((d) => d.key.port === active.port && d.analysis === "DeadCoMaster")))
      expect(detection.isActionable).toBe(true)
      expect((yield* repo.readRecoveries(10, 0)).length).toBe(0)
      const received = yield* Effect.promise(() =>
        Promise.all([passive, replica].map(async (r) => seqOf(String((await r.slaveStatus())?.["Gtid_IO_Pos"] ?? ""))))
      )
      const reply = (yield* recoveryHandlers.recover({ host: active.host, port: active.port }).pipe(Effect.provide(ctx))) as {
        readonly body: { readonly Code: string; readonly Details: { readonly Port: number } }
      }
      const healedAt = Date.now()
      expect(reply.body.Code).toBe("OK")
      expect(reply.body.Details.Port).toBe(passive.port)
      const [recovery] = yield* repo.readRecoveries(10, 0)
      const steps = yield* repo.readRecoverySteps(recovery!.uid)
      console.log(steps.map((s) => s.message.slice(0, 220)).join("\n"))
      expect(recovery).toMatchObject({ isSuccessful: true, recoveryType: "CoMasterRecovery", analysis: "DeadCoMaster" })
      expect(recovery!.successorKey?.port).toBe(passive.port)
      // The other co-master is the writable master and replicates from nobody; the replica follows it.
      expect(yield* Effect.promise(() => scalar(passive, "SELECT @@read_only"))).toBe("0")
      expect(yield* Effect.promise(() => passive.slaveStatus())).toBeUndefined()
      const s = yield* Effect.promise(() => replica.slaveStatus())
      expect(Number(s?.["Master_Port"])).toBe(passive.port)
      // Nothing either received is lost; new writes reach the replica.
      expect(seqOf(yield* Effect.promise(() => scalar(passive, "SELECT @@gtid_slave_pos")))).toBeGreaterThanOrEqual(Math.max(...received))
      yield* Effect.promise(() => passive.query("INSERT INTO app.t (v) VALUES (2)", [], { user: "admin" }))
      yield* Effect.promise(() => replica.waitForReplication(10_000))
      yield* Effect.promise(() => topo.syncReplicas({ from: passive, to: [replica] }))
      const rows = [yield* written(passive), yield* written(replica)]
      expect(rows[0]).toBe(rows[1])
      // Asynchronous replication: what the dead co-master acknowledged but never shipped is gone; what either
      // survivor received is on both.
      expect(rows[0]).toBeGreaterThanOrEqual(Math.max(...received) - base)
      expect(rows[0]).toBeLessThanOrEqual(writer.committed() + 1)
      expect(Number(yield* Effect.promise(() => scalar(replica, "SELECT COUNT(*) FROM app.t WHERE v = 2")))).toBe(1)
      // The dead co-master is downtimed as lost-in-recovery (orchestrator's RecoverDeadCoMaster).
      const downtimes = yield* repo.readActiveDowntimes(Date.now())
      expect(downtimes.some((d) => d.key.port === active.port && d.reason === "lost-in-recovery")).toBe(true)
      console.log(
        `co-master recovery: detected after ${detectedAt - killedAt} ms, recovered through the route ${healedAt - detectedAt} ms later; ` +
          `received ${received.join("/")}, writer committed ${writer.committed()}, rows ${rows.join("/")}`
      )
    }), 90_000)

  it.scopedLive("the passive co-master dies: the loop recovers on its own, the active one stops replicating from it, writes go on", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const [active, passive, replica] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance]
      yield* Effect.promise(() => setupSchema(topo))
      const c = config(topo, { RecoverMasterClusterFilters: ["*"] })
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(active.key))
      yield* waitFor("both co-masters probed as co-masters", Snapshot.readWithConfig(c).pipe(
        Effect.map((s) => [active, passive].every((i) => s.instances.get(Key.format(key(i.key)))?.isCoMaster === true) && s.instances.size === 3 ? true : undefined),
        Effect.provide(ctx)
      ))
      const writer = yield* Effect.promise(() => startWriter(active, topo.credentials))
      yield* Effect.sleep("300 millis")
      yield* Effect.promise(() => passive.kill9())
      const killedAt = Date.now()
      const recovery = yield* waitFor("an automated co-master recovery", Effect.map(repo.readRecoveries(10, 0), (rs) => rs.find((r) => r.endRecovery !== null)), 45_000)
      console.log(`loop: kill -9 of the passive co-master → recovery resolved in ${Date.now() - killedAt} ms`)
      console.log((yield* repo.readRecoverySteps(recovery.uid)).map((x) => x.message.slice(0, 220)).join("\n"))
      expect(recovery).toMatchObject({ isSuccessful: true, recoveryType: "CoMasterRecovery", analysis: "DeadCoMaster" })
      expect(recovery.key.port).toBe(passive.port)
      // orchestrator: a writable other co-master must be the one promoted — here the active one, which never stopped.
      expect(recovery.successorKey?.port).toBe(active.port)
      expect(yield* Effect.promise(() => active.slaveStatus())).toBeUndefined()
      expect(yield* Effect.promise(() => scalar(active, "SELECT @@read_only"))).toBe("0")
      const during = writer.committed()
      yield* Effect.sleep("300 millis")
      expect(writer.committed()).toBeGreaterThan(during)
      yield* Effect.promise(() => writer.stop())
      yield* Effect.promise(() => topo.syncReplicas({ from: active, to: [replica] }))
      expect(yield* written(replica)).toBe(yield* written(active))
    }), 90_000)
})
