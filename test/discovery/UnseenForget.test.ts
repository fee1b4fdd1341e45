/**
 * UnseenInstanceForgetHours (orchestrator's `ForgetLongUnseenInstances`): an instance whose last successful
 * probe is older than that is forgotten — row deleted, polling stopped — while instances seen recently stay.
 * The hour passes between two runs of the service over the same SQLite file (TestClock.setTime with nothing
 * asleep), as when a node restarts after a long outage of one of its servers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, TestClock } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { Repository } from "../../core/backend/Repository.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { makeMemory, Prober } from "../../core/discovery/Prober.js"
import * as CommandLog from "../../core/ops/CommandLog.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as DiscoveryService from "../../service/Discovery.js"
import { addTree, config, settle } from "./fixtures.js"

const advance = (ms: number, step: number) =>
  Effect.gen(function*() {
    for (let t = 0; t < ms; t += step) {
      yield* TestClock.adjust(step)
      yield* settle()
    }
  })

describe("UnseenInstanceForgetHours", () => {
  it.scoped("an instance not seen for that many hours is forgotten; a healthy one stays", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-unseen-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const { fleet, prober } = makeMemory()
      const [m, r] = addTree(fleet, [null, 0])
      const c = config({ UnseenInstanceForgetHours: 1 })
      const run = <A, E>(body: (d: Discovery["Type"], repo: Repository["Type"]) => Effect.Effect<A, E>) =>
        Effect.scoped(Effect.gen(function*() {
          const base = Layer.mergeAll(
            layerSqlite({ filename: path.join(dir, "backend.db") }),
            AppConfig.layer(c),
            Layer.succeed(Prober, prober)
          )
          const ctx = yield* Layer.build(DiscoveryService.layer.pipe(Layer.provideMerge(CommandLog.layerLocal.pipe(Layer.provideMerge(base)))))
          yield* settle()
          return yield* body(Context.get(ctx, Discovery), Context.get(ctx, Repository))
        }))

      // Both seen at t = 0.
      yield* run((discovery) =>
        Effect.gen(function*() {
          yield* discovery.discover(m!)
          yield* advance(200, 50)
        })
      )
      // The replica goes away (and from its master's replica list); the service is back 2 h later.
      fleet.down(r!)
      fleet.update(m!, (i) => ({ ...i, replicas: [] }))
      yield* TestClock.setTime(2 * 3_600_000)
      yield* run((discovery, repo) =>
        Effect.gen(function*() {
          yield* advance(1_000, 50)
          // Probed again at start-up (failed), not forgotten before the minute's check.
          expect(yield* repo.readInstance(r!)).toBeDefined()
          expect((yield* discovery.status).known).toBe(2)
          yield* advance(61_000, 1_000)
          expect(yield* repo.readInstance(r!)).toBeUndefined()
          expect((yield* discovery.status).known).toBe(1)
          const probes = fleet.probes.get(Key.format(r!))
          yield* advance(60_000, 1_000)
          expect(fleet.probes.get(Key.format(r!))).toBe(probes)
          expect(yield* repo.readInstance(m!)).toBeDefined()
        })
      )
    }), 60_000)
})
