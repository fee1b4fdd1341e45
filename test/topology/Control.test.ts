/**
 * The statement builders and checks of core/topology/Control.ts: the spelling per server version (MariaDB,
 * MySQL 5.7, 8.0 before and after the 8.0.22/8.0.23/8.0.26 renames, 8.2, 8.4), escaping, and orchestrator's
 * decisions and messages (detach, purge safety, skip-query GTID, errant GTIDs, can-replicate-from).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { makeRouter } from "../../core/api/Router.js"
import { routes } from "../../core/api/Routes.js"
import * as Views from "../../core/discovery/Views.js"
import * as C from "../../core/topology/Control.js"
import type { Instance } from "../../core/topology/Instance.js"
import { key, master, replica, server, stopped, withSql } from "../analysis/fixtures.js"

const mariadb = C.syntaxOf({ version: "10.11.19-MariaDB-0+deb12u1-log", versionComment: "Debian 12" })
const mysql57 = C.syntaxOf({ version: "5.7.44-log", versionComment: "MySQL Community Server (GPL)" })
const mysql8021 = C.syntaxOf({ version: "8.0.21", versionComment: "" })
const mysql8022 = C.syntaxOf({ version: "8.0.22", versionComment: "" })
const mysql8036 = C.syntaxOf({ version: "8.0.36", versionComment: "" })
const mysql82 = C.syntaxOf({ version: "8.2.0", versionComment: "" })
const mysql84 = C.syntaxOf({ version: "8.4.3", versionComment: "" })
const percona80 = C.syntaxOf({ version: "8.0.36-28", versionComment: "Percona Server (GPL), Release 28" })

const text = (s: { readonly text: string }) => s.text

/** A MySQL server of `version` (GTID on) replicating from `of` with auto-position. */
const mysqlReplica = (host: string, of: Instance, version: string, patch: Partial<Instance> = {}): Instance =>
  withSql(
    replica(host, of, {}, {
      version,
      versionComment: "MySQL Community Server - GPL",
      flavor: "MySQL",
      gtidMode: "ON",
      mariadbGtid: null,
      serverUuid: `00000000-0000-0000-0000-00000000000${host.length}`,
      ...patch
    }),
    { usingGtid: null, autoPosition: true }
  )

describe("statement spelling per version", () => {
  it("MariaDB and MySQL before 8.0.22 say SLAVE; MySQL 8.0.22+ and 8.4 say REPLICA", () => {
    for (const s of [mariadb, mysql57, mysql8021]) {
      expect(text(C.stopReplication(s))).toBe("STOP SLAVE")
      expect(text(C.startReplication(s, "SQL_THREAD"))).toBe("START SLAVE SQL_THREAD")
      expect(text(C.showReplicaStatus(s))).toBe("SHOW SLAVE STATUS")
      expect(text(C.resetReplicaAll(s))).toBe("RESET SLAVE ALL")
    }
    for (const s of [mysql8022, mysql8036, percona80, mysql84]) {
      expect(text(C.stopReplication(s, "IO_THREAD"))).toBe("STOP REPLICA IO_THREAD")
      expect(text(C.startReplication(s))).toBe("START REPLICA")
      expect(text(C.showReplicaStatus(s))).toBe("SHOW REPLICA STATUS")
      expect(text(C.resetReplicaAll(s))).toBe("RESET REPLICA ALL")
    }
  })

  it("CHANGE MASTER TO on MariaDB and MySQL < 8.0.23, CHANGE REPLICATION SOURCE TO after (8.4 has only that)", () => {
    const target = { host: "db-2", port: 3307, coordinates: null, gtid: { _tag: "keep" } } as const
    expect(text(C.changeSource(mariadb, target))).toBe("CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3307")
    expect(text(C.changeSource(mysql8022, target))).toBe("CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3307")
    expect(text(C.changeSource(mysql84, target))).toBe("CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2', SOURCE_PORT=3307")
    expect(text(C.changeSource(mysql8036, {
      ...target,
      coordinates: { logFile: "binlog.000007", logPos: 1234 },
      gtid: { _tag: "mysql", autoPosition: false }
    }))).toBe(
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2', SOURCE_PORT=3307, SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=1234, SOURCE_AUTO_POSITION=0"
    )
    expect(text(C.changeSource(mariadb, { ...target, gtid: { _tag: "mariadb", useGtid: "slave_pos" } }))).toBe(
      "CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3307, MASTER_USE_GTID=slave_pos"
    )
    expect(text(C.changeSourceToDummyHost(mariadb))).toBe("CHANGE MASTER TO MASTER_HOST='_'")
    expect(text(C.changeSourceToDummyHost(mysql84))).toBe("CHANGE REPLICATION SOURCE TO SOURCE_HOST='_'")
    expect(text(C.changeSourceDelay(mariadb, 60))).toBe("CHANGE MASTER TO MASTER_DELAY=60")
    expect(text(C.changeSourceDelay(mysql84, 0))).toBe("CHANGE REPLICATION SOURCE TO SOURCE_DELAY=0")
  })

  it("escapes values interpolated on the client (CHANGE MASTER cannot be prepared on MariaDB)", () => {
    const evil = { host: "x', MASTER_PASSWORD='p", port: 1, coordinates: { logFile: "a\\b'c", logPos: 4 }, gtid: { _tag: "keep" } } as const
    expect(text(C.changeSource(mariadb, evil))).toBe(
      "CHANGE MASTER TO MASTER_HOST='x\\', MASTER_PASSWORD=\\'p', MASTER_PORT=1, MASTER_LOG_FILE='a\\\\b\\'c', MASTER_LOG_POS=4"
    )
    expect(text(C.purgeBinaryLogsTo("mysql-bin.000003' OR 1"))).toBe("PURGE BINARY LOGS TO 'mysql-bin.000003\\' OR 1'")
    expect(text(C.showBinlogEvents("binlog.000002"))).toBe("SHOW BINLOG EVENTS IN 'binlog.000002' LIMIT 5")
    expect(text(C.killQuery(42))).toBe("KILL QUERY 42")
  })

  it("variables renamed in 8.0.26, RESET MASTER renamed in 8.2, semi-sync names as the server exposes them", () => {
    expect(text(C.skipOneEvent(mariadb))).toBe("SET GLOBAL sql_slave_skip_counter = 1")
    expect(text(C.skipOneEvent(mysql8022))).toBe("SET GLOBAL sql_slave_skip_counter = 1")
    expect(text(C.skipOneEvent(mysql8036))).toBe("SET GLOBAL sql_replica_skip_counter = 1")
    expect(text(C.skipOneEvent(mysql84))).toBe("SET GLOBAL sql_replica_skip_counter = 1")
    expect(text(C.resetBinaryLogs(mariadb))).toBe("RESET MASTER")
    expect(text(C.resetBinaryLogs(mysql8036))).toBe("RESET MASTER")
    expect(text(C.resetBinaryLogs(mysql82))).toBe("RESET BINARY LOGS AND GTIDS")
    expect(text(C.resetBinaryLogs(mysql84))).toBe("RESET BINARY LOGS AND GTIDS")
    expect(text(C.setSemiSyncMaster("master-slave", true))).toBe("SET GLOBAL rpl_semi_sync_master_enabled = 1")
    expect(text(C.setSemiSyncMaster(null, false))).toBe("SET GLOBAL rpl_semi_sync_master_enabled = 0")
    expect(text(C.setSemiSyncReplica("source-replica", true))).toBe("SET GLOBAL rpl_semi_sync_replica_enabled = 1")
    expect(text(C.setSemiSyncReplica("master-slave", false))).toBe("SET GLOBAL rpl_semi_sync_slave_enabled = 0")
    expect(text(C.setReadOnly(true))).toBe("SET GLOBAL read_only = 1")
    expect(text(C.setReadOnly(false))).toBe("SET GLOBAL read_only = 0")
  })

  it("empty transactions for GTIDs go in one session, ending with GTID_NEXT back to AUTOMATIC", () => {
    expect(text(C.injectEmpty(["3e11fa47-71ca-11e1-9e33-c80aa9429562:5"]))).toBe(
      "SET GTID_NEXT = '3e11fa47-71ca-11e1-9e33-c80aa9429562:5'; BEGIN; COMMIT; SET GTID_NEXT = 'AUTOMATIC'"
    )
  })
})

describe("repointing a replica at a host (detach, reattach, enable/disable GTID)", () => {
  const m = master("m1")
  it("a MariaDB GTID replica keeps GTID: only host and port change", () => {
    const r = replica("r1", m)
    expect(text(C.repointStatement(mariadb, r, C.detachedHost("m1"), 3306, "neutral"))).toBe(
      "CHANGE MASTER TO MASTER_HOST='//m1', MASTER_PORT=3306"
    )
    expect(C.reattachedHost(C.detachedHost("m1"))).toBe("m1")
    expect(C.detachedHost("//m1")).toBe("//m1")
  })
  it("a file:pos replica resumes at its exec coordinates", () => {
    const r = replica("r1", m, { usingGtid: "No", execFile: "mysql-bin.000009", exec: 777 })
    expect(text(C.repointStatement(mariadb, r, "//m1", 3306, "neutral"))).toBe(
      "CHANGE MASTER TO MASTER_HOST='//m1', MASTER_PORT=3306, MASTER_LOG_FILE='mysql-bin.000009', MASTER_LOG_POS=777"
    )
    expect(text(C.repointStatement(mariadb, r, "m1", 3306, "force"))).toBe(
      "CHANGE MASTER TO MASTER_HOST='m1', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos"
    )
  })
  it("disable-gtid on MariaDB: back to file:pos with MASTER_USE_GTID=no", () => {
    const r = replica("r1", m, { execFile: "mysql-bin.000004", exec: 42 })
    expect(text(C.repointStatement(mariadb, r, "m1", 3306, "deny"))).toBe(
      "CHANGE MASTER TO MASTER_HOST='m1', MASTER_PORT=3306, MASTER_LOG_FILE='mysql-bin.000004', MASTER_LOG_POS=42, MASTER_USE_GTID=no"
    )
  })
  it("MySQL: auto-position kept, forced on or turned off, in the version's terms", () => {
    const mm = server("mm", { version: "8.4.3", flavor: "MySQL", mariadbGtid: null, gtidMode: "ON" })
    const r84 = mysqlReplica("r84", mm, "8.4.3")
    expect(text(C.repointStatement(mysql84, r84, "//mm", 3306, "neutral"))).toBe(
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='//mm', SOURCE_PORT=3306"
    )
    expect(text(C.repointStatement(mysql84, r84, "mm", 3306, "deny"))).toBe(
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='mm', SOURCE_PORT=3306, SOURCE_LOG_FILE='mysql-bin.000003', SOURCE_LOG_POS=1000, SOURCE_AUTO_POSITION=0"
    )
    const r57 = withSql(mysqlReplica("r57", mm, "5.7.44"), { autoPosition: false })
    expect(text(C.repointStatement(mysql57, r57, "mm", 3306, "force"))).toBe(
      "CHANGE MASTER TO MASTER_HOST='mm', MASTER_PORT=3306, MASTER_AUTO_POSITION=1"
    )
  })
})

describe("restart-preserving statements (restart-replica-statements, delay-replication)", () => {
  it("stops and restarts only the threads that run, in orchestrator's lower-case form", () => {
    expect(C.restartPreserveStatements(mariadb, { io: true, sql: true }, "set global rpl_semi_sync_slave_enabled=1")).toEqual([
      "stop slave io_thread;",
      "stop slave sql_thread;",
      "set global rpl_semi_sync_slave_enabled=1;",
      "start slave sql_thread;",
      "start slave io_thread;"
    ])
    expect(C.restartPreserveStatements(mysql84, { io: true, sql: false }, "select 1;")).toEqual([
      "stop replica io_thread;",
      "select 1;",
      "start replica io_thread;"
    ])
    expect(C.restartPreserveStatements(mariadb, { io: false, sql: false }, "")).toEqual([])
  })
  it("the delay plan wraps CHANGE MASTER TO MASTER_DELAY", () => {
    expect(C.restartPreservePlan(mysql8036, { io: true, sql: true }, C.changeSourceDelay(mysql8036, 5)).map(text)).toEqual([
      "STOP REPLICA IO_THREAD",
      "STOP REPLICA SQL_THREAD",
      "CHANGE REPLICATION SOURCE TO SOURCE_DELAY=5",
      "START REPLICA SQL_THREAD",
      "START REPLICA IO_THREAD"
    ])
  })
})

describe("SHOW SLAVE/REPLICA STATUS threads", () => {
  it("reads old and new column names", () => {
    const old = C.threadsStatus([{
      Slave_IO_Running: "Yes",
      Slave_SQL_Running: "No",
      Master_Log_File: "mysql-bin.000002",
      Read_Master_Log_Pos: 900,
      Relay_Master_Log_File: "mysql-bin.000002",
      Exec_Master_Log_Pos: 800
    }])
    expect(old).toEqual({
      io: "Yes",
      sql: "No",
      read: { logFile: "mysql-bin.000002", logPos: 900 },
      exec: { logFile: "mysql-bin.000002", logPos: 800 }
    })
    expect(C.sqlThreadUpToDate(old!)).toBe(false)
    const modern = C.threadsStatus([{
      Replica_IO_Running: "Yes",
      Replica_SQL_Running: "Yes",
      Source_Log_File: "binlog.000001",
      Read_Source_Log_Pos: "157",
      Relay_Source_Log_File: "binlog.000001",
      Exec_Source_Log_Pos: 157n
    }])
    expect(C.threadsAre(modern, "running")).toBe(true)
    expect(C.sqlThreadUpToDate(modern!)).toBe(true)
    expect(C.threadsStatus([])).toBeUndefined()
    expect(C.threadsAre(undefined, "stopped")).toBe(false)
  })
})

describe("purge-binary-logs safety (orchestrator PurgeBinaryLogsTo)", () => {
  const m = master("m1")
  it("refuses while a replica executes from an earlier file, allows once all are past it", () => {
    const behind = replica("r1", m, { execFile: "mysql-bin.000003", exec: 500 })
    const ahead = replica("r2", m, { execFile: "mysql-bin.000004", exec: 4 })
    expect(C.purgeRefusal(m.key, "mysql-bin.000004", [ahead, behind])).toBe(
      "Unsafe to purge binary logs on m1:3306 up to mysql-bin.000004 because replica r1:3306 has only applied up to mysql-bin.000003:500"
    )
    expect(C.purgeRefusal(m.key, "mysql-bin.000003", [ahead, behind])).toBeNull()
    expect(C.purgeRefusal(m.key, "mysql-bin.000004", [ahead])).toBeNull()
    expect(C.purgeRefusal(m.key, "mysql-bin.000099", [])).toBeNull()
  })
})

describe("GTID arithmetic of skip-query and the errant-GTID routes", () => {
  const u1 = "00000000-0000-0000-0000-000000000001"
  const u2 = "00000000-0000-0000-0000-000000000002"
  it("the failed GTID: retrieved but not executed, else orchestrator's NextGTID", () => {
    expect(C.failedGtid(`${u1}:1-10,${u2}:1-3`, `${u1}:5-12`)).toEqual(Either.right(`${u1}:11`))
    expect(C.failedGtid(`${u1}:1-10,${u2}:1-3`, "")).toEqual(Either.right(`${u2}:4`))
    expect(Either.isLeft(C.failedGtid("", ""))).toBe(true)
  })
  it("explodes a set into GTIDs, with a limit", () => {
    expect(C.explode(`${u1}:3-4:7,${u2}:1`, 10)).toEqual(Either.right([`${u1}:3`, `${u1}:4`, `${u1}:7`, `${u2}:1`]))
    expect(Either.isLeft(C.explode(`${u1}:1-100`, 10))).toBe(true)
  })
  it("subtracts sets as GTID_SUBTRACT does", () => {
    expect(C.subtract(`${u1}:1-10,${u2}:1-5`, `${u2}:1-5`)).toEqual(Either.right(`${u1}:1-10`))
    expect(C.subtract(`${u1}:1-10`, `${u1}:1-10`)).toEqual(Either.right(""))
  })
  it("locates the binlogs holding errant transactions from each file's Previous_gtids", () => {
    const binlogs = [
      { name: "binlog.000001", previousGtids: "" },
      { name: "binlog.000002", previousGtids: `${u1}:1-5` },
      { name: "binlog.000003", previousGtids: `${u1}:1-5,${u2}:1` },
      { name: "binlog.000004", previousGtids: `${u1}:1-9,${u2}:1` }
    ]
    expect(C.locateErrant(key("r1"), `${u2}:1`, "", binlogs)).toEqual(Either.right(["binlog.000002"]))
    expect(C.locateErrant(key("r1"), `${u2}:1-2`, "", binlogs)).toEqual(Either.right(["binlog.000002", "binlog.000004"]))
    expect(C.locateErrant(key("r1"), `${u2}:1`, `${u2}:1`, binlogs)).toEqual(
      Either.left(`locate-errant-gtid: ${u2}:1 is already purged on r1:3306`)
    )
    expect(C.locateErrant(key("r1"), "", "", binlogs)).toEqual(Either.left("locate-errant-gtid: no errant-gtid on r1:3306"))
  })
  it("reads Previous_gtids from SHOW BINLOG EVENTS and log names from SHOW BINARY LOGS", () => {
    expect(C.previousGtids([
      { Log_name: "binlog.000002", Event_type: "Format_desc", Info: "Server ver: 8.0.36" },
      { Log_name: "binlog.000002", Event_type: "Previous_gtids", Info: `${u1}:1-5` }
    ])).toBe(`${u1}:1-5`)
    expect(C.previousGtids([{ Event_type: "Format_desc", Info: "" }])).toBe("")
    expect(C.binaryLogNames([{ Log_name: "a.1", File_size: 1 }, { Log_name: "a.2", File_size: 2 }])).toEqual(["a.1", "a.2"])
  })
})

describe("can-replicate-from (orchestrator Instance.CanReplicateFrom, CheckMoveViaGTID)", () => {
  const m = master("m1")
  const r1 = replica("r1", m)
  const r2 = replica("r2", m)
  it("a sibling with binlogs and log_slave_updates can be replicated from", () => {
    expect(C.cannotReplicateFrom(r1, r2, 20)).toBeNull()
    expect(C.cannotMoveViaGtid(r1, r2)).toBeNull()
    expect(C.cannotReplicateFrom(r1, m, 20)).toBeNull()
  })
  it("refuses with orchestrator's messages", () => {
    expect(C.cannotReplicateFrom(r1, r1, 20)).toBe("instance cannot replicate from itself: r1:3306")
    expect(C.cannotReplicateFrom(r1, { ...r2, logBinEnabled: false }, 20)).toBe("instance does not have binary logs enabled: r2:3306")
    expect(C.cannotReplicateFrom(r1, { ...r2, logReplicationUpdatesEnabled: false }, 20)).toBe(
      "instance does not have log_slave_updates enabled: r2:3306"
    )
    expect(C.cannotReplicateFrom({ ...r1, version: "10.6.5-MariaDB" }, r2, 20)).toBe(
      "instance r1:3306 has version 10.6.5-MariaDB, which is lower than 10.11.9-MariaDB-log on r2:3306 "
    )
    expect(C.cannotReplicateFrom({ ...r1, binlogFormat: "STATEMENT" }, r2, 20)).toBe(
      "Cannot replicate from ROW binlog format on r2:3306 to STATEMENT on r1:3306"
    )
    expect(C.cannotReplicateFrom({ ...r1, serverId: r2.serverId }, r2, 20)).toBe(
      `Identical server id: r2:3306, r1:3306 both have ${r2.serverId}`
    )
    expect(C.cannotReplicateFrom(r1, withSql(r2, { sqlDelay: 3600 }), 20)).toBe(
      "r2:3306 has higher SQL_Delay (3600 seconds) than r1:3306 does (0 seconds)"
    )
  })
  it("GTID: same kind on both sides, nothing purged that the replica lacks", () => {
    const fileReplica = replica("r3", m, { usingGtid: "No" })
    expect(C.cannotMoveViaGtid(fileReplica, r2)).toBe("Instances r3:3306, r2:3306 not GTID compatible or not using GTID")
    const mm = server("mm", { version: "8.0.36", flavor: "MySQL", mariadbGtid: null, gtidMode: "ON" })
    const a = mysqlReplica("a", mm, "8.0.36", { executedGtidSet: "00000000-0000-0000-0000-000000000009:1-10" })
    const b = mysqlReplica("bb", mm, "8.0.36", { gtidPurged: "00000000-0000-0000-0000-000000000009:1-20" })
    expect(C.cannotMoveViaGtid(a, b)).toBe("Instance bb:3306 has purged GTID entries not found on a:3306")
    expect(C.cannotMoveViaGtid(a, { ...b, gtidPurged: "00000000-0000-0000-0000-000000000009:1-5" })).toBeNull()
    expect(C.cannotMoveViaGtid(a, r2)).toBe("Instances a:3306, r2:3306 not GTID compatible or not using GTID")
  })
})

describe("OSC replicas and pools (Views)", () => {
  const m = master("m1")
  const im1 = replica("im1", m, {}, { replicas: [key("l1"), key("l2")] })
  const im2 = replica("im2", m, {}, { replicas: [key("l3")] })
  const leaf = replica("leaf", m)
  const leaf2 = replica("leaf2", m)
  const leaf3 = replica("leaf3", m)
  const l1 = replica("l1", im1)
  const l2 = replica("l2", im1)
  const l3 = replica("l3", im2)
  const all = [m, im2, im1, leaf3, leaf, leaf2, l1, l2, l3]
  it("GetClusterOSCReplicas: busiest intermediate masters, one replica of each, two first-tier leaves", () => {
    expect(Views.clusterOscReplicas(all, "m1:3306").map((i) => i.key.hostname)).toEqual(["im1", "im2", "l1", "l3", "leaf", "leaf2"])
    expect(Views.clusterOscReplicas([m, im1, l1, l2], "m1:3306").map((i) => i.key.hostname)).toEqual(["im1", "l1", "l2"])
    expect(Views.clusterOscReplicas(all, "other:3306")).toEqual([])
  })
  it("pool members of the cluster, by pool; heuristic pool instances and their lag", () => {
    const members = [
      { pool: "web", key: key("leaf2") },
      { pool: "web", key: key("leaf") },
      { pool: "etl", key: key("l1") },
      { pool: "etl", key: key("elsewhere") }
    ]
    const pools = Views.clusterPoolInstances(all, members, "m1:3306", "")
    expect([...pools.entries()].map(([p, ks]) => [p, ks.map((k) => k.hostname)])).toEqual([["etl", ["l1"]], ["web", ["leaf", "leaf2"]]])
    expect([...Views.clusterPoolInstances(all, members, "m1:3306", "web").keys()]).toEqual(["web"])
    const lagging = { ...leaf2, replicationLagSeconds: 7 }
    const pooled = Views.heuristicClusterPoolInstances([...all.filter((i) => i !== leaf2), lagging], members, "m1:3306", "web")
    expect(pooled.map((i) => i.key.hostname)).toEqual(["leaf", "leaf2"])
    expect(Views.maxLag(pooled)).toBe(7)
    expect(Views.maxLag([])).toBe("No instances found in GetInstancesMaxLag")
    expect(Views.heuristicClusterPoolInstances(all, members, "m1:3306", "none")).toEqual([])
  })
  it("topology-tags appends each instance's tags after its description", () => {
    const r = replica("r1", m, stopped)
    const text = Views.asciiTopology([m, r], false, {
      now: Date.now(),
      instancePollSeconds: 5,
      reasonableMaintenanceReplicationLagSeconds: 20,
      downtime: () => null,
      tags: (i) => (i.key.hostname === "m1" ? ["role=primary", "dc"] : [])
    })
    const [first, second] = text.split("\n")
    expect(first).toMatch(/^m1:3306 +\[.*\] \[role=primary,dc\]$/)
    expect(second).toMatch(/^- r1:3306 +\[.*\] \[\]$/)
  })
})

describe("the control routes in the API table", () => {
  const match = makeRouter(routes)
  it("every -slave path has its -replica synonym; mutations are leader-only writes, forwarded by followers", () => {
    const mutating = [
      "start-slave", "restart-slave", "stop-slave", "stop-slave-nice", "reset-slave", "detach-slave", "reattach-slave",
      "detach-slave-master-host", "reattach-slave-master-host"
    ].flatMap((p) => [p, p.replace("slave", "replica")]).concat([
      "skip-query", "set-read-only", "set-writeable", "flush-binary-logs", "enable-semi-sync-master", "disable-semi-sync-master",
      "enable-semi-sync-replica", "disable-semi-sync-replica", "enable-gtid", "disable-gtid", "gtid-errant-reset-master",
      "gtid-errant-inject-empty"
    ])
    for (const p of mutating) {
      const m = match(`${p}/db1/3306`)
      expect(m?.route, p).toMatchObject({ proxy: true, access: "write" })
      expect(m?.rawParams).toEqual({ host: "db1", port: "3306" })
    }
    expect(match("kill-query/db1/3306/17")?.route).toMatchObject({ name: "killQuery", access: "write" })
    expect(match("purge-binary-logs/db1/3306/mysql-bin.000002")?.rawParams).toMatchObject({ logFile: "mysql-bin.000002" })
    expect(match("delay-replication/db1/3306/60")?.route).toMatchObject({ name: "delayReplication", access: "write" })
    // Reads, though orchestrator guards some of them as actions: open to read-only users, retried as reads.
    for (const p of [
      "locate-gtid-errant/db1/3306", "can-replicate-from/a/1/b/2", "can-replicate-from-gtid/a/1/b/2", "resolve/a/1",
      "restart-slave-statements/a/1", "restart-replica-statements/a/1", "bulk-instances", "bulk-promotion-rules",
      "cluster-pool-instances/c", "heuristic-cluster-pool-instances/c/p", "heuristic-cluster-pool-lag/c"
    ]) {
      expect(match(p)?.route, p).toMatchObject({ proxy: true, access: "read" })
    }
    expect(match("headers")?.route).toMatchObject({ proxy: false, access: "read" })
    expect(match("reset-hostname-resolve-cache")?.route).toMatchObject({ proxy: false, access: "write" })
    expect(match("cluster-osc-slaves/c1")?.route.name).toBe("clusterOscSlaves")
    expect(match("topology-tags/db1/3306")?.route.name).toBe("topologyTagsByInstance")
    expect(match("heuristic-cluster-pool-instances/c1/")?.route.name).toBe("heuristicClusterPoolInstances")
  })
})
