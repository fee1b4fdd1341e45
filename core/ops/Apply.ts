/**
 * Applies one committed op to this node's backend. Deterministic: the result depends only on the
 * backend's replicated tables and the op (no clock, no network), so all nodes converge. Local
 * follow-ups (probe a key, yield) are returned as reactions for the caller to run after commit.
 *
 * Idempotence across restarts comes from the caller: it applies entry N and records N as the
 * applied index in one transaction, and skips entries at or below the recorded index.
 */
import { Effect } from "effect"
import { Repository, type RepositoryError } from "../backend/Repository.js"
import type { Key, Op } from "./Op.js"

export type Reaction =
  | { readonly _tag: "Probe"; readonly key: Key }
  | { readonly _tag: "Forgotten"; readonly key: Key }
  | { readonly _tag: "Yield"; readonly exceptRaftAddress: string }
  | { readonly _tag: "YieldHint"; readonly hint: string }
  | { readonly _tag: "LeaderUri"; readonly uri: string; readonly raftAddress: string }

export const LEADER_URI_META = "leader-uri"

const none: ReadonlyArray<Reaction> = []

/** `index` is the op's raft log index: rows the op creates take it as their id (see ExplicitId). */
export const applyOp = (op: Op, index?: number): Effect.Effect<ReadonlyArray<Reaction>, RepositoryError, Repository> =>
  Effect.gen(function*() {
    const repo = yield* Repository
    switch (op._tag) {
      case "discover":
        return [{ _tag: "Probe", key: op.key }]
      case "forget":
        yield* repo.forgetInstance(op.key)
        return [{ _tag: "Forgotten", key: op.key }]
      case "forget-cluster": {
        // Every node stops polling the members (else its next probe would bring the rows back).
        const members = yield* repo.readClusterInstances(op.clusterName)
        yield* repo.forgetCluster(op.clusterName)
        return members.map((m): Reaction => ({ _tag: "Forgotten", key: { hostname: m.key.hostname, port: m.key.port } }))
      }
      case "begin-downtime":
        yield* repo.beginDowntime(op)
        return none
      case "end-downtime":
        yield* repo.endDowntime(op.key)
        return none
      case "begin-maintenance":
        yield* repo.beginMaintenance({ ...op, id: index })
        return none
      case "end-maintenance":
        if (op.maintenanceId !== null) yield* repo.endMaintenanceById(op.maintenanceId)
        else if (op.key !== null) yield* repo.endMaintenance(op.key)
        return none
      case "register-candidate":
        yield* repo.registerCandidate(op)
        return none
      case "ack-recovery":
        yield* repo.acknowledgeRecoveries(op.filter, { by: op.by, comment: op.comment, at: op.at })
        return none
      case "register-hostname-unresolve":
        yield* repo.registerHostnameUnresolve(op.hostname, op.unresolvedHostname, op.at)
        return none
      case "deregister-hostname-unresolve":
        yield* repo.deregisterHostnameUnresolve(op.hostname)
        return none
      case "submit-pool-instances":
        yield* repo.submitPool(op.pool, op.keys, op.at)
        return none
      case "put-key-value":
        yield* repo.putKV({ key: op.key, value: op.value }, op.at)
        return none
      case "put-instance-tag":
        yield* repo.putTag({ key: op.key, tagName: op.tagName, tagValue: op.tagValue })
        return none
      case "delete-instance-tag":
        yield* repo.deleteTag(op.key, op.tagName ?? undefined)
        return none
      case "set-cluster-alias-manual-override":
        yield* repo.setClusterAliasOverride(op.clusterName, op.alias)
        return none
      case "disable-global-recoveries":
        yield* repo.setGlobalRecoveriesDisabled(true)
        return none
      case "enable-global-recoveries":
        yield* repo.setGlobalRecoveriesDisabled(false)
        return none
      case "leader-uri":
        yield* repo.putMeta(LEADER_URI_META, op.uri)
        return [{ _tag: "LeaderUri", uri: op.uri, raftAddress: op.raftAddress }]
      case "yield":
        return [{ _tag: "Yield", exceptRaftAddress: op.raftAddress }]
      case "yield-hint":
        return [{ _tag: "YieldHint", hint: op.hint }]
      case "heartbeat":
        return none
      case "register-failure-detection":
        yield* repo.registerFailureDetection({ ...op.record, id: index })
        return none
      case "write-recovery":
        yield* repo.insertRecovery({ ...op.record, id: index })
        return none
      case "write-recovery-step":
        yield* repo.writeRecoveryStep({ recoveryUid: op.recoveryUid, auditAt: op.auditAt, message: op.message, id: index })
        return none
      case "resolve-recovery":
        yield* repo.resolveRecovery(op.uid, op.result)
        return none
    }
  })
