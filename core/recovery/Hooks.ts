/**
 * Recovery hooks (spec orchestrator-compat §4.6): the command lists of the configuration run through
 * `ProcessesShellCommand`, with orchestrator's `{placeholders}` substituted (`prepareCommand` in
 * go/logic/topology_recovery.go) and the same values in `ORC_*` environment variables. A trailing `&` runs
 * the command asynchronously and ignores its result. Placeholder filling is pure; running is a port
 * (`HookRunner`, implemented in adapters/recovery/ShellHookRunner.ts).
 */
import { Context, Data, type Effect } from "effect"
import type { OrchestratorConfig } from "../config/OrchestratorConfig.js"
import type { Hook } from "./Step.js"

export interface HookValues {
  readonly failureType: string
  readonly instanceType: string
  readonly isMaster: boolean
  readonly isCoMaster: boolean
  readonly failureDescription: string
  /** `force-master-failover`, `force-master-takeover`, `graceful-master-takeover` or "". */
  readonly command: string
  readonly failedHost: string
  readonly failedPort: number
  readonly failureCluster: string
  readonly failureClusterAlias: string
  readonly failureClusterDomain: string
  readonly countReplicas: number
  readonly isDowntimed: boolean
  readonly autoMasterRecovery: boolean
  readonly autoIntermediateMasterRecovery: boolean
  readonly orchestratorHost: string
  readonly recoveryUid: string
  readonly isSuccessful: boolean
  readonly successor: { readonly host: string; readonly port: number; readonly binlogCoordinates: string; readonly alias: string } | null
  readonly lostReplicas: ReadonlyArray<string>
  readonly replicaHosts: ReadonlyArray<string>
}

const b = (v: boolean) => String(v)

/** orchestrator's placeholders → values (successor ones only with a successor). */
export const placeholders = (v: HookValues): ReadonlyArray<readonly [string, string]> => [
  ["failureType", v.failureType],
  ["instanceType", v.instanceType],
  ["isMaster", b(v.isMaster)],
  ["isCoMaster", b(v.isCoMaster)],
  ["failureDescription", v.failureDescription],
  ["command", v.command],
  ["failedHost", v.failedHost],
  ["failedPort", String(v.failedPort)],
  ["failureCluster", v.failureCluster],
  ["failureClusterAlias", v.failureClusterAlias],
  ["failureClusterDomain", v.failureClusterDomain],
  ["countSlaves", String(v.countReplicas)],
  ["countReplicas", String(v.countReplicas)],
  ["isDowntimed", b(v.isDowntimed)],
  ["autoMasterRecovery", b(v.autoMasterRecovery)],
  ["autoIntermediateMasterRecovery", b(v.autoIntermediateMasterRecovery)],
  ["orchestratorHost", v.orchestratorHost],
  ["recoveryUID", v.recoveryUid],
  ["isSuccessful", b(v.isSuccessful)],
  ...(v.successor === null ? [] : [
    ["successorHost", v.successor.host],
    ["successorPort", String(v.successor.port)],
    ["successorBinlogCoordinates", v.successor.binlogCoordinates],
    ["successorAlias", v.successor.alias]
  ] as const),
  ["lostSlaves", v.lostReplicas.join(",")],
  ["lostReplicas", v.lostReplicas.join(",")],
  ["countLostReplicas", String(v.lostReplicas.length)],
  ["slaveHosts", v.replicaHosts.join(",")],
  ["replicaHosts", v.replicaHosts.join(",")]
]

/** `prepareCommand`: every `{name}` replaced (orchestrator uses strings.Replace on each placeholder). */
export const prepareCommand = (template: string, v: HookValues): string =>
  placeholders(v).reduce((cmd, [name, value]) => cmd.split(`{${name}}`).join(value), template)

/** `applyEnvironmentVariables`. */
export const environment = (v: HookValues): Record<string, string> => ({
  ORC_FAILURE_TYPE: v.failureType,
  ORC_INSTANCE_TYPE: v.instanceType,
  ORC_IS_MASTER: b(v.isMaster),
  ORC_IS_CO_MASTER: b(v.isCoMaster),
  ORC_FAILURE_DESCRIPTION: v.failureDescription,
  ORC_COMMAND: v.command,
  ORC_FAILED_HOST: v.failedHost,
  ORC_FAILED_PORT: String(v.failedPort),
  ORC_FAILURE_CLUSTER: v.failureCluster,
  ORC_FAILURE_CLUSTER_ALIAS: v.failureClusterAlias,
  ORC_FAILURE_CLUSTER_DOMAIN: v.failureClusterDomain,
  ORC_COUNT_REPLICAS: String(v.countReplicas),
  ORC_IS_DOWNTIMED: b(v.isDowntimed),
  ORC_AUTO_MASTER_RECOVERY: b(v.autoMasterRecovery),
  ORC_AUTO_INTERMEDIATE_MASTER_RECOVERY: b(v.autoIntermediateMasterRecovery),
  ORC_ORCHESTRATOR_HOST: v.orchestratorHost,
  ORC_IS_SUCCESSFUL: b(v.isSuccessful),
  ORC_LOST_REPLICAS: v.lostReplicas.join(","),
  ORC_REPLICA_HOSTS: v.replicaHosts.join(","),
  ORC_RECOVERY_UID: v.recoveryUid,
  ...(v.successor === null ? {} : {
    ORC_SUCCESSOR_HOST: v.successor.host,
    ORC_SUCCESSOR_PORT: String(v.successor.port),
    ORC_SUCCESSOR_BINLOG_COORDINATES: v.successor.binlogCoordinates,
    ORC_SUCCESSOR_ALIAS: v.successor.alias
  })
})

/** The configured commands of a hook list. */
export const commandsOf = (c: OrchestratorConfig, hook: Hook): ReadonlyArray<string> => {
  switch (hook) {
    case "OnFailureDetection":
      return c.OnFailureDetectionProcesses
    case "PreFailover":
      return c.PreFailoverProcesses
    case "PostMasterFailover":
      return c.PostMasterFailoverProcesses
    case "PostIntermediateMasterFailover":
      return c.PostIntermediateMasterFailoverProcesses
    case "PostFailover":
      return c.PostFailoverProcesses
    case "PostUnsuccessfulFailover":
      return c.PostUnsuccessfulFailoverProcesses
    case "PreGracefulTakeover":
      return c.PreGracefulTakeoverProcesses
    case "PostGracefulTakeover":
      return c.PostGracefulTakeoverProcesses
    case "PostTakeMaster":
      return c.PostTakeMasterProcesses
  }
}

/** A trailing `&` (orchestrator: async, errors ignored): the command without it, and whether it was there. */
export const asyncForm = (command: string): { readonly command: string; readonly async: boolean } => {
  const t = command.trimEnd()
  return t.endsWith("&") ? { command: t.slice(0, -1).trimEnd(), async: true } : { command, async: false }
}

export class HookError extends Data.TaggedError("HookError")<{
  readonly command: string
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message(): string {
    return `hook "${this.command}" failed: ${this.reason}`
  }
}

export class HookRunner extends Context.Tag("orchestrator/HookRunner")<HookRunner, {
  /**
   * Runs one prepared command with `shell -c` and the environment added. Fails on non-zero exit, spawn error
   * or timeout (the process is killed). `async` commands are started and not awaited.
   */
  readonly run: (
    shell: string,
    command: string,
    env: Readonly<Record<string, string>>,
    options: { readonly async: boolean; readonly timeoutMs: number }
  ) => Effect.Effect<void, HookError>
}>() {}
