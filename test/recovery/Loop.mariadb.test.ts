/**
 * The leader-only loop and the manual operations on a real MariaDB topology (single node: always leader):
 * kill -9 → automated recovery; a second failure in the same cluster is blocked by RecoveryPeriodBlockSeconds
 * (blocked-recoveries); a manual `recover` of a downtimed master still runs; graceful-master-takeover; an
 * unsafe relocate is refused and changes nothing.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { layerSingleNode } from "../../core/node/Leadership.js"
import { CommandLog } from "../../core/ops/CommandLog.js"
import type { RequestContext } from "../../service/http/Api.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"
import * as RecoveryService from "../../service/Recovery.js"
import { Shape, startTopology } from "../harness/Topology.js"
import { analysisOf, config, key, recoveryLayer, scalar, setupSchema, waitFor } from "./support.js"

const ctxOf = (path: string): RequestContext => ({
  method: "GET",
  url: new URL(`http://localhost/api/${path}`),
  headers: {},
  remoteAddress: undefined,
  auth: { user: "", canWrite: true }
})

const topology = (replicas: number) =>
  Effect.acquireRelease(
    Effect.promise(() => startTopology({ shape: Shape.masterWithReplicas(replicas) })),
    (t) => Effect.promise(() => t.stop())
  )

const body = (r: unknown) => (r as { readonly body: unknown }).body

describe("recovery loop and manual operations", () => {
  it.scopedLive("automated recovery, anti-flapping block, manual recover of a downtimed master", () =>
    Effect.gen(function*() {
      const topo = yield* topology(3)
      yield* Effect.promise(() => setupSchema(topo))
      const hookFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "orc-loop-")), "detections")
      const c = config(topo, {
        OnFailureDetectionProcesses: [`echo "{failureType} {failedHost}:{failedPort}" >> ${hookFile}`],
        PreFailoverProcesses: [`echo "pre-failover {failedPort}" >> ${hookFile}`]
      })
      const hookLines = () => (fs.existsSync(hookFile) ? fs.readFileSync(hookFile, "utf8").trim().split("\n") : [])
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const { Discovery } = yield* Effect.promise(() => import("../../core/discovery/Discovery.js"))
      const { Repository } = yield* Effect.promise(() => import("../../core/backend/Repository.js"))
      const discovery = Context.get(ctx, Discovery)
      const repo = Context.get(ctx, Repository)
      const recoveries = Context.get(ctx, RecoveryService.Recoveries)
      yield* discovery.discover(key(topo.master.key))
      yield* waitFor("4 instances", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))

      // 0. A generic code (orchestrator's checkAndRecoverGenericProblem): every replica stops replicating →
      // AllMasterReplicasNotReplicating is registered and its OnFailureDetection hook runs, and nothing is recovered.
      for (const r of topo.replicas) yield* Effect.promise(() => r.query("STOP SLAVE"))
      const generic = yield* waitFor("a generic detection", Effect.map(repo.readFailureDetections(10, 0), (ds) =>
        ds.find((d) => d.key.port === topo.master.port && d.analysis === "AllMasterReplicasNotReplicating")))
      expect(generic.isActionable).toBe(false)
      yield* waitFor("its detection hook", Effect.sync(() => (hookLines().includes(`AllMasterReplicasNotReplicating 127.0.0.1:${topo.master.port}`) ? true : undefined)))
      for (const r of topo.replicas) yield* Effect.promise(() => r.query("START SLAVE"))
      yield* waitFor("replicating again", Effect.map(analysisOf(c, topo.master.key, ["AllMasterReplicasNotReplicating"]), (a) => (a === undefined ? true : undefined)).pipe(Effect.provide(ctx)))
      expect((yield* repo.readRecoveries(10, 0)).length).toBe(0)

      // 1. kill -9: the loop detects and recovers on its own.
      const t0 = Date.now()
      yield* Effect.promise(() => topo.master.kill9())
      const first = yield* waitFor("an automated recovery", Effect.map(repo.readRecoveries(10, 0), (rs) => rs.find((r) => r.endRecovery !== null)))
      console.log(`loop: kill -9 → recovery resolved in ${Date.now() - t0} ms (successful=${first.isSuccessful})`)
      expect(first.isSuccessful).toBe(true)
      const newMaster = topo.instance(first.successorKey!.port)
      expect(yield* Effect.promise(() => scalar(newMaster, "SELECT @@read_only"))).toBe("0")
      const detections = yield* repo.readFailureDetections(10, 0)
      expect(detections.some((d) => d.key.port === topo.master.port && d.analysis.startsWith("DeadMaster"))).toBe(true)
      expect(hookLines().some((l) => l.startsWith("DeadMaster") && l.endsWith(`127.0.0.1:${topo.master.port}`))).toBe(true)
      expect(hookLines()).toContain(`pre-failover ${topo.master.port}`)

      // 2. The new master dies too: the same cluster is in its active period → blocked, not recovered.
      const others = topo.replicas.filter((r) => r.port !== newMaster.port)
      yield* waitFor("replicas probed under the new master", Effect.map(repo.readInstances, (rs) =>
        others.every((o) => rs.some((r) => r.key.port === o.port && r.masterKey?.port === newMaster.port)) ? true : undefined))
      yield* waitFor("the new master probed as a master", Effect.map(repo.readInstances, (rs) =>
        rs.some((r) => r.key.port === newMaster.port && r.masterKey === null) ? true : undefined))
      yield* Effect.promise(() => newMaster.kill9())
      const blocked = yield* waitFor("a blocked recovery", Effect.map(recoveries.blocked, (bs) => bs.find((b) => b.key.port === newMaster.port)))
      expect(blocked.reason).toMatch(/active recovery/)
      const listed = yield* recoveryHandlers.blockedRecoveries().pipe(Effect.provide(ctx))
      expect(JSON.stringify(body(listed))).toContain(String(newMaster.port))
      expect((yield* repo.readRecoveries(10, 0)).length).toBe(1)

      // 3. Manual recover of the (downtimed) dead master runs anyway: manual recoveries skip blocks and downtime.
      // With ?skipProcesses=true it runs no hooks (the automated one above ran PreFailoverProcesses).
      const log = Context.get(ctx, CommandLog)
      yield* log.propose({ _tag: "begin-downtime", key: { hostname: "127.0.0.1", port: newMaster.port }, owner: "test", reason: "maintenance", beginTimestamp: Date.now(), endTimestamp: Date.now() + 3_600_000 })
      const analysis = yield* waitFor("DeadMaster of the new master", analysisOf(c, newMaster.key, ["DeadMaster"]).pipe(Effect.provide(ctx)))
      expect(analysis.isDowntimed).toBe(true)
      const reply = yield* recoveryHandlers.recover(
        { host: "127.0.0.1", port: newMaster.port },
        ctxOf(`recover/127.0.0.1/${newMaster.port}?skipProcesses=true`)
      ).pipe(Effect.provide(ctx))
      expect(hookLines()).not.toContain(`pre-failover ${newMaster.port}`)
      const details = (body(reply) as { readonly Details: { readonly Port: number } }).Details
      expect(others.map((o) => o.port)).toContain(details.Port)
      expect(yield* Effect.promise(() => scalar(topo.instance(details.Port), "SELECT @@read_only"))).toBe("0")
      const audit = yield* recoveryHandlers.auditRecovery({}, ctxOf("audit-recovery")).pipe(Effect.provide(ctx))
      expect((body(audit) as ReadonlyArray<unknown>).length).toBe(2)
    }), 180_000)

  it.scopedLive("graceful-master-takeover-auto, and a refused relocate that changes nothing", () =>
    Effect.gen(function*() {
      const topo = yield* topology(2)
      yield* Effect.promise(() => setupSchema(topo))
      const c = config(topo, { RecoverMasterClusterFilters: [] })
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const { Discovery } = yield* Effect.promise(() => import("../../core/discovery/Discovery.js"))
      const { Repository } = yield* Effect.promise(() => import("../../core/backend/Repository.js"))
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(topo.master.key))
      yield* waitFor("3 instances", Effect.map(repo.readInstances, (r) => (r.length === 3 ? true : undefined)))
      const [r1, r2] = [topo.replicas[0]!, topo.replicas[1]!]

      // Unsafe: the master below its own replica would be a cycle.
      const refused = yield* Effect.either(recoveryHandlers.relocate(
        { host: "127.0.0.1", port: topo.master.port, belowHost: "127.0.0.1", belowPort: r1.port }
      ).pipe(Effect.provide(ctx)))
      expect(refused._tag).toBe("Left")
      if (refused._tag === "Left") console.log(`relocate refused: ${refused.left.message}`)
      expect(yield* Effect.promise(() => topo.master.slaveStatus())).toBeUndefined()

      // A safe move: r2 below r1, then back (move-up).
      yield* recoveryHandlers.moveBelowGtid({ host: "127.0.0.1", port: r2.port, belowHost: "127.0.0.1", belowPort: r1.port }).pipe(Effect.provide(ctx))
      expect(Number((yield* Effect.promise(() => r2.slaveStatus()))?.["Master_Port"])).toBe(r1.port)
      yield* Effect.promise(() => topo.master.query("INSERT INTO app.t (v) VALUES (5)", [], { user: "admin" }))
      yield* Effect.promise(() => topo.syncReplicas({ to: [r1, r2] }))

      // Graceful takeover to r1 (designated); old master replicates from r1 (-auto starts it).
      yield* waitFor("r2 probed below r1", Effect.map(repo.readInstances, (rs) => rs.some((r) => r.key.port === r2.port && r.masterKey?.port === r1.port) ? true : undefined))
      yield* recoveryHandlers.moveUp({ host: "127.0.0.1", port: r2.port }).pipe(Effect.provide(ctx))
      yield* waitFor("r2 probed below the master", Effect.map(repo.readInstances, (rs) => rs.some((r) => r.key.port === r2.port && r.masterKey?.port === topo.master.port) ? true : undefined))
      const reply = yield* recoveryHandlers.gracefulMasterTakeoverAutoDesignated(
        { host: "127.0.0.1", port: topo.master.port, designatedHost: "127.0.0.1", designatedPort: r1.port }
      ).pipe(Effect.provide(ctx))
      expect((body(reply) as { readonly Message: string }).Message).toBe("graceful-master-takeover: successor promoted")
      expect(yield* Effect.promise(() => scalar(r1, "SELECT @@read_only"))).toBe("0")
      expect(yield* Effect.promise(() => scalar(topo.master, "SELECT @@read_only"))).toBe("1")
      yield* Effect.promise(() => topo.master.waitForReplication(10_000))
      for (const i of [topo.master, r2]) expect(Number((yield* Effect.promise(() => i.slaveStatus()))?.["Master_Port"])).toBe(r1.port)
      yield* Effect.promise(() => r1.query("INSERT INTO app.t (v) VALUES (6)", [], { user: "admin" }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r1, to: [topo.master, r2] }))
    }), 180_000)
})
