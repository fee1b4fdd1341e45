/**
 * Parsers on rows captured from real mariadbd 10.11.19 servers (fixtures/mariadb-10.11.json, written by
 * fixtures/captureMariaDb.ts): a master with one semi-sync replica, the replica, and the replica repointed
 * to a closed port.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Model from "../../core/topology/Instance.js"
import * as Json from "../../core/topology/InstanceJson.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as ProbeParse from "../../core/topology/probe/ProbeParse.js"
import type { StatementId } from "../../core/topology/probe/ProbePlan.js"
import type { RawResult } from "../../core/topology/probe/RawRow.js"

interface Captured {
  readonly port: number
  readonly statements: Record<string, {
    readonly rows?: RawResult
    readonly error?: { readonly errno: number; readonly message: string }
  }>
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "mariadb-10.11.json"), "utf8")
) as Record<"master" | "replica" | "brokenReplica", Captured>

const planIds: ReadonlyArray<StatementId> = [
  "globals",
  "uptime",
  "semiSyncVariables",
  "semiSyncStatus",
  "flavourVariables",
  "binlogStatus",
  "replicaStatus",
  "processlistReplicas"
]

const resultsOf = (c: Captured, extra: ReadonlyArray<StatementId> = []): ProbeParse.ProbeResults => {
  const out: ProbeParse.ProbeResults = {}
  for (const id of [...planIds, ...extra]) {
    const s = c.statements[id]
    if (s?.rows !== undefined) out[id] = s.rows
    else if (s?.error !== undefined) out[id] = ProbeParse.statementFailure(s.error.errno, s.error.message)
  }
  return out
}

const now = Date.UTC(2026, 10, 25, 19, 7, 31)
const probe = (
  c: Captured,
  extra: ReadonlyArray<StatementId> = [],
  hostnameResolve: ProbeParse.HostnameResolve = "none"
) =>
  Either.getOrThrow(
    ProbeParse.assemble(resultsOf(c, extra), {
      key: Key.unsafeMake("127.0.0.1", c.port),
      now,
      latencyMs: 1.5,
      hostnameResolve
    })
  )
const jsonCtx: Json.JsonContext = { now: now + 2000, instancePollSeconds: 5, reasonableReplicationLagSeconds: 10 }

describe("MariaDB 10.11 probe parsing (captured rows)", () => {
  it("master", () => {
    const m = probe(fixture.master)
    const binlog = fixture.master.statements["binlogStatus"]!.rows![0]!
    expect(m.flavor).toBe("MariaDB")
    expect(m.version).toBe("10.11.19-MariaDB-0+deb12u1-log")
    expect(m.serverId).toBe(27311)
    expect(m.serverUuid).toBe("")
    expect(m.gtidMode).toBe("")
    expect(m.readOnly).toBe(false)
    expect(m.logBinEnabled).toBe(true)
    expect(m.logReplicationUpdatesEnabled).toBe(true)
    expect([m.binlogFormat, m.binlogRowImage]).toEqual(["ROW", "FULL"])
    expect(m.selfBinlogCoordinates).toEqual({ logFile: binlog["File"], logPos: binlog["Position"], type: "binary" })
    expect(m.mariadbGtid?.binlogPos).toMatch(/^0-27311-\d+$/)
    expect(m.mariadbGtid?.slavePos).toBe("")
    expect(m.mariadbGtid?.strictMode).toBe(true)
    expect(m.replication).toBeNull()
    expect(m.uptime).toBeGreaterThan(0)
    expect(m.semiSync).toEqual({
      available: true,
      priority: 0,
      masterEnabled: true,
      replicaEnabled: false,
      masterTimeoutMs: 10000,
      masterWaitForReplicaCount: 0,
      masterStatus: true,
      masterClients: 1,
      replicaStatus: false,
      naming: "master-slave"
    })
    // Orchestrator's process-list discovery assumes the replica listens on this instance's port; with every
    // test server on 127.0.0.1 that names the master itself, which is dropped (a server is never its own
    // replica). SHOW SLAVE HOSTS (next test) gives the real report_port.
    expect(m.replicas.map(Key.format)).toEqual([])
    expect(Model.isMaster(m)).toBe(true)
    expect(Model.isReplica(m)).toBe(false)
    expect(Model.replicationThreadsExist(m)).toBe(false)
  })

  it("master with SHOW SLAVE HOSTS (DiscoverByShowSlaveHosts) gets the report_port", () => {
    const m = probe(fixture.master, ["replicaHosts"])
    expect(m.replicas.map(Key.format)).toEqual(["127.0.0.1:27312"])
  })

  it("healthy GTID replica", () => {
    const r = probe(fixture.replica)
    const rep = r.replication!
    expect(r.readOnly).toBe(true)
    expect(Key.format(rep.masterKey!)).toBe("127.0.0.1:27311")
    expect([rep.ioRunning, rep.sqlRunning]).toEqual(["Yes", "Yes"])
    expect(rep.masterUser).toBe("repl")
    expect(rep.masterServerId).toBe(27311)
    expect(rep.masterUuid).toBeNull()
    expect(rep.usingGtid).toBe("Slave_Pos")
    expect(rep.gtidIoPos).toMatch(/^0-27311-\d+$/)
    expect(rep.autoPosition).toBe(false)
    expect(rep.secondsBehindMaster).toBe(0)
    expect(rep.relaylogCoordinates.type).toBe("relay")
    expect(rep.ioStateText).toBe("Waiting for master to send event")
    expect(r.replicationLagSeconds).toBe(0)
    expect(r.mariadbGtid?.slavePos).toBe(rep.gtidIoPos)
    expect(r.semiSync.replicaEnabled).toBe(true)
    expect(r.semiSync.replicaStatus).toBe(true)
    expect(Model.isReplica(r)).toBe(true)
    expect(Model.replicaRunning(r)).toBe(true)
    expect(Model.usingMariaDbGtid(r)).toBe(true)
    expect(Model.sqlThreadUpToDate(r)).toBe(true)

    const j = Json.encode(r, jsonCtx)
    expect(j.MasterKey).toEqual({ Hostname: "127.0.0.1", Port: 27311 })
    expect(j.MasterUUID).toBe("No") // GetStringD("Master_UUID", "No") on a server without the column
    expect(j.UsingMariaDBGTID).toBe(true)
    expect(j.UsingOracleGTID).toBe(false)
    expect([j.ReplicationSQLThreadState, j.ReplicationIOThreadState]).toEqual([1, 1])
    expect(j.SecondsBehindMaster).toEqual({ Int64: 0, Valid: true })
    expect(j.ExecutedGtidSet).toBe("")
    expect(j.Problems).toEqual([])
    expect(j.SemiSyncReplicaStatus).toBe(true)
  })

  it("replica that cannot connect (Slave_IO_Running: Connecting)", () => {
    const b = probe(fixture.brokenReplica)
    const rep = b.replication!
    expect(rep.ioRunning).toBe("Connecting")
    expect(rep.lastIoErrno).toBe(2003)
    expect(rep.lastIoError).toMatch(/^error connecting to master 'repl@127.0.0.1:27319'/)
    expect(rep.secondsBehindMaster).toBeNull()
    expect(rep.readBinlogCoordinates.logFile).toBe("")
    expect(Model.ioThreadState(b)).toBe("other")
    // No file read yet, but GTID replication: still a replica (orchestrator IsReplica).
    expect(Model.isReplica(b)).toBe(true)
    expect(Model.replicaRunning(b)).toBe(false)
    expect(Model.isFailingToConnectToMaster(b)).toBe(true)

    const j = Json.encode(b, jsonCtx)
    expect(j.ReplicationIOThreadState).toBe(2)
    expect(j.Slave_IO_Running).toBe(false)
    expect(j.ReplicationIOThreadRuning).toBe(false)
    expect(j.SecondsBehindMaster).toEqual({ Int64: 0, Valid: false })
    // Stored by orchestrator as strconv.QuoteToASCII(Last_IO_Error).
    expect(j.LastIOError).toBe(
      "\"error connecting to master 'repl@127.0.0.1:27319' - retry-time: 60  maximum-retries: 100000  message: " +
        "Can't connect to server on '127.0.0.1' (111 \\\"Connection refused\\\")\""
    )
    expect(j.Problems).toEqual(["not_replicating"])
  })

  it("hostname resolution: @@hostname is 'vm' on every instance (mariadb.md §3)", () => {
    expect(Key.format(probe(fixture.master, [], "hostname").key)).toBe("vm:27311")
    expect(Key.format(probe(fixture.master, [], "report_host").key)).toBe("127.0.0.1:27311")
  })

  it("the MySQL-only statements fail on MariaDB as captured", () => {
    expect(fixture.master.statements["mysqlVariables"]!.error?.errno).toBe(1193)
    expect(fixture.master.statements["binaryLogStatus"]!.error?.errno).toBe(1064)
    // SHOW REPLICA STATUS on MariaDB gives the same Master_*/Slave_* names (mariadb.md §3).
    expect(Object.keys(fixture.replica.statements["replicaStatusNewSyntax"]!.rows![0]!)).toEqual(
      Object.keys(fixture.replica.statements["replicaStatus"]!.rows![0]!)
    )
  })

  it("fails without global variables or replica status (orchestrator's goto Cleanup)", () => {
    const ctx = { key: Key.unsafeMake("127.0.0.1", 27311), now, latencyMs: 1, hostnameResolve: "none" as const }
    const denied = ProbeParse.statementFailure(1045, "denied")
    const noGlobals = ProbeParse.assemble({ ...resultsOf(fixture.master), globals: denied }, ctx)
    expect(Either.isLeft(noGlobals) && noGlobals.left.partialSuccess).toBe(false)
    const { replicaStatus: _, ...rest } = resultsOf(fixture.master)
    const noReplica = ProbeParse.assemble(rest, ctx)
    expect(Either.isLeft(noReplica) && noReplica.left.partialSuccess).toBe(true)
    expect(Either.isLeft(noReplica) && noReplica.left.statement).toBe("replicaStatus")
  })
})
