/**
 * Dead-master recovery on real MariaDB GTID topologies (master + 3 replicas, a writer committing
 * continuously): kill -9 the master, let analysis (colleague's `analyze`) see DeadMaster, run the recovery.
 * Checked: a replica is promoted and writable, the others replicate from it, nothing any replica received is
 * missing on the new master, the recovery and its steps are in the backend. Times are printed, never asserted.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { resumePoint } from "../../core/recovery/Executor.js"
import { recoverDeadMaster } from "../../core/recovery/Recover.js"
import { Shape, startTopology, type Topology } from "../harness/Topology.js"
import { analysisOf, build, config, key, scalar, seqOf, setupSchema, startWriter, waitFor } from "./support.js"

const topology = Effect.acquireRelease(
  Effect.promise(() => startTopology({ shape: Shape.masterWithReplicas(3) })),
  (t) => Effect.promise(() => t.stop())
)

const slaveHost = async (t: Topology, port: number) => {
  const s = await t.instance(port).slaveStatus()
  return s === undefined ? "none" : `${String(s["Master_Host"])}:${String(s["Master_Port"])} io=${String(s["Slave_IO_Running"])} sql=${String(s["Slave_SQL_Running"])}`
}

type Ctx = Effect.Effect.Success<ReturnType<typeof build>>["ctx"]

/** What each replica received from the master (its IO position): none of it may be lost. */
const receivedBy = (t: Topology) =>
  Effect.promise(() => Promise.all(t.replicas.map(async (r) => seqOf(String((await r.slaveStatus())?.["Gtid_IO_Pos"] ?? "")))))

const deadMasterOf = (c: Parameters<typeof analysisOf>[0], t: Topology, ctx: Ctx) =>
  waitFor("DeadMaster", analysisOf(c, t.master.key, ["DeadMaster", "DeadMasterAndSomeReplicas"]).pipe(Effect.provide(ctx)))

const recover = (analysis: Effect.Effect.Success<ReturnType<typeof deadMasterOf>>, ctx: Ctx) =>
  recoverDeadMaster(analysis, { requested: null, runHooks: true, command: "", detectionId: 0 }).pipe(Effect.provide(ctx))

/** Discovers `topo` under these config overrides, kills -9 its master and runs the dead-master recovery. */
const killAndRecover = (topo: Topology, overrides: Parameters<typeof config>[1]) =>
  Effect.gen(function*() {
    const c = config(topo, overrides)
    const { ctx, discovery, repo } = yield* build(c)
    yield* discovery.discover(key(topo.master.key))
    yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
    yield* Effect.promise(() => topo.master.kill9())
    const outcome = yield* recover(yield* deadMasterOf(c, topo, ctx), ctx)
    if (outcome._tag !== "Done") return yield* Effect.dieMessage(`the recovery did not run to its end: ${outcome._tag}`)
    return outcome.result
  })

describe("DeadMaster recovery on MariaDB GTID", () => {
  it.scopedLive("kill -9 the master under writes, with one replica lagging: promoted, repointed, nothing lost", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      yield* Effect.promise(() => setupSchema(topo))
      const c = config(topo)
      const { ctx, discovery, repo } = yield* build(c)
      yield* discovery.discover(key(topo.master.key))
      yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
      // The writer's transactions are the master's GTIDs after this one (nothing else writes meanwhile).
      const base = seqOf(yield* Effect.promise(() => scalar(topo.master, "SELECT @@gtid_binlog_pos")))
      const writer = yield* Effect.promise(() => startWriter(topo.master, topo.credentials))
      yield* Effect.sleep("300 millis")
      // A lagging replica: its IO thread stopped a while before the failure.
      const lagging = topo.replicas[2]!
      yield* Effect.promise(() => lagging.query("STOP SLAVE IO_THREAD"))
      yield* Effect.sleep("500 millis")
      yield* Effect.promise(() => topo.master.kill9())
      const killedAt = Date.now()
      yield* Effect.promise(() => writer.stop())
      const analysis = yield* deadMasterOf(c, topo, ctx)
      const detectedAt = Date.now()
      const received = yield* receivedBy(topo)
      const outcome = yield* recover(analysis, ctx)
      const healedAt = Date.now()
      expect(outcome._tag).toBe("Done")
      if (outcome._tag !== "Done") return
      const steps = yield* repo.readRecoverySteps(outcome.uid)
      console.log(steps.map((s) => s.message.slice(0, 200)).join("\n"))
      // Only the best-effort read_only on the dead master may fail.
      expect(outcome.result.errors.filter((e) => !e.startsWith(topo.master.key))).toEqual([])
      expect(outcome.result.successful).toBe(true)
      const successor = outcome.result.successor!
      expect(successor).not.toBeNull()
      const newMaster = topo.instance(successor.port)
      expect(yield* Effect.promise(() => scalar(newMaster, "SELECT @@read_only"))).toBe("0")
      expect(yield* Effect.promise(() => newMaster.slaveStatus())).toBeUndefined()
      // Every other replica replicates from the new master.
      for (const r of topo.replicas.filter((x) => x.port !== successor.port)) {
        const s = yield* Effect.promise(() => r.slaveStatus())
        expect(Number(s?.["Master_Port"])).toBe(successor.port)
      }
      // Writes on the new master reach everyone; no received transaction is missing.
      yield* Effect.promise(() => newMaster.query("INSERT INTO app.t (v) VALUES (2)", [], { user: "admin" }))
      yield* Effect.promise(() => topo.syncReplicas({ from: newMaster, to: topo.replicas.filter((x) => x.port !== successor.port) }))
      const newSlavePos = seqOf(yield* Effect.promise(() => scalar(newMaster, "SELECT @@gtid_slave_pos")))
      expect(newSlavePos).toBeGreaterThanOrEqual(Math.max(...received))
      // Replication is asynchronous: a commit the master acknowledged just before kill -9 may never have been
      // shipped, and no failover can save it. What any replica received must be everywhere.
      const shipped = Math.max(...received) - base
      const counts = yield* Effect.promise(() => Promise.all(topo.replicas.map((r) => scalar(r, "SELECT COUNT(*) FROM app.t WHERE v = 1"))))
      expect(new Set(counts).size).toBe(1)
      expect(Number(counts[0])).toBeGreaterThanOrEqual(shipped)
      // No row appears that the writer did not send (at most the one statement in flight was not acknowledged).
      expect(Number(counts[0])).toBeLessThanOrEqual(writer.committed() + 1)
      // Recorded in the backend.
      const recovery = yield* repo.readRecoveryByUid(outcome.uid)
      expect(recovery?.isSuccessful).toBe(true)
      expect(recovery?.successorKey?.port).toBe(successor.port)
      expect(steps.some((s) => s.message.startsWith("plan (from step 1)"))).toBe(true)
      // The audit describes a complete plan (nothing left to resume).
      const point = resumePoint(steps.map((s) => s.message))
      expect(point?.from).toBe(point?.plan.steps.length)
      console.log(
        `recovery: detected after ${detectedAt - killedAt} ms, healed ${healedAt - detectedAt} ms later; ` +
          `writer committed ${writer.committed()} (${Math.max(0, writer.committed() - shipped)} acknowledged but never shipped), received per replica ${received.join("/")}, new master ${successor.port} at ${newSlavePos}; ` +
          `replicas: ${(yield* Effect.promise(() => Promise.all(topo.replicas.map((r) => slaveHost(topo, r.port))))).join(" | ")}`
      )
    }), 120_000)

  it.scopedLive("a hung master (SIGSTOP) under writes: DeadMaster once its replicas time out, then promoted, nothing lost", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      yield* Effect.promise(() => setupSchema(topo))
      // InstancePollSeconds at orchestrator's default: the master is still probed every MasterPollMillis (1 s).
      const c = config(topo, { InstancePollSeconds: 5 })
      const { ctx, discovery, repo } = yield* build(c)
      yield* discovery.discover(key(topo.master.key))
      yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
      const writer = yield* Effect.promise(() => startWriter(topo.master, topo.credentials))
      yield* Effect.sleep("500 millis")
      yield* Effect.promise(() => topo.master.sigstop())
      const stoppedAt = Date.now()
      yield* Effect.addFinalizer(() => Effect.promise(() => topo.master.sigcont().catch(() => undefined)))
      yield* Effect.promise(() => writer.stop())
      const analysis = yield* deadMasterOf(c, topo, ctx)
      const detectedAt = Date.now()
      const received = yield* receivedBy(topo)
      const outcome = yield* recover(analysis, ctx)
      expect(outcome._tag).toBe("Done")
      if (outcome._tag !== "Done") return
      expect(outcome.result.successful).toBe(true)
      const successor = outcome.result.successor!
      const newMaster = topo.instance(successor.port)
      expect(yield* Effect.promise(() => scalar(newMaster, "SELECT @@read_only"))).toBe("0")
      for (const r of topo.replicas.filter((x) => x.port !== successor.port)) {
        expect(Number((yield* Effect.promise(() => r.slaveStatus()))?.["Master_Port"])).toBe(successor.port)
      }
      expect(seqOf(yield* Effect.promise(() => scalar(newMaster, "SELECT @@gtid_slave_pos")))).toBeGreaterThanOrEqual(Math.max(...received))
      console.log(`hung master: DeadMaster ${detectedAt - stoppedAt} ms after SIGSTOP, recovered ${Date.now() - detectedAt} ms later`)
    }), 120_000)

  it.scopedLive("the master dies while sending a large transaction: the replicas holding part of it are drained, not lost", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      yield* Effect.promise(() => setupSchema(topo))
      const admin = { user: "admin" } as const
      yield* Effect.promise(() => topo.master.query("CREATE TABLE app.big (id INT PRIMARY KEY, pad CHAR(200))", [], admin))
      yield* Effect.promise(() => topo.syncReplicas())
      const c = config(topo)
      const { ctx, discovery, repo } = yield* build(c)
      yield* discovery.discover(key(topo.master.key))
      yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
      // One transaction of ~80 MB of row events; kill -9 the master while a replica is still receiving it, so its
      // relay log ends inside the transaction: exec can never reach read there.
      const big = topo.master.query("INSERT INTO app.big SELECT seq, REPEAT('x', 200) FROM app.seq_1_to_400000", [], admin)
        .catch(() => undefined) // its connection dies with the master
      const watched = topo.replicas[0]!
      const cutAt = yield* Effect.promise(async () => {
        const deadline = Date.now() + 60_000
        while (Date.now() < deadline) {
          const s = await watched.slaveStatus("socket")
          const read = Number(s?.["Read_Master_Log_Pos"])
          const exec = Number(s?.["Exec_Master_Log_Pos"])
          if (read > exec + 1_000_000) {
            await topo.master.kill9()
            return { read, exec }
          }
          await new Promise((r) => setTimeout(r, 5))
        }
        return undefined
      })
      yield* Effect.promise(() => big)
      console.log(`large transaction: master killed with ${watched.key} at read ${cutAt?.read}, exec ${cutAt?.exec}`)
      expect(cutAt).toBeDefined()
      const outcome = yield* recover(yield* deadMasterOf(c, topo, ctx), ctx)
      expect(outcome._tag).toBe("Done")
      if (outcome._tag !== "Done") return
      // Only the best-effort read_only on the dead master may fail; no replica is lost to a drain that never ends.
      expect(outcome.result.errors.filter((e) => !e.startsWith(topo.master.key))).toEqual([])
      expect(outcome.result.successful).toBe(true)
      expect(outcome.result.lost).toEqual([])
      // The partial transaction was rolled back, not half-applied.
      const successor = topo.instance(outcome.result.successor!.port)
      expect(yield* Effect.promise(() => scalar(successor, "SELECT COUNT(*) FROM app.big"))).toBe("0")
    }), 120_000)

  it.scopedLive("FailMasterPromotionOnLagMinutes with a ReplicationLagQuery over it: the recovery fails, nothing is promoted", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      // A stand-in for a pt-heartbeat read: every server answers 15 minutes.
      const result = yield* killAndRecover(topo, { ReplicationLagQuery: "SELECT 900", FailMasterPromotionOnLagMinutes: 15 })
      expect(result.successful).toBe(false)
      expect(result.errors.join("; ")).toMatch(/failed promotion: FailMasterPromotionOnLagMinutes is 15 and the candidate 127\.0\.0\.1:\d+ lags 900 s/)
      for (const r of topo.replicas) expect(yield* Effect.promise(() => scalar(r, "SELECT @@read_only"))).toBe("1")
    }), 120_000)

  it.scopedLive("MasterFailoverDetachReplicaMasterHost without MySQL promotion: the promoted replica's master host is detached", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const result = yield* killAndRecover(topo, { ApplyMySQLPromotionAfterMasterFailover: false, MasterFailoverDetachReplicaMasterHost: true })
      expect(result.successful).toBe(true)
      const successor = result.successor!
      const status = yield* Effect.promise(() => topo.instance(successor.port).slaveStatus())
      expect(status?.["Master_Host"]).toBe("//127.0.0.1")
      for (const r of topo.replicas.filter((x) => x.port !== successor.port)) {
        expect(Number((yield* Effect.promise(() => r.slaveStatus()))?.["Master_Port"])).toBe(successor.port)
      }
    }), 120_000)

  it.scopedLive("a failing PreFailover hook aborts: nothing is changed on the replicas", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-hooks-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const c = config(topo, {
        PreFailoverProcesses: [`echo "pre {failureType} {failedPort}" >> ${dir}/log; exit 3`],
        PostUnsuccessfulFailoverProcesses: [`echo "unsuccessful $ORC_FAILURE_TYPE $ORC_FAILED_PORT" >> ${dir}/log`]
      })
      const { ctx, discovery, repo } = yield* build(c)
      yield* discovery.discover(key(topo.master.key))
      yield* waitFor("all 4 instances discovered", Effect.map(repo.readInstances, (r) => (r.length === 4 ? true : undefined)))
      yield* Effect.promise(() => topo.master.kill9())
      const analysis = yield* waitFor("DeadMaster", analysisOf(c, topo.master.key, ["DeadMaster"]).pipe(Effect.provide(ctx)))
      const outcome = yield* recoverDeadMaster(analysis, { requested: null, runHooks: true, command: "", detectionId: 0 }).pipe(Effect.provide(ctx))
      expect(outcome._tag).toBe("Done")
      if (outcome._tag !== "Done") return
      expect(outcome.result.successful).toBe(false)
      const log = fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n")
      expect(log).toEqual([`pre DeadMaster ${topo.master.port}`, `unsuccessful DeadMaster ${topo.master.port}`])
      for (const r of topo.replicas) {
        const s = yield* Effect.promise(() => r.slaveStatus())
        expect(Number(s?.["Master_Port"])).toBe(topo.master.port)
        expect(yield* Effect.promise(() => scalar(r, "SELECT @@read_only"))).toBe("1")
      }
      const recovery = yield* repo.readRecoveryByUid(outcome.uid)
      expect(recovery?.isSuccessful).toBe(false)
      expect(recovery?.allErrors).toContain("exit code 3")
      void Either
    }), 120_000)
})
