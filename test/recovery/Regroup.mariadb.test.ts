/**
 * regroup-replicas on a real MariaDB GTID topology (single node: always leader), through the HTTP handler.
 *
 * 1. master → 3 replicas, two of them stopped while the master takes writes, so the third is the most advanced:
 *    regroup-replicas promotes it (Details = its key), the other two replicate from it, and writes on the master reach all.
 * 2. Below that replica (now an intermediate master), the most advanced of its two replicas is must_not: the other
 *    one is chosen, and the must_not one (ahead of it) moves below it without losing anything.
 * 3. A regroup with no eligible candidate is refused and changes nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Repository } from "../../core/backend/Repository.js"
import { layerSingleNode } from "../../core/node/Leadership.js"
import { CommandLog } from "../../core/ops/CommandLog.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"
import * as RecoveryService from "../../service/Recovery.js"
import { type MariaDbInstance, Shape, startTopology, type Topology } from "../harness/Topology.js"
import { config, key, recoveryLayer, scalar, setupSchema, waitFor } from "./support.js"

const topology = Effect.acquireRelease(
  Effect.promise(() => startTopology({ shape: Shape.masterWithReplicas(3) })),
  (t) => Effect.promise(() => t.stop())
)

type Reply = { readonly body: { readonly Code: string; readonly Message: string; readonly Details: { readonly Hostname: string; readonly Port: number } } }
const reply = (r: unknown) => (r as Reply).body

const count = (i: MariaDbInstance) => Effect.promise(async () => Number(await scalar(i, "SELECT COUNT(*) FROM app.t")))
const insert = (topo: Topology, rows: number) =>
  Effect.promise(async () => {
    for (let n = 0; n < rows; n++) await topo.master.query("INSERT INTO app.t (v) VALUES (1)", [], { user: "admin" })
  })
const masterPort = (i: MariaDbInstance) => Effect.promise(async () => Number((await i.slaveStatus())?.["Master_Port"]))

describe("regroup-replicas on MariaDB GTID", () => {
  it.scopedLive("the most advanced replica takes its siblings; must_not is never chosen; a refusal changes nothing", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const [m, r1, r2, r3] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance, MariaDbInstance]
      yield* Effect.promise(() => setupSchema(topo))
      const c = config(topo, { RecoverMasterClusterFilters: [] })
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(m.key))
      yield* waitFor("4 instances", Effect.map(repo.readInstances, (rs) => (rs.length === 4 ? true : undefined)))
      const below = (replicas: ReadonlyArray<MariaDbInstance>, of: MariaDbInstance) =>
        waitFor(
          "the backend to see the new topology",
          Effect.map(repo.readInstances, (rs) =>
            replicas.every((x) => rs.some((i) => i.key.port === x.port && i.masterKey?.port === of.port)) ? true : undefined)
        )

      // 1. r1 and r2 stop; the master's writes reach r3 only: r3 is the most advanced.
      for (const r of [r1, r2]) yield* Effect.promise(() => r.query("STOP SLAVE", [], { user: "admin" }))
      yield* insert(topo, 5)
      yield* Effect.promise(() => topo.syncReplicas({ to: [r3] }))
      const first = reply(yield* recoveryHandlers.regroupReplicas({ host: "127.0.0.1", port: m.port }).pipe(Effect.provide(ctx)))
      console.log(`regroup 1: ${first.Message}`)
      expect(first.Code).toBe("OK")
      expect(first.Details).toEqual({ Hostname: "127.0.0.1", Port: r3.port })
      expect(first.Message).toBe(`regroup-replicas (gtid): promoted replica: 127.0.0.1:${r3.port}, lost: 0, moved: 2`)
      expect(yield* masterPort(r3)).toBe(m.port)
      for (const r of [r1, r2]) expect(yield* masterPort(r)).toBe(r3.port)
      yield* insert(topo, 3)
      yield* Effect.promise(() => topo.syncReplicas({ from: m, to: [r3] }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r3, to: [r1, r2] }))
      const rows = yield* count(m)
      for (const r of [r1, r2, r3]) expect(yield* count(r)).toBe(rows)

      // 2. Below r3: r1 is ahead of r2 but must_not, so r2 is chosen and r1 (ahead) moves below it.
      yield* below([r1, r2], r3)
      yield* Effect.flatMap(CommandLog, (log) =>
        log.propose({ _tag: "register-candidate", key: { hostname: "127.0.0.1", port: r1.port }, promotionRule: "must_not", lastSuggested: Date.now(), priority: 0 })
      ).pipe(Effect.provide(ctx))
      yield* Effect.promise(() => r2.query("STOP SLAVE", [], { user: "admin" }))
      yield* insert(topo, 4)
      yield* Effect.promise(() => topo.syncReplicas({ from: m, to: [r3] }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r3, to: [r1] }))
      const second = reply(yield* recoveryHandlers.regroupSlavesGtid({ host: "127.0.0.1", port: r3.port }).pipe(Effect.provide(ctx)))
      console.log(`regroup 2: ${second.Message}`)
      expect(second.Details).toEqual({ Hostname: "127.0.0.1", Port: r2.port })
      expect(yield* masterPort(r2)).toBe(r3.port)
      expect(yield* masterPort(r1)).toBe(r2.port)
      yield* insert(topo, 2)
      yield* Effect.promise(() => topo.syncReplicas({ from: m, to: [r3] }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r3, to: [r2] }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r2, to: [r1] }))
      const rows2 = yield* count(m)
      for (const r of [r1, r2, r3]) expect(yield* count(r)).toBe(rows2)

      // 3. r2's only replica is must_not: nobody can take its siblings; refused, r1 still replicates from r2.
      yield* below([r1], r2)
      const refused = yield* Effect.either(recoveryHandlers.regroupReplicas({ host: "127.0.0.1", port: r2.port }).pipe(Effect.provide(ctx)))
      expect(refused._tag).toBe("Left")
      if (refused._tag === "Left") {
        console.log(`regroup 3 refused: ${refused.left.message}`)
        expect(refused.left.message).toMatch(/^regroup-replicas \(gtid\): no replica of 127\.0\.0\.1:\d+ can take its siblings: .*must_not/)
      }
      yield* Effect.promise(() => r1.waitForReplication(10_000))
      expect(yield* masterPort(r1)).toBe(r2.port)
    }), 180_000)
})
