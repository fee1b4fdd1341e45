import { describe, expect, it } from "@effect/vitest"
import * as ProbePlan from "../../core/topology/probe/ProbePlan.js"
import * as Sql from "../../core/topology/probe/ProbeSql.js"
import * as ServerVersion from "../../core/topology/probe/ServerVersion.js"

const v = (text: string, comment = "") => ServerVersion.parse(text, comment)
const sqlOf = (round: ProbePlan.ProbeRound) => Object.fromEntries(round.statements.map((s) => [s.id, s.sql]))
const noFacts: ProbePlan.OptionalFacts = { isReplica: false, masterInfoOnTable: false, groupName: "" }

describe("ServerVersion", () => {
  it("detects flavours as orchestrator does", () => {
    expect(v("10.11.19-MariaDB-0+deb12u1-log").flavor).toBe("MariaDB")
    expect(v("5.5.5-10.11.19-MariaDB").minor).toBe(11)
    expect(v("8.0.36-28", "Percona Server (GPL), Release 28").flavor).toBe("Percona")
    expect(v("8.4.3").flavor).toBe("MySQL")
    expect(v("8.4.3").family).toBe("mysql")
  })
  it("gates", () => {
    expect(ServerVersion.hasReplicaStatements(v("8.0.21"))).toBe(false)
    expect(ServerVersion.hasReplicaStatements(v("8.0.22"))).toBe(true)
    expect(ServerVersion.hasBinaryLogStatus(v("8.1.0"))).toBe(false)
    expect(ServerVersion.hasBinaryLogStatus(v("8.2.0"))).toBe(true)
    expect(ServerVersion.rejectsSlaveMasterSyntax(v("8.4.0"))).toBe(true)
    expect(ServerVersion.hasReplicaStatements(v("10.11.19-MariaDB"))).toBe(false)
  })
})

describe("ProbePlan", () => {
  it("round 1 is version-agnostic", () => {
    expect(ProbePlan.discoveryRound.statements.map((s) => s.id)).toEqual([
      "globals",
      "uptime",
      "semiSyncVariables",
      "semiSyncStatus"
    ])
  })

  it("MariaDB 10.11 keeps SLAVE/MASTER statements and reads MariaDB GTID variables", () => {
    const r = sqlOf(ProbePlan.flavourRound(v("10.11.19-MariaDB-log")))
    expect(r).toEqual({
      flavourVariables: Sql.SELECT_MARIADB_VARIABLES,
      binlogStatus: "SHOW MASTER STATUS",
      replicaStatus: "SHOW SLAVE STATUS",
      processlistReplicas: Sql.SELECT_PROCESSLIST_REPLICAS
    })
  })

  it("MySQL 5.7 uses orchestrator's statements", () => {
    const r = sqlOf(ProbePlan.flavourRound(v("5.7.44-log")))
    expect(r["flavourVariables"]).toBe(Sql.SELECT_MYSQL57_VARIABLES)
    expect(r["replicaStatus"]).toBe("SHOW SLAVE STATUS")
    expect(r["binlogStatus"]).toBe("SHOW MASTER STATUS")
    expect(r["groupReplicationName"]).toBeUndefined()
  })

  it("MySQL 8.0.22+ switches to SHOW REPLICA STATUS, 8.0.26+ to log_replica_updates", () => {
    expect(sqlOf(ProbePlan.flavourRound(v("8.0.21")))["replicaStatus"]).toBe("SHOW SLAVE STATUS")
    expect(sqlOf(ProbePlan.flavourRound(v("8.0.22")))["replicaStatus"]).toBe("SHOW REPLICA STATUS")
    expect(sqlOf(ProbePlan.flavourRound(v("8.0.23")))["flavourVariables"]).toBe(Sql.SELECT_MYSQL8023_VARIABLES)
    const r = sqlOf(ProbePlan.flavourRound(v("8.0.36")))
    expect(r["flavourVariables"]).toBe(Sql.SELECT_MYSQL8026_VARIABLES)
    expect(r["binlogStatus"]).toBe("SHOW MASTER STATUS")
    expect(r["groupReplicationName"]).toBe(Sql.SHOW_VARIABLES_GROUP_NAME)
  })

  it("MySQL 8.4 uses no SLAVE/MASTER statement at all", () => {
    const round = ProbePlan.flavourRound(v("8.4.3"))
    const all = [...ProbePlan.discoveryRound.statements, ...round.statements].map((s) => s.sql.toUpperCase())
    for (const sql of all) {
      expect(sql).not.toMatch(/SHOW (SLAVE|MASTER)|@@GLOBAL\.(LOG_SLAVE_UPDATES|MASTER_INFO_REPOSITORY)/)
    }
    expect(sqlOf(round)["binlogStatus"]).toBe("SHOW BINARY LOG STATUS")
    const withHosts = { ...ProbePlan.defaultPlanOptions, discoverByShowSlaveHosts: true }
    const optional = ProbePlan.optionalRound(v("8.4.3"), noFacts, withHosts)
    expect(optional?.statements.map((s) => s.sql)).toEqual(["SHOW REPLICAS"])
  })

  it("round trips for a healthy server: ≤ 3 cold, ≤ 2 warm", () => {
    const mariadb = v("10.11.19-MariaDB-log")
    expect(ProbePlan.roundTrips(mariadb, { ...noFacts, isReplica: true })).toEqual({ cold: 2, warm: 1 })
    const m84 = v("8.4.3")
    expect(ProbePlan.roundTrips(m84, noFacts)).toEqual({ cold: 2, warm: 1 })
    // A MySQL replica whose master info is in a table also reads the credentials table.
    const mysqlReplica = { ...noFacts, isReplica: true, masterInfoOnTable: true }
    expect(ProbePlan.roundTrips(m84, mysqlReplica)).toEqual({ cold: 3, warm: 2 })
    // With ReplicationCredentialsQuery configured that read is skipped.
    expect(
      ProbePlan.roundTrips(m84, { ...noFacts, isReplica: true, masterInfoOnTable: true }, {
        discoverByShowSlaveHosts: false,
        hasReplicationCredentialsQuery: true
      })
    ).toEqual({ cold: 2, warm: 1 })
    // Group members are read only when the server is in a group; all optional statements share one round.
    const gr = ProbePlan.optionalRound(m84, { isReplica: true, masterInfoOnTable: true, groupName: "aaaa" })
    expect(gr?.statements.map((s) => s.id)).toEqual(["groupMembers", "replicationCredentials"])
  })

  it("warm round = discovery + flavour in one batch", () => {
    const round = ProbePlan.warmRound(v("8.0.36"))
    const flavour = ProbePlan.flavourRound(v("8.0.36"))
    expect(round.statements.length).toBe(ProbePlan.discoveryRound.statements.length + flavour.statements.length)
    expect(ProbePlan.batchSql(round).split(";\n").length).toBe(round.statements.length)
    expect(ProbePlan.confirmsVersion(v("8.0.36"), v("8.0.36", "MySQL Community Server - GPL"))).toBe(true)
    expect(ProbePlan.confirmsVersion(v("8.0.36"), v("8.4.3"))).toBe(false)
  })
})
