/**
 * orchestrator's analysis codes, as an ordered rule table: the first rule whose condition holds names the
 * problem (go/inst/analysis_dao.go, the if / else-if chain of `GetReplicationAnalysis`). The array order
 * IS the precedence; a test checks it against orchestrator's chain. Descriptions are orchestrator's text.
 *
 * Abbreviations in comments (spec orchestrator-compat §4.2): M = is master, V = last check valid,
 * P = last check partial success, R = replicas, VR = valid replicas, VRR = valid replicating replicas,
 * FC = valid replicas failing to connect, LR = lagging replicas, DR = delayed replicas.
 */
import type { Instance } from "../topology/Instance.js"
import type { Counts } from "./Counts.js"
import type { AnalysisCode } from "./ReplicationAnalysis.js"
import type { AnalysisPolicy } from "./Snapshot.js"

export interface Facts {
  readonly c: Counts
  readonly i: Instance
  readonly policy: AnalysisPolicy
}

export interface Rule {
  readonly code: AnalysisCode
  readonly description: string
  readonly when: (f: Facts) => boolean
}

const rule = (code: AnalysisCode, description: string, when: (f: Facts) => boolean): Rule => ({ code, description, when })

/** Semi-sync master enabled and ON, waiting for more acks than it has clients. */
const semiSyncShort = ({ c, i }: Facts): boolean =>
  c.isMaster && i.semiSync.masterEnabled && i.semiSync.masterStatus && i.semiSync.masterWaitForReplicaCount > 0 &&
  i.semiSync.masterClients < i.semiSync.masterWaitForReplicaCount

// orchestrator's description texts (analysis_dao.go), shared where it repeats them.
const deadMasterText = "Master cannot be reached by orchestrator and none of its replicas is replicating"
const someUnreachable =
  "cannot be reached by orchestrator; some of its replicas are unreachable and none of its reachable replicas is replicating"

const deadMasterRules: ReadonlyArray<Rule> = [
  rule("DeadMasterWithoutReplicas", "Master cannot be reached by orchestrator and has no replica", ({ c }) =>
    c.isMaster && !c.lastCheckValid && c.countReplicas === 0),
  rule("DeadMaster", deadMasterText, ({ c }) =>
    c.isMaster && !c.lastCheckValid && c.countValidReplicas === c.countReplicas && c.countValidReplicatingReplicas === 0),
  rule("DeadMasterAndReplicas", deadMasterText, ({ c }) =>
    c.isMaster && !c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicas === 0 &&
    c.countValidReplicatingReplicas === 0),
  rule(
    "DeadMasterAndSomeReplicas",
    `Master ${someUnreachable}`,
    ({ c }) =>
      c.isMaster && !c.lastCheckValid && c.countValidReplicas < c.countReplicas && c.countValidReplicas > 0 &&
      c.countValidReplicatingReplicas === 0
  ),
  rule(
    "UnreachableMasterWithLaggingReplicas",
    "Master cannot be reached by orchestrator and all of its replicas are lagging",
    ({ c }) =>
      c.isMaster && !c.lastCheckValid && c.countLaggingReplicas === c.countReplicas &&
      c.countDelayedReplicas < c.countReplicas && c.countValidReplicatingReplicas > 0
  ),
  // "partial success is here to reduce noise": a probe that read the variables but failed later is not
  // enough to call the master unreachable, unless a replica also fails to connect (next rule).
  rule(
    "UnreachableMaster",
    "Master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
    ({ c }) =>
      c.isMaster && !c.lastCheckValid && !c.lastCheckPartialSuccess && c.countValidReplicas > 0 &&
      c.countValidReplicatingReplicas > 0
  ),
  rule(
    "UnreachableMaster",
    "Master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
    ({ c }) =>
      c.isMaster && !c.lastCheckValid && c.lastCheckPartialSuccess && c.countReplicasFailingToConnectToMaster > 0 &&
      c.countValidReplicas > 0 && c.countValidReplicatingReplicas > 0
  )
]

const masterRules: ReadonlyArray<Rule> = [
  // One semi-sync branch in orchestrator: "Locked" once the binlog coordinates are stale, else "Hypothesis".
  rule("LockedSemiSyncMaster", "Semi sync master is locked since it doesn't get enough replica acknowledgements", (f) =>
    semiSyncShort(f) && f.c.isStaleBinlogCoordinates),
  rule("LockedSemiSyncMasterHypothesis", "Semi sync master seems to be locked, more samplings needed to validate", (f) =>
    semiSyncShort(f) && !f.c.isStaleBinlogCoordinates),
  rule(
    "MasterWithTooManySemiSyncReplicas",
    "Semi sync master has more semi sync replicas than configured",
    ({ c, i, policy }) =>
      policy.enforceExactSemiSyncReplicas && c.isMaster && i.semiSync.masterEnabled && i.semiSync.masterStatus &&
      i.semiSync.masterWaitForReplicaCount > 0 && i.semiSync.masterClients > i.semiSync.masterWaitForReplicaCount
  ),
  rule("NoWriteableMasterStructureWarning", "Master with replicas is read_only", ({ c, i, policy }) =>
    c.isMaster && c.lastCheckValid && i.readOnly && c.countValidReplicatingReplicas > 0 && policy.recoverNonWriteableMaster),
  rule("MasterSingleReplicaNotReplicating", "Master is reachable but its single replica is not replicating", ({ c }) =>
    c.isMaster && c.lastCheckValid && c.countReplicas === 1 && c.countValidReplicas === c.countReplicas &&
    c.countValidReplicatingReplicas === 0),
  rule("MasterSingleReplicaDead", "Master is reachable but its single replica is dead", ({ c }) =>
    c.isMaster && c.lastCheckValid && c.countReplicas === 1 && c.countValidReplicas === 0),
  rule("AllMasterReplicasNotReplicating", "Master is reachable but none of its replicas is replicating", ({ c }) =>
    c.isMaster && c.lastCheckValid && c.countReplicas > 1 && c.countValidReplicas === c.countReplicas &&
    c.countValidReplicatingReplicas === 0),
  rule("AllMasterReplicasNotReplicatingOrDead", "Master is reachable but none of its replicas is replicating", ({ c }) =>
    c.isMaster && c.lastCheckValid && c.countReplicas > 1 && c.countValidReplicas < c.countReplicas &&
    c.countValidReplicas > 0 && c.countValidReplicatingReplicas === 0)
]

const coMasterRules: ReadonlyArray<Rule> = [
  rule("DeadCoMaster", "Co-master cannot be reached by orchestrator and none of its replicas is replicating", ({ c }) =>
    c.isCoMaster && !c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicas === c.countReplicas &&
    c.countValidReplicatingReplicas === 0),
  rule(
    "DeadCoMasterAndSomeReplicas",
    `Co-master ${someUnreachable}`,
    ({ c }) =>
      c.isCoMaster && !c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicas < c.countReplicas &&
      c.countValidReplicas > 0 && c.countValidReplicatingReplicas === 0
  ),
  rule(
    "UnreachableCoMaster",
    "Co-master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
    ({ c }) =>
      c.isCoMaster && !c.lastCheckValid && !c.lastCheckPartialSuccess && c.countValidReplicas > 0 &&
      c.countValidReplicatingReplicas > 0
  ),
  rule("AllCoMasterReplicasNotReplicating", "Co-master is reachable but none of its replicas is replicating", ({ c }) =>
    c.isCoMaster && c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicatingReplicas === 0)
]

const intermediateMasterRules: ReadonlyArray<Rule> = [
  rule(
    "DeadIntermediateMasterWithSingleReplicaFailingToConnect",
    "Intermediate master cannot be reached by orchestrator and its (single) replica is failing to connect",
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && c.countReplicas === 1 && c.countValidReplicas === c.countReplicas &&
      c.countReplicasFailingToConnectToMaster === c.countReplicas && c.countValidReplicatingReplicas === 0
  ),
  rule(
    "DeadIntermediateMasterWithSingleReplica",
    "Intermediate master cannot be reached by orchestrator and its (single) replica is not replicating",
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && c.countReplicas === 1 && c.countValidReplicas === c.countReplicas &&
      c.countValidReplicatingReplicas === 0
  ),
  rule(
    "DeadIntermediateMaster",
    "Intermediate master cannot be reached by orchestrator and none of its replicas is replicating",
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && c.countReplicas > 1 && c.countValidReplicas === c.countReplicas &&
      c.countValidReplicatingReplicas === 0
  ),
  rule(
    "DeadIntermediateMasterAndSomeReplicas",
    `Intermediate master ${someUnreachable}`,
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && c.countValidReplicas < c.countReplicas && c.countValidReplicas > 0 &&
      c.countValidReplicatingReplicas === 0
  ),
  rule(
    "DeadIntermediateMasterAndReplicas",
    "Intermediate master cannot be reached by orchestrator and all of its replicas are unreachable",
    ({ c }) => !c.isMaster && !c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicas === 0
  ),
  rule(
    "UnreachableIntermediateMasterWithLaggingReplicas",
    "Intermediate master cannot be reached by orchestrator and all of its replicas are lagging",
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && c.countLaggingReplicas === c.countReplicas &&
      c.countDelayedReplicas < c.countReplicas && c.countValidReplicatingReplicas > 0
  ),
  rule(
    "UnreachableIntermediateMaster",
    "Intermediate master cannot be reached by orchestrator but it has replicating replicas; possibly a network/host issue",
    ({ c }) =>
      !c.isMaster && !c.lastCheckValid && !c.lastCheckPartialSuccess && c.countValidReplicas > 0 &&
      c.countValidReplicatingReplicas > 0
  ),
  // Needs at least two replicas: the intermediate master itself is reachable, so the conclusion rests on
  // replicas only — each either failing to connect (at least one) or dead.
  rule(
    "AllIntermediateMasterReplicasFailingToConnectOrDead",
    "Intermediate master is reachable but all of its replicas are failing to connect",
    ({ c }) =>
      !c.isMaster && c.lastCheckValid && c.countReplicas > 1 && c.countValidReplicatingReplicas === 0 &&
      c.countReplicasFailingToConnectToMaster > 0 && c.countReplicasFailingToConnectToMaster === c.countValidReplicas
  ),
  rule(
    "AllIntermediateMasterReplicasNotReplicating",
    "Intermediate master is reachable but none of its replicas is replicating",
    ({ c }) => !c.isMaster && c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicatingReplicas === 0
  )
]

const replicaRules: ReadonlyArray<Rule> = [
  rule("BinlogServerFailingToConnectToMaster", "Binlog server is unable to connect to its master", ({ c }) =>
    c.isBinlogServer && c.isFailingToConnectToMaster),
  rule(
    "FirstTierReplicaFailingToConnectToMaster",
    "1st tier replica (directly replicating from topology master) is unable to connect to the master",
    ({ c, i }) => i.replicationDepth === 1 && c.isFailingToConnectToMaster
  )
]

/** The chain for traditional (async / semi-sync) replication, in orchestrator's order. */
export const replicationRules: ReadonlyArray<Rule> = [
  ...deadMasterRules,
  ...masterRules,
  ...coMasterRules,
  ...intermediateMasterRules,
  ...replicaRules
]

/** The chain for group-replication members (orchestrator's separate else branch). */
export const groupMemberRules: ReadonlyArray<Rule> = [
  rule(
    "DeadReplicationGroupMemberWithReplicas",
    "Group member is unreachable and all its reachable replicas are not replicating",
    ({ c }) => !c.lastCheckValid && c.countReplicas > 0 && c.countValidReplicatingReplicas === 0
  )
]

export interface Classification {
  readonly code: AnalysisCode
  readonly description: string
}

/** First matching rule, or NoProblem. */
export const classify = (f: Facts): Classification => {
  const rules = f.c.isReplicationGroupMember ? groupMemberRules : replicationRules
  const hit = rules.find((r) => r.when(f))
  return hit === undefined ? { code: "NoProblem", description: "" } : { code: hit.code, description: hit.description }
}
