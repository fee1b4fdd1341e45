/** Runs the pure analysis on a seeded snapshot and prints each entry as one readable line. */
import { analyze, type Hints } from "../../core/analysis/Analyze.js"
import type { ReplicationAnalysis } from "../../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import type { Instance } from "../../core/topology/Instance.js"
import { now } from "./fixtures.js"

export const summary = (a: ReplicationAnalysis): string => {
  const flags = [
    a.isDowntimed ? "downtimed" : "",
    a.isReplicasDowntimed ? "replicas-downtimed" : "",
    a.skippableDueToDowntime ? "skippable" : "",
    a.isActionableRecovery ? "actionable" : ""
  ].filter((f) => f !== "")
  const warnings = a.structureAnalysis.length === 0 ? "" : ` [${a.structureAnalysis.join(",")}]`
  const counts = `R=${a.countReplicas}/VR=${a.countValidReplicas}/VRR=${a.countValidReplicatingReplicas}` +
    `/FC=${a.countReplicasFailingToConnectToMaster}`
  return `${a.analyzedInstanceKey.hostname}:${a.analyzedInstanceKey.port} ${a.analysis}${warnings} ${counts}` +
    (flags.length === 0 ? "" : ` ${flags.join(",")}`)
}

export const run = (
  instances: ReadonlyArray<Instance>,
  extra: Partial<Snapshot.SnapshotInput> = {},
  hints: Hints = { includeDowntimed: true }
): ReadonlyArray<string> => analyze(Snapshot.make({ now, instances, ...extra }), hints).map(summary)

