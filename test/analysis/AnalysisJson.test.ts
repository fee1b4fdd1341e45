/** orchestrator's ReplicationAnalysis JSON: keys, order, Go's nil/empty conventions, a full golden entry. */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { analyze } from "../../core/analysis/Analyze.js"
import * as AnalysisJson from "../../core/analysis/AnalysisJson.js"
import { analysisString } from "../../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { goJson } from "../../core/api/Envelope.js"
import { dead, failingToConnect, master, now, replica, sec } from "./fixtures.js"

/** go/inst/analysis.go `ReplicationAnalysis`, field by field (spec orchestrator-compat §2.13). */
const orchestratorKeys = [
  "AnalyzedInstanceKey", "AnalyzedInstanceMasterKey", "ClusterDetails", "AnalyzedInstanceDataCenter",
  "AnalyzedInstanceRegion", "AnalyzedInstancePhysicalEnvironment", "AnalyzedInstanceBinlogCoordinates", "IsMaster",
  "IsReplicationGroupMember", "IsCoMaster", "LastCheckValid", "LastCheckPartialSuccess", "CountReplicas",
  "CountValidReplicas", "CountValidReplicatingReplicas", "CountReplicasFailingToConnectToMaster",
  "CountDowntimedReplicas", "ReplicationDepth", "Replicas", "SlaveHosts", "IsFailingToConnectToMaster", "Analysis",
  "Description", "StructureAnalysis", "IsDowntimed", "IsReplicasDowntimed", "DowntimeEndTimestamp",
  "DowntimeRemainingSeconds", "IsBinlogServer", "PseudoGTIDImmediateTopology", "OracleGTIDImmediateTopology",
  "MariaDBGTIDImmediateTopology", "BinlogServerImmediateTopology", "SemiSyncMasterEnabled", "SemiSyncMasterStatus",
  "SemiSyncMasterWaitForReplicaCount", "SemiSyncMasterClients", "CountSemiSyncReplicasEnabled",
  "CountLoggingReplicas", "CountStatementBasedLoggingReplicas", "CountMixedBasedLoggingReplicas",
  "CountRowBasedLoggingReplicas", "CountDistinctMajorVersionsLoggingReplicas", "CountDelayedReplicas",
  "CountLaggingReplicas", "IsActionableRecovery", "ProcessingNodeHostname", "ProcessingNodeToken",
  "CountAdditionalAgreeingNodes", "StartActivePeriod", "SkippableDueToDowntime", "GTIDMode", "MinReplicaGTIDMode",
  "MaxReplicaGTIDMode", "MaxReplicaGTIDErrant", "CommandHint", "IsReadOnly"
]

const m = master()
const deadMasterSnapshot = () =>
  Snapshot.make({
    now,
    instances: [dead(m), replica("r2", m, failingToConnect), replica("r1", m, failingToConnect)],
    downtimes: [{ key: m.key, owner: "ops", reason: "test", beginTimestamp: now - 10 * sec, endTimestamp: now + 600 * sec }],
    clusterAliases: [{ clusterName: "m1:3306", alias: "main", manual: true }],
    processingNode: { hostname: "orc-1", token: "abc" },
    policy: { ...Snapshot.defaultAnalysisPolicy, recoverMasterClusterFilters: ["alias=main"] }
  })

describe("ReplicationAnalysis JSON", () => {
  const [entry] = analyze(deadMasterSnapshot(), { includeDowntimed: true })
  const json = AnalysisJson.encode(entry!)

  it("has orchestrator's keys in orchestrator's order", () => {
    expect(Object.keys(json)).toEqual(orchestratorKeys)
    expect(AnalysisJson.jsonKeys).toEqual(orchestratorKeys)
    expect(Object.keys(json.ClusterDetails)).toEqual([
      "ClusterName", "ClusterAlias", "ClusterDomain", "CountInstances", "HeuristicLag", "HasAutomatedMasterRecovery",
      "HasAutomatedIntermediateMasterRecovery"
    ])
  })

  it("follows Go's conventions: empty master key, sorted Replicas = SlaveHosts, null StructureAnalysis", () => {
    expect(json.AnalyzedInstanceMasterKey).toEqual({ Hostname: "", Port: 0 })
    expect(json.Replicas).toEqual([{ Hostname: "r1", Port: 3306 }, { Hostname: "r2", Port: 3306 }])
    expect(json.SlaveHosts).toEqual(json.Replicas)
    expect(json.StructureAnalysis).toBeNull()
    expect(json.DowntimeEndTimestamp).toBe("2026-11-25 19:17:31")
    expect(AnalysisJson.encode(entry!, { timestampFormat: "rfc3339" }).DowntimeEndTimestamp).toBe("2026-11-25T19:17:31Z")
    expect(json.ClusterDetails).toMatchObject({ ClusterAlias: "main", ClusterDomain: "m1:3306", HasAutomatedMasterRecovery: true })
    expect(analysisString(entry!)).toBe("DeadMaster")
  })

  it("decodes with its own schema (the SDK's view)", () => {
    expect(Schema.decodeUnknownSync(AnalysisJson.ReplicationAnalysisJson)(JSON.parse(goJson(json)))).toEqual(json)
  })

  it("golden: a downtimed DeadMaster", async () => {
    await expect(JSON.stringify(json, null, 2) + "\n").toMatchFileSnapshot("golden/dead-master.json")
  })
})
