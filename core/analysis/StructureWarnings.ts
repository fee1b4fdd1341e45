/**
 * orchestrator's structure warnings (go/inst/analysis_dao.go, "Moving on to structure analysis"):
 * properties of a master and its replicas that endanger a future promotion. They are computed for every
 * analyzed instance independently of its analysis code, and appended in this order.
 */
import type { Instance } from "../topology/Instance.js"
import type { Counts } from "./Counts.js"
import type { StructureCode } from "./ReplicationAnalysis.js"

export interface Topology {
  readonly oracleGtid: boolean
  readonly mariaDbGtid: boolean
  readonly binlogServer: boolean
  readonly pseudoGtid: boolean
}

/**
 * The `*ImmediateTopology` flags: every valid replica uses Oracle GTID / MariaDB GTID / is a binlog
 * server (and there is at least one valid replica); Pseudo-GTID is the master's own flag.
 */
export const immediateTopology = (c: Counts, i: Instance): Topology => {
  const all = (n: number) => n === c.countValidReplicas && c.countValidReplicas > 0
  return {
    oracleGtid: all(c.countValidOracleGtidReplicas),
    mariaDbGtid: all(c.countValidMariaDbGtidReplicas),
    binlogServer: all(c.countValidBinlogServerReplicas),
    pseudoGtid: i.usingPseudoGtid
  }
}

interface Check {
  readonly code: StructureCode
  readonly when: (c: Counts, i: Instance, t: Topology) => boolean
}

const checks: ReadonlyArray<Check> = [
  // No replica could take over as a master that keeps the others replicating.
  {
    code: "NoLoggingReplicasStructureWarning",
    when: (c) => c.isMaster && c.countLoggingReplicas === 0 && c.countReplicas > 1
  },
  {
    code: "NoFailoverSupportStructureWarning",
    when: (c, _i, t) =>
      c.isMaster && c.countReplicas > 1 && !t.oracleGtid && !t.mariaDbGtid && !t.binlogServer && !t.pseudoGtid
  },
  {
    code: "StatementAndMixedLoggingReplicasStructureWarning",
    when: (c) => c.isMaster && c.countStatementBasedLoggingReplicas > 0 && c.countMixedBasedLoggingReplicas > 0
  },
  {
    code: "StatementAndRowLoggingReplicasStructureWarning",
    when: (c) => c.isMaster && c.countStatementBasedLoggingReplicas > 0 && c.countRowBasedLoggingReplicas > 0
  },
  {
    code: "MixedAndRowLoggingReplicasStructureWarning",
    when: (c) => c.isMaster && c.countMixedBasedLoggingReplicas > 0 && c.countRowBasedLoggingReplicas > 0
  },
  {
    code: "MultipleMajorVersionsLoggingReplicasStructureWarning",
    when: (c) => c.isMaster && c.countDistinctMajorVersionsLoggingReplicas > 1
  },
  // Not master-only in orchestrator: an intermediate master with mixed GTID modes below it warns too.
  {
    code: "DifferentGTIDModesStructureWarning",
    when: (c, i) => c.countReplicas > 0 && (i.gtidMode !== c.minReplicaGtidMode || i.gtidMode !== c.maxReplicaGtidMode)
  },
  { code: "ErrantGTIDStructureWarning", when: (c) => c.maxReplicaGtidErrant !== "" },
  { code: "NoWriteableMasterStructureWarning", when: (c, i) => c.isMaster && i.readOnly },
  // Semi-sync enabled but already fell back to async (status OFF) for lack of acknowledging replicas.
  {
    code: "NotEnoughValidSemiSyncReplicasStructureWarning",
    when: (c, i) =>
      c.isMaster && i.semiSync.masterEnabled && !i.semiSync.masterStatus && i.semiSync.masterWaitForReplicaCount > 0 &&
      i.semiSync.masterClients < i.semiSync.masterWaitForReplicaCount
  }
]

export const structureWarnings = (c: Counts, i: Instance): ReadonlyArray<StructureCode> => {
  const t = immediateTopology(c, i)
  return checks.filter((k) => k.when(c, i, t)).map((k) => k.code)
}
