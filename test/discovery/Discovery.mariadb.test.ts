/**
 * Discovery with the mysql2 prober on real MariaDB GTID topologies (test/harness; fails with a clear
 * message when mariadbd is missing). Times are printed, never asserted, except the requirement that a
 * killed replica is marked not-valid within InstancePollSeconds + 1 s, which is checked on the stored
 * timestamps (the failed check's time minus the kill's).
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import * as net from "node:net"
import { afterAll, beforeAll } from "vitest"
import * as MysqlProber from "../../adapters/mysql/MysqlProber.js"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { Repository } from "../../core/backend/Repository.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Prober } from "../../core/discovery/Prober.js"
import * as Views from "../../core/discovery/Views.js"
import * as CommandLog from "../../core/ops/CommandLog.js"
import * as Model from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { fromRecord } from "../../core/topology/InstanceRecord.js"
import * as DiscoveryService from "../../service/Discovery.js"
import { Shape, startTopology, type Topology } from "../harness/Topology.js"
import { freePort } from "../support/ports.js"
import { config } from "./fixtures.js"

const POLL = 2

let star: Topology
let chain: Topology
beforeAll(async () => {
  ;[star, chain] = await Promise.all([
    startTopology({ shape: Shape.masterWithReplicas(3) }),
    startTopology({ shape: Shape.chain(3) })
  ])
}, 120_000)
afterAll(async () => {
  await Promise.allSettled([star?.stop(), chain?.stop()])
})

const discoveryLayer = (c: OrchestratorConfig) => {
  const base = Layer.mergeAll(layerSqlite({ filename: ":memory:" }), AppConfig.layer(c))
  const prober = Layer.scoped(Prober, MysqlProber.make(MysqlProber.optionsFromConfig(c)))
  return DiscoveryService.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(CommandLog.layerLocal, prober).pipe(Layer.provideMerge(base)))
  )
}

const build = (topo: Topology, overrides: Partial<OrchestratorConfig> = {}) =>
  Effect.gen(function*() {
    const c = config({ ...topo.orchestratorConfig, InstancePollSeconds: POLL, ...overrides })
    const ctx = yield* Layer.build(discoveryLayer(c))
    return {
      discovery: Context.get(ctx, Discovery),
      repo: Context.get(ctx, Repository),
      log: Context.get(ctx, CommandLog.CommandLog),
      prober: Context.get(ctx, Prober)
    }
  })

const readAll = (repo: Repository["Type"]) =>
  Effect.map(repo.readInstances, (rs) => rs.map((r) => Either.getOrThrow(fromRecord(r))))

/** Polls `check` every 50 ms until it returns a value, or fails naming `what` after `timeoutMs`. */
const waitFor = <A>(what: string, check: Effect.Effect<A | undefined, unknown>, timeoutMs = 20_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = yield* check
      if (v !== undefined) return v
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out after ${timeoutMs} ms waiting for ${what}`)
      yield* Effect.sleep("50 millis")
    }
  })

const key = (k: string) => Either.getOrThrow(Key.parse(k))

describe("discovery on MariaDB topologies", () => {
  it.scopedLive("discovering from any single instance finds the whole cluster, named after its master", () =>
    Effect.gen(function*() {
      const expected = star.instances.map((i) => i.key).sort()
      for (const start of star.instances) {
        const { discovery, repo } = yield* build(star)
        const t0 = Date.now()
        yield* discovery.discover(key(start.key))
        const all = yield* waitFor(
          `the 4 instances of ${star.master.key} discovered from ${start.key}`,
          Effect.map(readAll(repo), (is) =>
            is.length === 4 && is.every((i) => i.clusterName === star.master.key) ? is : undefined)
        )
        console.log(`discovery: whole cluster (4) from ${start.index === 0 ? "master" : "replica"} ${start.key} in ${Date.now() - t0} ms`)
        expect(all.map((i) => Key.format(i.key)).sort()).toEqual(expected)
        const master = all.find((i) => Key.format(i.key) === star.master.key)!
        expect(master.replicationDepth).toBe(0)
        expect(master.flavor).toBe("MariaDB")
        expect(master.replicas.map(Key.format).sort()).toEqual(star.replicas.map((r) => r.key).sort())
        for (const r of all.filter((i) => i !== master)) {
          expect(r.replicationDepth).toBe(1)
          expect(Model.masterKey(r)).toEqual(master.key)
          expect(Model.usingMariaDbGtid(r)).toBe(true)
          expect(Model.replicaRunning(r)).toBe(true)
          expect(r.replicas).toEqual([])
        }
      }
    }), 120_000)

  it.scopedLive("a chain shows depth 2 at its leaf", () =>
    Effect.gen(function*() {
      const { discovery, repo } = yield* build(chain)
      const leaf = chain.instances[2]!
      yield* discovery.discover(key(leaf.key))
      const all = yield* waitFor(
        "the chain discovered from its leaf",
        Effect.map(readAll(repo), (is) => (is.length === 3 && is.every((i) => i.clusterName === chain.master.key) ? is : undefined))
      )
      const depth = (k: string) => all.find((i) => Key.format(i.key) === k)!.replicationDepth
      expect(chain.instances.map((i) => depth(i.key))).toEqual([0, 1, 2])
    }), 60_000)

  it.scopedLive("healthy instances are probed in few round trips; polling keeps them fresh", () =>
    Effect.gen(function*() {
      const { discovery, repo, prober } = yield* build(star)
      yield* discovery.discover(key(star.master.key))
      yield* waitFor("4 instances", Effect.map(readAll(repo), (is) => (is.length === 4 ? is : undefined)))
      const before = yield* prober.roundTrips
      const probesBefore = (yield* discovery.status).probesOk
      yield* Effect.sleep(`${POLL * 2 + 1} seconds`)
      const probes = (yield* discovery.status).probesOk - probesBefore
      const trips = (yield* prober.roundTrips) - before
      console.log(`discovery: ${probes} warm probes, ${trips} round trips (${(trips / probes).toFixed(2)} per probe)`)
      expect(probes).toBeGreaterThanOrEqual(8)
      // Warm probes: 1 round trip; the master also asks SHOW SLAVE HOSTS in that same round.
      expect(trips / probes).toBeLessThanOrEqual(1.01)
    }), 60_000)

  it.scopedLive("ReplicationLagQuery replaces Seconds_Behind_Master on every server; NULL is unknown; an error falls back", () =>
    Effect.gen(function*() {
      const replica = star.replicas[0]!
      const lagOf = (query: string, k: string) =>
        Effect.gen(function*() {
          const { prober } = yield* build(star, { ReplicationLagQuery: query })
          return (yield* prober.probe({ key: key(k) })).replicationLagSeconds
        })
      expect(yield* lagOf("", replica.key)).toBe(0) // Seconds_Behind_Master of a healthy replica
      expect(yield* lagOf("", star.master.key)).toBeNull()
      expect(yield* lagOf("SELECT 42;", replica.key)).toBe(42)
      expect(yield* lagOf("SELECT 42", star.master.key)).toBe(42)
      expect(yield* lagOf("SELECT NULL", replica.key)).toBeNull()
      expect(yield* lagOf("SELECT 7 FROM mysql.user WHERE 1 = 0", replica.key)).toBe(0) // no row: Seconds_Behind_Master
      expect(yield* lagOf("SELECT 2.9", replica.key)).toBe(2)
      expect(yield* lagOf("SELECT -3", star.master.key)).toBe(0)
      expect(yield* lagOf("SELECT no_such_column FROM mysql.user", replica.key)).toBe(0)
      expect(yield* lagOf("SELECT no_such_column FROM mysql.user", star.master.key)).toBeNull()
    }), 60_000)

  it.scopedLive("a replica whose SQL thread is stopped appears in problems within one poll", () =>
    Effect.gen(function*() {
      const { discovery, repo } = yield* build(star)
      yield* discovery.discover(key(star.master.key))
      yield* waitFor("4 instances", Effect.map(readAll(repo), (is) => (is.length === 4 ? is : undefined)))
      const replica = star.replicas[0]!
      yield* Effect.promise(() => replica.query("STOP SLAVE SQL_THREAD", [], { user: "admin" }))
      const t0 = Date.now()
      try {
        const found = yield* waitFor(
          `${replica.key} in problems`,
          Effect.map(readAll(repo), (is) => {
            const ctx = { now: Date.now(), instancePollSeconds: POLL, reasonableReplicationLagSeconds: 10 }
            return is.find((i) => Key.format(i.key) === replica.key && Views.isProblem(i, ctx))
          }),
          (POLL + 1) * 1000 + 2000
        )
        console.log(`discovery: stopped SQL thread seen after ${Date.now() - t0} ms (poll ${POLL} s)`)
        expect(Model.sqlThreadState(found)).toBe("stopped")
        expect(Model.ioThreadState(found)).toBe("running")
      } finally {
        yield* Effect.promise(() => replica.query("START SLAVE SQL_THREAD", [], { user: "admin" }))
      }
    }), 60_000)

  it.scopedLive("a killed replica is marked not-valid within InstancePollSeconds + 1 s, and valid again once back", () =>
    Effect.gen(function*() {
      const { discovery, repo } = yield* build(star)
      yield* discovery.discover(key(star.master.key))
      yield* waitFor("4 instances", Effect.map(readAll(repo), (is) => (is.length === 4 ? is : undefined)))
      const replica = star.replicas[2]!
      yield* Effect.promise(() => replica.kill9())
      const killedAt = Date.now()
      try {
        const invalid = yield* waitFor(
          `${replica.key} not valid`,
          Effect.map(readAll(repo), (is) => is.find((i) => Key.format(i.key) === replica.key && !i.lastCheckValid)),
          (POLL + 1) * 1000 + 5000
        )
        const after = invalid.lastCheckedAt! - killedAt
        console.log(`discovery: killed replica marked not valid ${after} ms after kill -9 (poll ${POLL} s)`)
        expect(after).toBeLessThanOrEqual((POLL + 1) * 1000)
        expect(invalid.lastSeenAt!).toBeLessThan(invalid.lastCheckedAt!)
      } finally {
        yield* Effect.promise(() => replica.start())
      }
      yield* waitFor(
        `${replica.key} valid again`,
        Effect.map(readAll(repo), (is) => is.find((i) => Key.format(i.key) === replica.key && i.lastCheckValid)),
        30_000
      )
    }), 90_000)

  it.scopedLive("forget removes an instance (crawling does not re-add it); discover brings it back", () =>
    Effect.gen(function*() {
      const { discovery, repo, log } = yield* build(star)
      yield* discovery.discover(key(star.master.key))
      yield* waitFor("4 instances", Effect.map(readAll(repo), (is) => (is.length === 4 ? is : undefined)))
      const replica = star.replicas[1]!
      const k = key(replica.key)
      yield* log.propose({ _tag: "forget", key: { hostname: k.hostname, port: k.port } })
      expect(yield* repo.readInstance(k)).toBeUndefined()
      yield* Effect.sleep(`${POLL * 2} seconds`)
      expect(yield* repo.readInstance(k)).toBeUndefined()
      const back = yield* discovery.discover(k)
      expect(back.clusterName).toBe(star.master.key)
      expect(yield* repo.readInstance(k)).toBeDefined()
    }), 60_000)

  it.scopedLive("bad addresses fail with a clear error: unknown host, nothing listening, not MySQL", () =>
    Effect.gen(function*() {
      const { discovery } = yield* build(star, { MySQLConnectTimeoutSeconds: 1 })
      const unknown = yield* Effect.flip(discovery.discover(Key.unsafeMake("no-such-host.invalid", 3306)))
      expect(unknown._tag === "ProbeError" && unknown.kind).toBe("unknown-host")
      expect(unknown.message).toContain("no-such-host.invalid:3306: unknown host")
      const port = yield* Effect.promise(() => freePort())
      const refused = yield* Effect.flip(discovery.discover(Key.unsafeMake("127.0.0.1", port)))
      expect(refused._tag === "ProbeError" && refused.kind).toBe("unreachable")
      expect(refused.message).toContain("cannot connect")
      // A TCP server that never speaks (like an HTTP server): no handshake within the connect timeout.
      const silentPort = yield* Effect.promise(() => freePort())
      const silent = net.createServer(() => {})
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void silent.listen(silentPort, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => silent.close())
      )
      const notMysql = yield* Effect.flip(discovery.discover(Key.unsafeMake("127.0.0.1", silentPort)))
      expect(notMysql._tag === "ProbeError" && notMysql.kind).toBe("timeout")
      expect(notMysql.message).toContain("not a MySQL server")
    }), 60_000)
})
