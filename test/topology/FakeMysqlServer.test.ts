/**
 * The FAKE MySQL 8.0/8.4 server (test/fakes, standing in for Oracle MySQL which cannot run here) answers a
 * real mysql2 client in the text and the prepared protocol, and the probe plan + parsers turn its answers
 * into the expected Instances within the round-trip budget.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as mysql from "mysql2/promise"
import * as Model from "../../core/topology/Instance.js"
import * as Json from "../../core/topology/InstanceJson.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as ProbeParse from "../../core/topology/probe/ProbeParse.js"
import * as Sql from "../../core/topology/probe/ProbeSql.js"
import {
  connectingReplication,
  type FakeFleet,
  type FakeFlavor,
  type FleetOptions,
  linkReplica,
  startFleet,
  withFreshPorts
} from "../fakes/FakeMysqlServer.js"
import { coldProbe, warmProbe } from "./probeRunner.js"

const fleet = (options: Omit<FleetOptions, "basePort">) =>
  Effect.acquireRelease(
    Effect.promise(() => withFreshPorts(options.count, (basePort) => startFleet({ ...options, basePort }))),
    (f) => Effect.promise(() => f.close())
  )

const connect = (port: number, multipleStatements = true) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      mysql.createConnection({ host: "127.0.0.1", port, user: "orc", password: "secret", multipleStatements })
    ),
    (c) => Effect.promise(() => c.end())
  )

const jsonCtx = (): Json.JsonContext => ({
  now: Date.now(),
  instancePollSeconds: 5,
  reasonableReplicationLagSeconds: 10
})

interface DriverError {
  readonly errno: number
  readonly sqlState: string
  readonly message: string
}
const errorOf = (p: Promise<unknown>) =>
  Effect.promise(() => p.then(() => undefined, (e: unknown) => e as DriverError))

/** source (index 0) → replica (index 1), plus a standalone (index 2). */
const topology = (flavor: FakeFlavor) =>
  Effect.gen(function*() {
    const f: FakeFleet = yield* fleet({ count: 3, flavor })
    linkReplica(f.servers[0]!, f.servers[1]!)
    return f
  })

const probeInstance = (conn: mysql.Connection, port: number) =>
  Effect.promise(async () => {
    const outcome = await coldProbe(conn)
    const instance = ProbeParse.assemble(outcome.results, {
      key: Key.unsafeMake("127.0.0.1", port),
      now: Date.now(),
      latencyMs: 1,
      hostnameResolve: "none"
    })
    return { outcome, instance: Either.getOrThrow(instance) }
  })

describe.each(["mysql-8.0", "mysql-8.4"] as const)("fake %s", (flavor) => {
  it.scoped("advertises caching_sha2_password and its version in the handshake", () =>
    Effect.gen(function*() {
      const f = yield* fleet({ count: 1, flavor })
      const conn = yield* connect(f.servers[0]!.port)
      // mysql2 keeps the server greeting on the underlying connection (untyped internals).
      type Greeting = { authPluginName: string; serverVersion: string }
      const inner = conn as unknown as { connection: { _handshakePacket: Greeting } }
      const handshake = inner.connection._handshakePacket
      expect(handshake.authPluginName).toBe("caching_sha2_password")
      expect(handshake.serverVersion).toBe(flavor === "mysql-8.0" ? "8.0.36" : "8.4.3")
      yield* Effect.promise(() => conn.ping())
    }))

  it.scoped("cold probe of a source and a replica: ≤ 3 round trips, correct Instances", () =>
    Effect.gen(function*() {
      const f = yield* topology(flavor)
      const [source, replica] = [f.servers[0]!, f.servers[1]!]

      const sc = yield* connect(source.port)
      const before = source.stats.queries
      const s = yield* probeInstance(sc, source.port)
      expect(source.stats.queries - before).toBe(2)
      expect(s.outcome.queries).toBe(2)
      expect(s.instance.flavor).toBe("MySQL")
      expect(s.instance.version).toBe(source.state.version)
      expect(s.instance.serverUuid).toBe(source.state.serverUuid)
      expect(s.instance.gtidMode).toBe("ON")
      expect(s.instance.executedGtidSet).toBe(source.state.gtidExecuted)
      expect(s.instance.selfBinlogCoordinates).toEqual({
        logFile: source.state.binlogFile,
        logPos: source.state.binlogPosition,
        type: "binary"
      })
      expect(s.instance.replication).toBeNull()
      // Process-list discovery assumes the replica listens on this server's port: on a shared address
      // (127.0.0.1) that is the server itself, which is not a replica of itself (dropped by assemble).
      // The prober then asks SHOW REPLICAS (adapters/mysql/MysqlProber.ts).
      expect(s.instance.replicas.map(Key.format)).toEqual([])
      expect(Model.isMaster(s.instance)).toBe(true)

      const rc = yield* connect(replica.port)
      const r = yield* probeInstance(rc, replica.port)
      // Replica with master info in a table: + the credentials read.
      expect(r.outcome.queries).toBe(3)
      expect(r.instance.replicationCredentialsAvailable).toBe(true)
      expect(r.instance.readOnly).toBe(true)
      expect(Key.format(r.instance.replication!.masterKey!)).toBe(`127.0.0.1:${source.port}`)
      expect(r.instance.replication!.masterUuid).toBe(source.state.serverUuid)
      expect(r.instance.replication!.autoPosition).toBe(true)
      expect(Model.replicaRunning(r.instance)).toBe(true)
      expect(r.instance.replicationLagSeconds).toBe(0)
      // The statements the plan chose for this version.
      const log = replica.log.join("\n")
      if (flavor === "mysql-8.4") {
        expect(log).toContain("SHOW REPLICA STATUS")
        expect(log).toContain("SHOW BINARY LOG STATUS")
        expect(log).not.toMatch(/SHOW (SLAVE|MASTER)/)
      } else {
        expect(log).toContain("SHOW REPLICA STATUS")
        expect(log).toContain("SHOW MASTER STATUS")
      }
      const j = Json.encode(r.instance, jsonCtx())
      expect(j.MasterUUID).toBe(source.state.serverUuid)
      expect(j.UsingOracleGTID).toBe(true)
      expect(j.Problems).toEqual([])
    }))

  it.scoped("warm probe: one round trip for a master, replanned after an upgrade", () =>
    Effect.gen(function*() {
      const f = yield* topology(flavor)
      const source = f.servers[0]!
      const conn = yield* connect(source.port)
      const warm = yield* Effect.promise(() => warmProbe(conn, source.state.version))
      expect(warm.queries).toBe(1)
      expect(Either.isRight(ProbeParse.assemble(warm.results, {
        key: Key.unsafeMake("127.0.0.1", source.port),
        now: Date.now(),
        latencyMs: 1,
        hostnameResolve: "none"
      }))).toBe(true)
      // Assume the old version: the flavour statements are rerun for the real one.
      const stale = yield* Effect.promise(() => warmProbe(conn, flavor === "mysql-8.4" ? "8.0.36" : "5.7.44"))
      expect(stale.queries).toBeGreaterThanOrEqual(2)
      expect(ProbeParse.versionOf(stale.results)?.text).toBe(source.state.version)
    }))

  it.scoped("a broken replica: Connecting, error text, NULL lag", () =>
    Effect.gen(function*() {
      const f = yield* topology(flavor)
      const replica = f.servers[1]!
      replica.update((s) => ({ ...s, replication: connectingReplication(s.replication!, s.flavor) }))
      const conn = yield* connect(replica.port)
      const r = yield* probeInstance(conn, replica.port)
      expect(r.instance.replication!.ioRunning).toBe("Connecting")
      expect(r.instance.replication!.secondsBehindMaster).toBeNull()
      expect(r.instance.replication!.lastIoError).toMatch(
        /^Error connecting to source 'repl@127\.0\.0\.1:\d+'\. This was attempt/
      )
      expect(Model.isFailingToConnectToMaster(r.instance)).toBe(true)
      expect(Json.encode(r.instance, jsonCtx()).Problems).toEqual(["not_replicating"])
    }))

  it.scoped("prepared statements (binary protocol) give the same rows as text", () =>
    Effect.gen(function*() {
      const f = yield* topology(flavor)
      const replica = f.servers[1]!
      const conn = yield* connect(replica.port)
      const statements = [
        Sql.SELECT_GLOBALS,
        Sql.SHOW_REPLICA_STATUS,
        Sql.SELECT_MYSQL8026_VARIABLES,
        Sql.SHOW_STATUS_UPTIME
      ]
      for (const sql of statements) {
        const [text] = yield* Effect.promise(() => conn.query(sql))
        const [prepared] = yield* Effect.promise(() => conn.execute(sql))
        expect(prepared).toEqual(text)
      }
      const [withParam] = yield* Effect.promise(() => conn.execute("SELECT @@global.server_id AS sid, ? AS p", [7]))
      expect(withParam).toEqual([{ sid: replica.state.serverId, p: 7 }])
      const [rows] = yield* Effect.promise(() => conn.query(Sql.SHOW_REPLICA_STATUS))
      const row = (rows as ReadonlyArray<Record<string, unknown>>)[0]!
      expect(Object.keys(row).length).toBe(60)
      expect(Object.keys(row).slice(0, 3)).toEqual(["Replica_IO_State", "Source_Host", "Source_User"])
      expect(typeof row["Read_Source_Log_Pos"]).toBe("number")
      expect(replica.stats.executes).toBeGreaterThanOrEqual(5)
    }))

  it.scoped("old syntax: column names on 8.0, ER_PARSE_ERROR on 8.4; unknown statements fail cleanly", () =>
    Effect.gen(function*() {
      const f = yield* topology(flavor)
      const conn = yield* connect(f.servers[1]!.port)
      for (const stmt of ["SHOW SLAVE STATUS", "SHOW MASTER STATUS", "SHOW SLAVE HOSTS"]) {
        if (flavor === "mysql-8.4") {
          const e = yield* errorOf(conn.query(stmt))
          expect(e?.errno).toBe(1064)
          expect(e?.sqlState).toBe("42000")
          expect(e?.message).toBe(
            `You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version ` +
              `for the right syntax to use near '${stmt.slice(5)}' at line 1`
          )
        } else {
          const [rows] = yield* Effect.promise(() => conn.query(stmt))
          expect(Array.isArray(rows)).toBe(true)
        }
      }
      if (flavor === "mysql-8.0") {
        const [rows] = yield* Effect.promise(() => conn.query("SHOW SLAVE STATUS"))
        const first = (rows as ReadonlyArray<Record<string, unknown>>)[0]!
        expect(Object.keys(first).slice(0, 2)).toEqual(["Slave_IO_State", "Master_Host"])
        const e = yield* errorOf(conn.query("SHOW BINARY LOG STATUS"))
        expect(e?.errno).toBe(1064)
      }
      const unknown = yield* errorOf(conn.query("FLUSH EVERYTHING NOW"))
      expect(unknown?.errno).toBe(1064)
      const variable = yield* errorOf(conn.query("SELECT @@global.gtid_current_pos"))
      expect([variable?.errno, variable?.message]).toEqual([1193, "Unknown system variable 'gtid_current_pos'"])
      // The connection is still usable after errors, and a failing batch stops at the failing statement.
      const batch = yield* errorOf(conn.query("SELECT 1 AS a; SELECT @@nope; SELECT 2"))
      expect(batch?.errno).toBe(1193)
      const [ok] = yield* Effect.promise(() => conn.query("SELECT 1 AS a"))
      expect(ok).toEqual([{ a: 1 }])
    }))

  it.scoped("multi-statement text requires CLIENT_MULTI_STATEMENTS", () =>
    Effect.gen(function*() {
      const f = yield* fleet({ count: 1, flavor })
      const conn = yield* connect(f.servers[0]!.port, false)
      const e = yield* errorOf(conn.query("SELECT 1; SELECT 2"))
      expect(e?.errno).toBe(1064)
    }))
})

describe("fake fleet", () => {
  it.scoped("serves many ports of mixed flavours from one process; every probe stays within 3 round trips", () =>
    Effect.gen(function*() {
      const flavors: ReadonlyArray<FakeFlavor> = ["mysql-8.0", "mysql-8.4", "mariadb-10.11"]
      const f = yield* fleet({ count: 60, flavor: (i) => flavors[i % 3]! })
      // Chains of three per flavour-triple: i → i+3 → i+6 share a flavour.
      for (let i = 0; i + 3 < f.servers.length; i += 6) linkReplica(f.servers[i]!, f.servers[i + 3]!)
      const results = yield* Effect.forEach(
        f.servers,
        (server) =>
          Effect.scoped(
            Effect.gen(function*() {
              const conn = yield* connect(server.port)
              const r = yield* probeInstance(conn, server.port)
              return { server, ...r }
            })
          ),
        { concurrency: 20 }
      )
      for (const { server, outcome, instance } of results) {
        expect(outcome.queries).toBeLessThanOrEqual(3)
        expect(instance.serverId).toBe(server.state.serverId)
        expect(instance.flavor).toBe(server.flavor === "mariadb-10.11" ? "MariaDB" : "MySQL")
        expect(Model.isReplica(instance)).toBe(server.state.replication !== null)
        if (server.flavor === "mariadb-10.11") {
          expect(outcome.queries).toBe(2)
          expect(instance.mariadbGtid?.currentPos).toBe(server.state.gtidCurrentPos)
          expect(instance.semiSync.naming).toBe("master-slave")
        }
      }
    }))

  it("rejects ports outside 10000..32000", async () => {
    await expect(startFleet({ count: 2, basePort: 31_999 + 1, flavor: "mysql-8.4" })).rejects.toThrow(/within/)
    await expect(startFleet({ count: 1, basePort: 5000, flavor: "mysql-8.4" })).rejects.toThrow(/within/)
  })
})
