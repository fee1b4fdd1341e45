/**
 * The bulk refactorings on a real MariaDB GTID topology (single node: always leader), through the HTTP handlers:
 * relocate-replicas with `?pattern=` moves only the matching replicas; move-up-replicas, move-replicas-gtid and
 * repoint-replicas; a bad pattern is refused with 400 and changes nothing. Details are orchestrator's: the moved
 * instances, probed again after the move (MasterKey = the new master), or the one instance for a single move.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Repository } from "../../core/backend/Repository.js"
import { layerSingleNode } from "../../core/node/Leadership.js"
import type { RequestContext } from "../../service/http/Api.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"
import * as RecoveryService from "../../service/Recovery.js"
import { type MariaDbInstance, Shape, startTopology } from "../harness/Topology.js"
import { config, key, recoveryLayer, scalar, setupSchema, waitFor } from "./support.js"

const ctxOf = (query: string): RequestContext => ({
  method: "GET",
  url: new URL(`http://localhost/api/relocate-replicas${query}`),
  headers: {},
  remoteAddress: undefined,
  auth: { user: "", canWrite: true }
})

const topology = Effect.acquireRelease(
  Effect.promise(() => startTopology({ shape: Shape.masterWithReplicas(3) })),
  (t) => Effect.promise(() => t.stop())
)

type KeyJson = { readonly Hostname: string; readonly Port: number }
type InstanceJson = { readonly Key: KeyJson; readonly MasterKey: KeyJson }
type Reply = { readonly body: { readonly Code: string; readonly Message: string; readonly Details: unknown } }
const body = (r: unknown) => (r as Reply).body
const movedTo = (details: unknown) =>
  (details as ReadonlyArray<InstanceJson>).map((i) => [i.Key.Port, i.MasterKey.Port]).sort((a, b) => a[0]! - b[0]!)

const masterPort = (i: MariaDbInstance) => Effect.promise(async () => Number((await i.slaveStatus())?.["Master_Port"]))

describe("bulk refactorings on MariaDB GTID", () => {
  it.scopedLive("?pattern= picks the replicas; move-up/move/repoint-replicas; Details are the moved instances", () =>
    Effect.gen(function*() {
      const topo = yield* topology
      const [m, r1, r2, r3] = topo.instances as [MariaDbInstance, MariaDbInstance, MariaDbInstance, MariaDbInstance]
      yield* Effect.promise(() => setupSchema(topo))
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(config(topo, { RecoverMasterClusterFilters: [] })))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(m.key))
      yield* waitFor("4 instances", Effect.map(repo.readInstances, (rs) => (rs.length === 4 ? true : undefined)))
      const at = (i: MariaDbInstance) => ({ host: "127.0.0.1", port: i.port })
      const below = (i: MariaDbInstance) => ({ belowHost: "127.0.0.1", belowPort: i.port })

      // 1. Only r2 matches the pattern (Go's regexp syntax, as orchestrator: `(?i)` is a flag group): it alone
      // moves below r1.
      const one = body(yield* recoveryHandlers.relocateReplicas({ ...at(m), ...below(r1) }, ctxOf(`?pattern=${encodeURIComponent(`(?i):${r2.port}$`)}`)).pipe(Effect.provide(ctx)))
      console.log(`relocate-replicas ?pattern: ${one.Message}`)
      expect(one.Code).toBe("OK")
      expect(one.Message).toBe(`relocate-replicas: relocated 1 replicas of 127.0.0.1:${m.port} below 127.0.0.1:${r1.port}`)
      expect(movedTo(one.Details)).toEqual([[r2.port, r1.port]])
      expect(yield* masterPort(r2)).toBe(r1.port)
      expect(yield* masterPort(r3)).toBe(m.port)

      // 2. A bad pattern is refused, naming it; a pattern matching nobody moves nobody.
      const bad = yield* Effect.either(recoveryHandlers.relocateReplicas({ ...at(m), ...below(r1) }, ctxOf("?pattern=(")).pipe(Effect.provide(ctx)))
      expect(bad._tag).toBe("Left")
      if (bad._tag === "Left") {
        expect(bad.left.status).toBe(400)
        expect(bad.left.message).toMatch(/^bad pattern "\(": /)
      }
      const none = body(yield* recoveryHandlers.relocateReplicas({ ...at(m), ...below(r1) }, ctxOf("?pattern=nomatch")).pipe(Effect.provide(ctx)))
      expect(none.Code).toBe("OK")
      expect(none.Details).toEqual([])
      expect(yield* masterPort(r3)).toBe(m.port)

      // 3. move-up-replicas of r1: r2 goes back below the master.
      const up = body(yield* recoveryHandlers.moveUpReplicas(at(r1), ctxOf("")).pipe(Effect.provide(ctx)))
      expect(up.Message).toBe(`move-up-replicas: moved up 1 replicas of 127.0.0.1:${r1.port} below 127.0.0.1:${m.port}`)
      expect(movedTo(up.Details)).toEqual([[r2.port, m.port]])
      expect(yield* masterPort(r2)).toBe(m.port)

      // 4. move-replicas-gtid without a pattern: every replica of the master but the target itself.
      const all = body(yield* recoveryHandlers.moveReplicasGtid({ ...at(m), ...below(r1) }, ctxOf("")).pipe(Effect.provide(ctx)))
      expect(movedTo(all.Details)).toEqual([[r2.port, r1.port], [r3.port, r1.port]].sort((a, b) => a[0]! - b[0]!))
      for (const r of [r2, r3]) expect(yield* masterPort(r)).toBe(r1.port)

      // 5. repoint-replicas of r1: they already replicate from it and are pointed at it again (CHANGE MASTER, so
      // their relay logs start afresh: what operators use it for), still replicating.
      const changeMasters = (i: MariaDbInstance) =>
        Effect.promise(async () => Number((await i.query("SHOW GLOBAL STATUS LIKE 'Com_change_master'", [], { user: "admin" }))[0]?.["Value"]))
      const before = [yield* changeMasters(r2), yield* changeMasters(r3)]
      const repoint = body(yield* recoveryHandlers.repointReplicas(at(r1), ctxOf("")).pipe(Effect.provide(ctx)))
      expect(repoint.Code).toBe("OK")
      expect(movedTo(repoint.Details)).toEqual([[r2.port, r1.port], [r3.port, r1.port]].sort((a, b) => a[0]! - b[0]!))
      expect([yield* changeMasters(r2), yield* changeMasters(r3)]).toEqual(before.map((n) => n + 1))
      for (const r of [r2, r3]) expect(yield* masterPort(r)).toBe(r1.port)

      // 6. A single move answers the instance itself.
      const single = body(yield* recoveryHandlers.relocate({ ...at(r3), ...below(m) }).pipe(Effect.provide(ctx)))
      expect((single.Details as InstanceJson).Key.Port).toBe(r3.port)
      expect((single.Details as InstanceJson).MasterKey.Port).toBe(m.port)

      // Nothing lost on the way: the master's writes reach every replica.
      yield* Effect.promise(() => topo.master.query("INSERT INTO app.t (v) VALUES (1)", [], { user: "admin" }))
      yield* Effect.promise(() => topo.syncReplicas({ from: m, to: [r1, r3] }))
      yield* Effect.promise(() => topo.syncReplicas({ from: r1, to: [r2] }))
      const rows = yield* Effect.promise(() => scalar(m, "SELECT COUNT(*) FROM app.t"))
      for (const r of [r1, r2, r3]) expect(yield* Effect.promise(() => scalar(r, "SELECT COUNT(*) FROM app.t"))).toBe(rows)
    }), 180_000)
})
