/**
 * The polling hot path stores instances with `storedRecord` (JSON.stringify) instead of the Schema encoding of
 * `toRecord`: both must give the same row, decoded to the same Instance, for every flavour the prober reads
 * (FAKE MySQL 8.0 / 8.4 and MariaDB 10.11 servers, masters and replicas, cold and warm probes), and the
 * warm probe of a healthy server stays at one round trip.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as MysqlProber from "../../adapters/mysql/MysqlProber.js"
import { storedRecord } from "../../core/discovery/StoredInstance.js"
import type { Instance } from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fromRecord, toRecord } from "../../core/topology/InstanceRecord.js"
import { type FakeFlavor, linkReplica, startFleet, withFreshPorts } from "../fakes/FakeMysqlServer.js"
import { config, key, server } from "./fixtures.js"

const flavors: ReadonlyArray<FakeFlavor> = ["mysql-8.0", "mysql-8.0", "mysql-8.4", "mysql-8.4", "mariadb-10.11", "mariadb-10.11"]

const expectSameRow = (i: Instance) => {
  const fast = storedRecord(i)
  const schema = toRecord(i)
  expect({ ...fast, data: JSON.parse(fast.data) }).toEqual({ ...schema, data: JSON.parse(schema.data) })
  expect(Either.getOrThrow(fromRecord(fast))).toEqual(Either.getOrThrow(fromRecord(schema)))
}

describe("storedRecord", () => {
  it("equals the Schema-encoded row for scripted instances", () => {
    expectSameRow(server(key(3306), { replicas: [key(3307), key(3308)], alias: "main" }))
    expectSameRow({ ...server(key(3307), { master: key(3306) }), lastCheckedAt: 5, lastSeenAt: 4, lastAttemptedCheckAt: 5 })
  })

  it.scopedLive("equals the Schema-encoded row for every flavour probed over mysql2; warm probes take 1 round trip", () =>
    Effect.gen(function*() {
      const fleet = yield* Effect.acquireRelease(
        Effect.promise(() =>
          withFreshPorts(flavors.length, (basePort) => startFleet({ count: flavors.length, basePort, flavor: (i) => flavors[i]! }))
        ),
        (f) => Effect.promise(() => f.close())
      )
      for (let i = 0; i < flavors.length; i += 2) linkReplica(fleet.servers[i]!, fleet.servers[i + 1]!)
      const c = config({ MySQLTopologyUser: "orc", MySQLTopologyPassword: "secret" })
      const prober = yield* MysqlProber.make(MysqlProber.optionsFromConfig(c))
      for (const s of fleet.servers) {
        const k = Key.unsafeMake("127.0.0.1", s.port)
        const cold = yield* prober.probe({ key: k })
        expectSameRow(cold)
        // Warm (twice: the first warm probe learns which optional statements answer).
        const warm1 = yield* prober.probe({ key: k, previous: cold })
        const before = yield* prober.roundTrips
        const warm2 = yield* prober.probe({ key: k, previous: warm1 })
        expect((yield* prober.roundTrips) - before).toBe(1)
        expectSameRow(warm2)
        expect({ ...warm2, lastCheckedAt: 0, lastSeenAt: 0, lastAttemptedCheckAt: 0, lastDiscoveryLatencyMs: 0 })
          .toEqual({ ...cold, lastCheckedAt: 0, lastSeenAt: 0, lastAttemptedCheckAt: 0, lastDiscoveryLatencyMs: 0 })
      }
    }), 60_000)
})
