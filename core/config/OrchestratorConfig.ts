/**
 * The orchestrator-style JSON configuration: every key orchestrator users put in
 * `orchestrator.conf.json`, with orchestrator's defaults (`go/config/config.go` `newConfiguration()`),
 * plus the keys this project adds (marked "ours").
 *
 * Adding a key is one line in `fields` below. Decoding is pure: the caller passes the file text,
 * its name and the environment (used for `${ENV_VAR}` expansion of credentials), and gets either
 * a config plus warnings, or a `ConfigError` whose message names the key and the expected form.
 */
import { Data, Either, ParseResult, Schema } from "effect"
import { locateJsonError } from "./JsonLocate.js"

const withMessage = <A, I>(schema: Schema.Schema<A, I>, expected: string) =>
  schema.annotations({ message: () => ({ message: `expected ${expected}`, override: true }) })

const Bool = withMessage(Schema.Boolean, "true or false")
const Str = withMessage(Schema.String, "a string")
const StrList = withMessage(Schema.Array(Schema.String), "a list of strings")
const PositiveInt = withMessage(Schema.Number.pipe(Schema.int(), Schema.positive()), "a positive integer")
const NonNegativeInt = withMessage(Schema.Number.pipe(Schema.int(), Schema.nonNegative()), "a non-negative integer")
const Port = withMessage(Schema.Number.pipe(Schema.int(), Schema.between(1, 65535)), "a port number (1-65535)")
/** orchestrator: any value containing "sqlite" selects SQLite; "mysql" selects MySQL. */
const BackendDB = withMessage(
  Schema.String.pipe(
    Schema.filter((s) => s.toLowerCase().includes("sqlite") || s.toLowerCase() === "mysql")
  ),
  "\"sqlite\" or \"mysql\""
)
/** `host:port` or `:port`, as Go's net.Listen accepts (the host part may be empty). */
const ListenAddress = withMessage(
  Schema.String.pipe(Schema.pattern(/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):([0-9]{1,5})$/)),
  "an address like \":3000\" or \"127.0.0.1:3000\""
)
const HttpUri = withMessage(
  Schema.String.pipe(Schema.pattern(/^$|^https?:\/\/[^/\s]+$/)),
  "\"\" or a URI like \"http://host:3000\" (scheme, host and port, no path)"
)

const opt = <A, I>(schema: Schema.Schema<A, I>, value: A) =>
  Schema.optionalWith(schema, { default: () => value, exact: true })

/** One line per key: `Key: opt(Schema, default)`. */
export const fields = {
  // General and HTTP
  Debug: opt(Bool, false),
  EnableSyslog: opt(Bool, false),
  ListenAddress: opt(ListenAddress, ":3000"),
  HTTPAdvertise: opt(HttpUri, ""),
  URLPrefix: opt(Str, ""),
  StatusEndpoint: opt(Str, "/api/status"),
  AuthenticationMethod: opt(
    withMessage(Schema.Literal("", "basic", "multi", "proxy", "token", "oauth"), "one of \"\", basic, multi, proxy, token, oauth"),
    ""
  ),
  HTTPAuthUser: opt(Str, ""),
  HTTPAuthPassword: opt(Str, ""),
  AuthUserHeader: opt(Str, "X-Forwarded-User"),
  PowerAuthUsers: opt(StrList, ["*"]),
  PowerAuthGroups: opt(StrList, []),
  ReadOnly: opt(Bool, false),
  MaxRequestBodyBytes: opt(PositiveInt, 1_048_576), // ours

  // Backend
  BackendDB: opt(BackendDB, "mysql"),
  SQLite3DataFile: opt(Str, ""),
  MySQLOrchestratorHost: opt(Str, ""),
  MySQLOrchestratorPort: opt(Port, 3306),
  MySQLOrchestratorDatabase: opt(Str, ""),
  MySQLOrchestratorUser: opt(Str, ""),
  MySQLOrchestratorPassword: opt(Str, ""),
  MySQLOrchestratorCredentialsConfigFile: opt(Str, ""),
  MySQLOrchestratorMaxPoolConnections: opt(PositiveInt, 128),
  MySQLOrchestratorReadTimeoutSeconds: opt(PositiveInt, 30),
  SkipOrchestratorDatabaseUpdate: opt(Bool, false),

  // Topology access
  MySQLTopologyUser: opt(Str, ""),
  MySQLTopologyPassword: opt(Str, ""),
  MySQLTopologyCredentialsConfigFile: opt(Str, ""),
  MySQLTopologyUseMutualTLS: opt(Bool, false),
  MySQLTopologyUseMixedTLS: opt(Bool, true),
  MySQLTopologySSLCAFile: opt(Str, ""),
  MySQLTopologySSLCertFile: opt(Str, ""),
  MySQLTopologySSLPrivateKeyFile: opt(Str, ""),
  MySQLTopologySSLSkipVerify: opt(Bool, false),
  MySQLReplicaUser: opt(Str, ""),
  MySQLReplicaPassword: opt(Str, ""),
  MySQLConnectTimeoutSeconds: opt(PositiveInt, 2),
  MySQLDiscoveryReadTimeoutSeconds: opt(PositiveInt, 10),
  MySQLTopologyReadTimeoutSeconds: opt(PositiveInt, 600),
  MySQLHostnameResolveMethod: opt(Str, "@@hostname"),
  HostnameResolveMethod: opt(Str, "default"),

  // Discovery and probing
  InstancePollSeconds: opt(PositiveInt, 5),
  MaintenanceExpireMinutes: opt(PositiveInt, 10),
  MasterPollMillis: opt(NonNegativeInt, 1000), // ours: masters with replicas are probed at least this often; 0 = InstancePollSeconds
  ReasonableInstanceCheckSeconds: opt(PositiveInt, 1),
  DiscoveryMaxConcurrency: opt(PositiveInt, 300),
  DiscoveryQueueCapacity: opt(PositiveInt, 100_000),
  DiscoverySeeds: opt(StrList, []),
  DiscoverByShowSlaveHosts: opt(Bool, false),
  DiscoveryBackoffMaxSeconds: opt(PositiveInt, 20), // ours
  UnseenInstanceForgetHours: opt(PositiveInt, 240),
  SkipMaxScaleCheck: opt(Bool, true),
  DataCenterPattern: opt(Str, ""),
  RegionPattern: opt(Str, ""),
  PhysicalEnvironmentPattern: opt(Str, ""),
  DetectDataCenterQuery: opt(Str, ""),
  DetectRegionQuery: opt(Str, ""),
  DetectPhysicalEnvironmentQuery: opt(Str, ""),
  DetectClusterAliasQuery: opt(Str, ""),
  DetectClusterDomainQuery: opt(Str, ""),
  DetectInstanceAliasQuery: opt(Str, ""),
  DetectPromotionRuleQuery: opt(Str, ""),
  DetectSemiSyncEnforcedQuery: opt(Str, ""),
  ReplicationLagQuery: opt(Str, ""),
  ReasonableReplicationLagSeconds: opt(PositiveInt, 10),
  ReasonableMaintenanceReplicationLagSeconds: opt(PositiveInt, 20),
  ReasonableLockedSemiSyncMasterSeconds: opt(NonNegativeInt, 0),

  // Raft
  RaftEnabled: opt(Bool, false),
  RaftDataDir: opt(Str, ""),
  RaftBind: opt(Str, "127.0.0.1:10008"),
  RaftAdvertise: opt(Str, ""),
  DefaultRaftPort: opt(Port, 10008),
  RaftNodes: opt(StrList, []),
  RaftAuthSecret: opt(Str, ""), // ours: shared secret for the raft transport handshake
  RaftAuthSecretFile: opt(Str, ""), // ours: file holding that secret (preferred over the inline value)
  RaftTickMillis: opt(PositiveInt, 50), // ours
  RaftHeartbeatTicks: opt(PositiveInt, 2), // ours
  RaftElectionTicks: opt(PositiveInt, 6), // ours
  RaftTrailingLogs: opt(PositiveInt, 10_240),
  RaftSnapshotThreshold: opt(PositiveInt, 8192), // ours (orchestrator hard-codes 1)
  RaftSnapshotIntervalSeconds: opt(PositiveInt, 1800), // ours (orchestrator hard-codes 30 min)
  RaftJoinTimeoutSeconds: opt(NonNegativeInt, 60), // ours: a never-joined node exits after this; 0 = never
  RaftRetainSnapshots: opt(PositiveInt, 3), // ours (orchestrator keeps 10)
  RaftMaxFrameBytes: opt(PositiveInt, 16 * 1024 * 1024), // ours: larger raft frames close the connection

  // Failure detection and recovery
  ExpectFailureAnalysisConcensus: opt(Bool, true), // orchestrator: dead key; ours: quorum-agreed detection
  ConsensusPeerHttpUris: opt(StrList, []), // ours: HTTP URIs of the other raft nodes for quorum-agreed detection
  RecoveryPeriodBlockSeconds: opt(NonNegativeInt, 3600),
  RecoveryPeriodBlockMinutes: opt(NonNegativeInt, 60),
  FailureDetectionPeriodBlockMinutes: opt(NonNegativeInt, 60),
  RecoverMasterClusterFilters: opt(StrList, []),
  RecoverIntermediateMasterClusterFilters: opt(StrList, []),
  RecoveryIgnoreHostnameFilters: opt(StrList, []),
  PromotionIgnoreHostnameFilters: opt(StrList, []),
  DetachLostReplicasAfterMasterFailover: opt(Bool, true),
  DetachLostSlavesAfterMasterFailover: opt(Bool, true),
  ApplyMySQLPromotionAfterMasterFailover: opt(Bool, true),
  FailMasterPromotionIfSQLThreadNotUpToDate: opt(Bool, false),
  DelayMasterPromotionIfSQLThreadNotUpToDate: opt(Bool, false),
  FailMasterPromotionOnLagMinutes: opt(NonNegativeInt, 0),
  PreventCrossDataCenterMasterFailover: opt(Bool, false),
  PreventCrossRegionMasterFailover: opt(Bool, false),
  CoMasterRecoveryMustPromoteOtherCoMaster: opt(Bool, true),
  MasterFailoverDetachReplicaMasterHost: opt(Bool, false),
  MasterFailoverLostInstancesDowntimeMinutes: opt(NonNegativeInt, 0),
  RecoverNonWriteableMaster: opt(Bool, false),
  CandidateInstanceExpireMinutes: opt(PositiveInt, 60),
  ReduceReplicationAnalysisCount: opt(Bool, true),
  KVClusterMasterPrefix: opt(Str, "mysql/master/"),
  ProcessesShellCommand: opt(Str, "bash"),
  OnFailureDetectionProcesses: opt(StrList, []),
  PreFailoverProcesses: opt(StrList, []),
  PostFailoverProcesses: opt(StrList, []),
  PostUnsuccessfulFailoverProcesses: opt(StrList, []),
  PostMasterFailoverProcesses: opt(StrList, []),
  PostIntermediateMasterFailoverProcesses: opt(StrList, []),
  PreGracefulTakeoverProcesses: opt(StrList, []),
  PostGracefulTakeoverProcesses: opt(StrList, []),
  PostTakeMasterProcesses: opt(StrList, [])
}

export const OrchestratorConfig = Schema.Struct(fields)
export type OrchestratorConfig = typeof OrchestratorConfig.Type

/** Keys whose `${ENV_VAR}` form is expanded from the environment (credentials and hosts, as orchestrator does). */
export const envExpandedKeys = [
  "MySQLOrchestratorHost",
  "MySQLOrchestratorDatabase",
  "MySQLOrchestratorUser",
  "MySQLOrchestratorPassword",
  "MySQLTopologyUser",
  "MySQLTopologyPassword",
  "MySQLReplicaUser",
  "MySQLReplicaPassword",
  "HTTPAuthUser",
  "HTTPAuthPassword",
  "RaftAuthSecret"
] as const satisfies ReadonlyArray<keyof OrchestratorConfig>

export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly message: string }> {}

export interface LoadedConfig {
  readonly config: OrchestratorConfig
  /** Keys present in the file that this version does not know (orchestrator configs carry many). */
  readonly unknownKeys: ReadonlyArray<string>
}

const describe = (value: unknown): string => {
  const s = JSON.stringify(value)
  return s === undefined ? String(value) : s.length > 60 ? s.slice(0, 57) + "..." : s
}

const formatIssues = (fileName: string, input: Record<string, unknown>, error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const lines = issues.map((issue) => {
    const key = issue.path.map(String).join(".")
    const top = issue.path[0]
    const got = top !== undefined && typeof top === "string" ? ` (got ${describe(input[top])})` : ""
    return `  ${key}: ${issue.message}${got}`
  })
  return `invalid configuration in ${fileName}:\n${lines.join("\n")}`
}

const expandEnv = (
  fileName: string,
  config: OrchestratorConfig,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<OrchestratorConfig, ConfigError> => {
  const out: Record<string, unknown> = { ...config }
  for (const key of envExpandedKeys) {
    const value = config[key]
    const m = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value)
    if (m) {
      const resolved = env[m[1]!]
      if (resolved === undefined) {
        return Either.left(
          new ConfigError({ message: `invalid configuration in ${fileName}:\n  ${key}: environment variable ${m[1]} is not set` })
        )
      }
      out[key] = resolved
    }
  }
  return Either.right(out as OrchestratorConfig)
}

/** Rules that span keys, checked after each key decoded on its own. */
const crossChecks = (c: OrchestratorConfig): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (c.BackendDB.toLowerCase().includes("sqlite") && c.SQLite3DataFile === "") {
    problems.push("SQLite3DataFile: required when BackendDB is sqlite (a file path, or \":memory:\")")
  }
  if (c.BackendDB === "mysql" && c.MySQLOrchestratorHost === "") {
    problems.push("MySQLOrchestratorHost: required when BackendDB is mysql")
  }
  if (c.BackendDB === "mysql" && c.MySQLOrchestratorDatabase === "") {
    problems.push("MySQLOrchestratorDatabase: required when BackendDB is mysql")
  }
  if (c.RaftEnabled && c.RaftDataDir === "") {
    problems.push("RaftDataDir: must be defined since raft is enabled (RaftEnabled)")
  }
  if (c.FailMasterPromotionIfSQLThreadNotUpToDate && c.DelayMasterPromotionIfSQLThreadNotUpToDate) {
    problems.push(
      "FailMasterPromotionIfSQLThreadNotUpToDate: cannot be true together with DelayMasterPromotionIfSQLThreadNotUpToDate"
    )
  }
  if (c.FailMasterPromotionOnLagMinutes > 0 && c.ReplicationLagQuery.trim() === "") {
    // orchestrator's rule: after a master dies, Seconds_Behind_Master is NULL, so only a query can tell the lag.
    problems.push("FailMasterPromotionOnLagMinutes: nonzero requires ReplicationLagQuery to be set")
  }
  if (c.RaftHeartbeatTicks >= c.RaftElectionTicks) {
    problems.push("RaftHeartbeatTicks: must be smaller than RaftElectionTicks")
  }
  if (c.RaftElectionTicks < 3) {
    problems.push("RaftElectionTicks: must be at least 3 (the leader lease is RaftElectionTicks - 2 ticks)")
  }
  return problems
}

/** Decodes an orchestrator-style JSON config file's text. Pure. */
export const decodeConfig = (
  fileName: string,
  text: string,
  env: Readonly<Record<string, string | undefined>> = {}
): Either.Either<LoadedConfig, ConfigError> => {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    const where = locateJsonError(text)
    const pos = where
      ? `line ${where.line}, column ${where.column} (offset ${where.offset}): expected ${where.expected}`
      : "not valid JSON"
    return Either.left(new ConfigError({ message: `cannot parse config file ${fileName}: ${pos}` }))
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return Either.left(new ConfigError({ message: `cannot parse config file ${fileName}: expected a JSON object at the top level` }))
  }
  const input = raw as Record<string, unknown>
  const decoded = Schema.decodeUnknownEither(OrchestratorConfig, { errors: "all", onExcessProperty: "ignore" })(input)
  if (Either.isLeft(decoded)) {
    return Either.left(new ConfigError({ message: formatIssues(fileName, input, decoded.left) }))
  }
  return Either.flatMap(expandEnv(fileName, decoded.right, env), (config) => {
    const problems = crossChecks(config)
    if (problems.length > 0) {
      return Either.left(
        new ConfigError({ message: `invalid configuration in ${fileName}:\n${problems.map((p) => `  ${p}`).join("\n")}` })
      )
    }
    const known = new Set(Object.keys(fields))
    const unknownKeys = Object.keys(input).filter((k) => !known.has(k)).sort()
    return Either.right({ config, unknownKeys })
  })
}

/** The defaults alone (what an empty `{}` file means, before cross-key rules). */
export const defaults: OrchestratorConfig = Schema.decodeUnknownSync(OrchestratorConfig)({})

/** Parses ListenAddress (`:3000`, `127.0.0.1:3000`, `[::1]:3000`) into a host (undefined = all) and port. */
export const parseListenAddress = (address: string): { readonly host: string | undefined; readonly port: number } => {
  const i = address.lastIndexOf(":")
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, "$1")
  return { host: host === "" ? undefined : host, port: Number(address.slice(i + 1)) }
}
