import { afterAll, beforeAll } from "vitest"
import { layerMysql } from "../../adapters/backend/MysqlBackend.js"
import { Credentials, Shape, startTopology, type Topology } from "../harness/Topology.js"
import { repositorySuite } from "./repositorySuite.js"

// One test-started mariadbd; each test gets a database of its own, created by the backend layer
// (as orchestrator creates MySQLOrchestratorDatabase) and dropped at the end.
let topology: Topology
const databases: Array<string> = []
let n = 0

beforeAll(async () => {
  topology = await startTopology({ shape: Shape.custom([null]) })
}, 120_000)

afterAll(async () => {
  try {
    for (const db of databases) await topology.master.query(`DROP DATABASE IF EXISTS \`${db}\``, [], { user: "admin" })
  } finally {
    await topology.stop()
  }
})

repositorySuite("MariaDB", () => {
  const database = `orc_backend_test_${process.pid}_${++n}`
  databases.push(database)
  return layerMysql({
    host: "127.0.0.1",
    port: topology.master.port,
    database,
    user: Credentials.admin.user,
    password: Credentials.admin.password,
    maxConnections: 4,
    connectTimeoutSeconds: 2
  })
})

import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { Repository } from "../../core/backend/Repository.js"
import { applyAt } from "../../core/ops/CommandLog.js"
import type { Op } from "../../core/ops/Op.js"

it("the same ops give byte-equal snapshots on MariaDB and SQLite, and restore across backends", async () => {
  const k = { hostname: "db1", port: 3306 }
  const ops: ReadonlyArray<Op> = [
    { _tag: "begin-downtime", key: k, owner: "ops", reason: "r", beginTimestamp: 1, endTimestamp: 2_000_000_000_000 },
    { _tag: "put-instance-tag", key: k, tagName: "role", tagValue: "oltp" },
    { _tag: "put-key-value", key: "mysql/master/c", value: "db1:3306", at: 7 },
    { _tag: "disable-global-recoveries" },
    {
      _tag: "begin-maintenance",
      key: k,
      owner: "o",
      reason: "r",
      beginTimestamp: 1,
      endTimestamp: 99,
      processingNodeHostname: "n",
      processingNodeToken: "t",
      explicitlyBounded: true
    },
    { _tag: "write-recovery-step", recoveryUid: "u", auditAt: 5, message: "step" }
  ]
  const run = (layer: ReturnType<typeof layerSqlite>) =>
    Effect.runPromise(Effect.gen(function*() {
      for (const [i, op] of ops.entries()) yield* applyAt(op, i + 1, 1)
      return yield* Effect.flatMap(Repository, (r) => r.dumpReplicated)
    }).pipe(Effect.provide(layer)))
  const database = `orc_backend_test_${process.pid}_dump`
  databases.push(database)
  const mysqlLayer = layerMysql({
    host: "127.0.0.1",
    port: topology.master.port,
    database,
    user: Credentials.admin.user,
    password: Credentials.admin.password,
    maxConnections: 2,
    connectTimeoutSeconds: 2
  })
  const fromMaria = await run(mysqlLayer)
  const fromSqlite = await run(layerSqlite({ filename: ":memory:" }))
  assert.deepStrictEqual(fromMaria, fromSqlite)
  const restored = await Effect.runPromise(Effect.gen(function*() {
    const repo = yield* Repository
    yield* repo.transaction(repo.restoreReplicated(fromMaria))
    return yield* repo.dumpReplicated
  }).pipe(Effect.provide(layerSqlite({ filename: ":memory:" }))))
  assert.deepStrictEqual(restored, fromMaria)
})
