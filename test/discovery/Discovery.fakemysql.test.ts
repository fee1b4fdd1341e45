/**
 * Discovery with the mysql2 prober against the FAKE MySQL 8.0 / 8.4 servers (test/fakes: Oracle MySQL
 * cannot be installed here), served as orchestrator's Instance JSON.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import * as MysqlProber from "../../adapters/mysql/MysqlProber.js"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { Repository } from "../../core/backend/Repository.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Prober } from "../../core/discovery/Prober.js"
import * as CommandLog from "../../core/ops/CommandLog.js"
import * as Json from "../../core/topology/InstanceJson.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fromRecord } from "../../core/topology/InstanceRecord.js"
import * as DiscoveryService from "../../service/Discovery.js"
import { type FakeFlavor, linkReplica, startFleet, withFreshPorts } from "../fakes/FakeMysqlServer.js"
import { config } from "./fixtures.js"

const flavors: ReadonlyArray<FakeFlavor> = ["mysql-8.0", "mysql-8.0", "mysql-8.4", "mysql-8.4"]

describe("discovery of FAKE MySQL 8.0 / 8.4 servers", () => {
  it.scopedLive("finds master and replica from the replica and serves orchestrator's Instance JSON", () =>
    Effect.gen(function*() {
      const fleet = yield* Effect.acquireRelease(
        Effect.promise(() =>
          withFreshPorts(4, (basePort) => startFleet({ count: 4, basePort, flavor: (i) => flavors[i]! }))
        ),
        (f) => Effect.promise(() => f.close())
      )
      const [m80, r80, m84, r84] = fleet.servers
      linkReplica(m80!, r80!)
      linkReplica(m84!, r84!)
      const c = config({ MySQLTopologyUser: "orc", MySQLTopologyPassword: "secret" })
      const base = Layer.mergeAll(layerSqlite({ filename: ":memory:" }), AppConfig.layer(c))
      const prober = Layer.scoped(Prober, MysqlProber.make(MysqlProber.optionsFromConfig(c)))
      const ctx = yield* Layer.build(DiscoveryService.layer.pipe(
        Layer.provideMerge(Layer.mergeAll(CommandLog.layerLocal, prober).pipe(Layer.provideMerge(base)))
      ))
      const discovery = Context.get(ctx, Discovery)
      const repo = Context.get(ctx, Repository)

      for (const [master, replica, version] of [[m80!, r80!, "8.0.36"], [m84!, r84!, "8.4.3"]] as const) {
        const mk = Key.unsafeMake("127.0.0.1", master.port)
        const rk = Key.unsafeMake("127.0.0.1", replica.port)
        yield* discovery.discover(rk)
        let stored = yield* repo.readInstance(mk)
        for (let i = 0; i < 100 && stored === undefined; i++) {
          yield* Effect.sleep("20 millis")
          stored = yield* repo.readInstance(mk)
        }
        const jsonOf = (k: Key.InstanceKey) =>
          Effect.map(repo.readInstance(k), (r) =>
            Json.encode(Either.getOrThrow(fromRecord(r!)), {
              now: Date.now(),
              instancePollSeconds: 5,
              reasonableReplicationLagSeconds: 10,
              timestampFormat: "rfc3339"
            }))
        const mj = yield* jsonOf(mk)
        const rj = yield* jsonOf(rk)
        expect(Object.keys(mj)).toEqual(Object.keys(Json.encode(Either.getOrThrow(fromRecord(stored!)), {
          now: 0,
          instancePollSeconds: 5,
          reasonableReplicationLagSeconds: 10
        })))
        expect(mj).toMatchObject({
          Key: { Hostname: "127.0.0.1", Port: master.port },
          Version: version,
          FlavorName: "MySQL",
          ServerUUID: master.state.serverUuid,
          GTIDMode: "ON",
          SupportsOracleGTID: true,
          ExecutedGtidSet: master.state.gtidExecuted,
          ReadOnly: false,
          MasterKey: { Hostname: "", Port: 0 },
          ReplicationSQLThreadState: -1,
          ReplicationIOThreadState: -1,
          Replicas: [{ Hostname: "127.0.0.1", Port: replica.port }],
          SlaveHosts: [{ Hostname: "127.0.0.1", Port: replica.port }],
          ClusterName: Key.format(mk),
          ReplicationDepth: 0,
          IsLastCheckValid: true,
          IsUpToDate: true,
          Problems: []
        })
        expect(rj).toMatchObject({
          Key: { Hostname: "127.0.0.1", Port: replica.port },
          Version: version,
          ReadOnly: true,
          MasterKey: { Hostname: "127.0.0.1", Port: master.port },
          MasterUUID: master.state.serverUuid,
          Slave_SQL_Running: true,
          ReplicationSQLThreadRuning: true,
          Slave_IO_Running: true,
          ReplicationIOThreadRuning: true,
          ReplicationSQLThreadState: 1,
          ReplicationIOThreadState: 1,
          UsingOracleGTID: true,
          UsingMariaDBGTID: false,
          SecondsBehindMaster: { Int64: 0, Valid: true },
          ClusterName: Key.format(mk),
          ReplicationDepth: 1,
          AncestryUUID: `${master.state.serverUuid},${replica.state.serverUuid}`,
          IsLastCheckValid: true,
          Problems: []
        })
        // 8.4 has no SHOW SLAVE STATUS / SHOW MASTER STATUS: the prober must have used the new statements.
        if (version === "8.4.3") {
          expect(replica.log.some((s) => s.includes("SHOW SLAVE STATUS"))).toBe(false)
          expect(master.log.some((s) => s.includes("SHOW BINARY LOG STATUS"))).toBe(true)
        }
      }
      // A broken link shows in the replica's JSON at the next refresh.
      r84!.update((s) => ({ ...s, replication: s.replication === null ? null : { ...s.replication, sqlRunning: "No", lastSqlErrno: 1062, lastSqlError: "Duplicate entry" } }))
      yield* discovery.refresh(Key.unsafeMake("127.0.0.1", r84!.port))
      const broken = Either.getOrThrow(fromRecord((yield* repo.readInstance(Key.unsafeMake("127.0.0.1", r84!.port)))!))
      const bj = Json.encode(broken, { now: Date.now(), instancePollSeconds: 5, reasonableReplicationLagSeconds: 10 })
      expect(bj.ReplicationSQLThreadState).toBe(0)
      expect(bj.LastSQLError).toBe("\"Duplicate entry\"")
      expect(bj.Problems).toEqual(["not_replicating"])
    }), 60_000)
})
