/**
 * The mysql2 Prober: runs core/topology's probe plan over one reusable connection per instance.
 *
 * Round trips for a healthy server (spec targets ≤ 3):
 *   warm (version known from the previous probe)  1 round trip  (+1 when an optional statement is needed)
 *   cold (first probe, or version changed)         2 round trips (+1 likewise)
 * Each round is one multi-statement COM_QUERY over the text protocol (no prepares). A round whose batch
 * fails with a statement error is re-run statement by statement to learn which one failed (ProbePlan).
 *
 * Replicas are listed from SHOW SLAVE HOSTS / SHOW REPLICAS (report_host/report_port) when it answers with
 * rows, else from the process list with this server's port (orchestrator). Orchestrator asks SHOW SLAVE
 * HOSTS only when DiscoverByShowSlaveHosts is set; here it is also asked, in an error-tolerant round, when
 * the process list shows binlog dump threads: on hosts shared by several servers (every MariaDB test
 * topology: 127.0.0.1 with distinct report_port) the process list alone cannot tell the replicas' ports.
 * Once it has answered for a server it joins that server's warm round, so a master stays at 1 round trip.
 */
import { Effect, Either, Layer } from "effect"
import { AppConfig } from "../../core/config/AppConfig.js"
import { type ProbeFailureKind, ProbeError, Prober, type ProbeRequest } from "../../core/discovery/Prober.js"
import type { Instance } from "../../core/topology/Instance.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import * as ProbeParse from "../../core/topology/probe/ProbeParse.js"
import * as ProbePlan from "../../core/topology/probe/ProbePlan.js"
import * as ProbeSql from "../../core/topology/probe/ProbeSql.js"
import type { RawResult } from "../../core/topology/probe/RawRow.js"
import * as ServerVersion from "../../core/topology/probe/ServerVersion.js"
import { asDriverError, type ConnectionOptions, Connections, type DriverError, isConnectionError, type Lease } from "./Connections.js"
import { topologyTls } from "./Tls.js"

export interface ProberOptions extends ConnectionOptions {
  readonly discoverByShowSlaveHosts: boolean
  /** User queries (orchestrator Detect*Query): first column of the first row, "" on error. */
  readonly detectQueries: {
    readonly clusterAlias: string
    readonly dataCenter: string
    readonly region: string
    readonly physicalEnvironment: string
    readonly instanceAlias: string
  }
  /** orchestrator ReplicationLagQuery: overrides Seconds_Behind_Master when set (see ProbeParse.lagFromQuery). */
  readonly replicationLagQuery: string
}

type Statement = { readonly id: string; readonly sql: string }

/** Per-instance hints learnt from earlier probes. */
interface Hints {
  version: string
  versionComment: string
  /** SHOW SLAVE HOSTS answered (without an error) last time. */
  replicaHostsOk: boolean
  /**
   * The replication-credentials statement was asked (a MySQL replica with its master info in a table) and
   * answered last time: it then joins the warm round, so such a replica stays at 1 round trip too.
   */
  credentialsOk: boolean
}

const errorOf = (e: DriverError): ProbeParse.StatementFailure =>
  ProbeParse.statementFailure(e.errno ?? 0, e.message, e.sqlState ?? "HY000")

/** Runs statements as one multi-statement query, falling back to one by one when the batch fails. */
const runRound = async (
  lease: Lease,
  statements: ReadonlyArray<Statement>
): Promise<Map<string, RawResult | ProbeParse.StatementFailure>> => {
  const out = new Map<string, RawResult | ProbeParse.StatementFailure>()
  if (statements.length === 0) return out
  try {
    const rows = await lease.query(statements.map((s) => s.sql).join(";\n"))
    const sets = (statements.length === 1 ? [rows] : rows) as ReadonlyArray<RawResult>
    statements.forEach((s, i) => out.set(s.id, sets[i] ?? []))
    return out
  } catch (e) {
    const d = asDriverError(e)
    if (isConnectionError(d)) throw e
  }
  for (const s of statements) {
    try {
      out.set(s.id, (await lease.query(s.sql)) as RawResult)
    } catch (e) {
      const d = asDriverError(e)
      if (isConnectionError(d)) throw e
      out.set(s.id, errorOf(d))
    }
  }
  return out
}

const classify = (d: DriverError): { readonly kind: ProbeFailureKind; readonly what: string } => {
  switch (d.code) {
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
      return { kind: "unknown-host", what: "unknown host" }
    case "ECONNREFUSED":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ECONNRESET":
    case "EPIPE":
    case "PROTOCOL_CONNECTION_LOST":
      return { kind: "unreachable", what: "cannot connect" }
    case "ETIMEDOUT":
      return { kind: "timeout", what: "no MySQL handshake within the connect timeout (hung, black-holed, or not a MySQL server)" }
    case "PROTOCOL_SEQUENCE_TIMEOUT":
      return { kind: "timeout", what: "query timed out (MySQLDiscoveryReadTimeoutSeconds)" }
    case "ER_ACCESS_DENIED_ERROR":
    case "ER_DBACCESS_DENIED_ERROR":
    case "ER_HOST_NOT_PRIVILEGED":
      return { kind: "access-denied", what: "access denied" }
  }
  if (d.errno === 1045 || d.errno === 1044 || d.errno === 1130) return { kind: "access-denied", what: "access denied" }
  if (d.errno !== undefined && d.errno > 0 && d.fatal !== true) return { kind: "query", what: "statement failed" }
  return { kind: "not-mysql", what: "not a MySQL server (protocol error)" }
}

const firstValue = (r: RawResult | ProbeParse.StatementFailure | undefined): string => {
  if (r === undefined || ProbeParse.isFailure(r)) return ""
  const row = r[0]
  if (row === undefined) return ""
  const v = Object.values(row)[0]
  return v === null || v === undefined ? "" : v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v)
}

export const make = (options: ProberOptions) =>
  Effect.gen(function*() {
    const connections = new Connections(options)
    const hints = new Map<string, Hints>()
    let trips = 0
    yield* Effect.addFinalizer(() => Effect.sync(() => connections.closeAll()))
    // Idle connections closed in the background (bounded memory: forgotten/unpolled instances hold nothing).
    yield* Effect.forkScoped(
      Effect.sync(() => connections.sweep()).pipe(
        Effect.delay(Math.max(1000, Math.floor(options.idleMs / 2))),
        Effect.forever
      )
    )

    const planOptions: ProbePlan.PlanOptions = {
      discoverByShowSlaveHosts: options.discoverByShowSlaveHosts,
      hasReplicationCredentialsQuery: false
    }
    const userQueries: ReadonlyArray<Statement> = [
      { id: "q:clusterAlias", sql: options.detectQueries.clusterAlias },
      { id: "q:dataCenter", sql: options.detectQueries.dataCenter },
      { id: "q:region", sql: options.detectQueries.region },
      { id: "q:physicalEnvironment", sql: options.detectQueries.physicalEnvironment },
      { id: "q:instanceAlias", sql: options.detectQueries.instanceAlias },
      // A query ending with ";" would leave an empty statement in the batch.
      { id: "q:replicationLag", sql: options.replicationLagQuery.trim().replace(/;+\s*$/, "") }
    ].filter((q) => q.sql.trim() !== "")

    /** A reused connection that turns out dead (server restarted while idle) is retried once on a new one. */
    const run = async (key: InstanceKey, previous: Instance | undefined): Promise<Instance> => {
      const started = Date.now()
      const lease = await connections.lease(key.hostname, key.port)
      try {
        return await runOn(lease, key, previous, started)
      } catch (e) {
        if (!lease.reused || e instanceof ProbeError || !isConnectionError(asDriverError(e))) throw e
        return await runOn(await connections.lease(key.hostname, key.port), key, previous, started)
      }
    }

    const runOn = async (lease: Lease, key: InstanceKey, previous: Instance | undefined, started: number) => {
      const id = `${key.hostname}:${key.port}`
      let broken = false
      try {
        const hint = hints.get(id) ?? (previous !== undefined && previous.version !== ""
          ? { version: previous.version, versionComment: previous.versionComment, replicaHostsOk: false, credentialsOk: false }
          : undefined)
        const results = new Map<string, RawResult | ProbeParse.StatementFailure>()
        const merge = (m: Map<string, RawResult | ProbeParse.StatementFailure>) => m.forEach((v, k) => results.set(k, v))
        const asResults = (): ProbeParse.ProbeResults => Object.fromEntries(results) as ProbeParse.ProbeResults
        let version: ServerVersion.ServerVersion | undefined
        if (hint !== undefined) {
          const assumed = ServerVersion.parse(hint.version, hint.versionComment)
          const round = [...ProbePlan.warmRound(assumed).statements]
          if (hint.replicaHostsOk) round.push({ id: "replicaHosts", sql: ProbePlan.replicaHostsSql(assumed) })
          if (hint.credentialsOk) round.push({ id: "replicationCredentials", sql: ProbeSql.SELECT_REPLICATION_CREDENTIALS })
          merge(await runRound(lease, round))
          version = ProbeParse.versionOf(asResults())
          if (version !== undefined && !ProbePlan.confirmsVersion(assumed, version)) {
            results.delete("replicaHosts")
            results.delete("replicationCredentials")
            merge(await runRound(lease, ProbePlan.flavourRound(version).statements))
          }
        } else {
          merge(await runRound(lease, ProbePlan.discoveryRound.statements))
          version = ProbeParse.versionOf(asResults())
          if (version !== undefined) merge(await runRound(lease, ProbePlan.flavourRound(version).statements))
        }
        if (version !== undefined) {
          const processlist = results.get("processlistReplicas")
          const dumpThreads = processlist !== undefined && !ProbeParse.isFailure(processlist) && processlist.length > 0
          const optional = ProbePlan.optionalRound(version, ProbeParse.optionalFacts(asResults()), {
            ...planOptions,
            discoverByShowSlaveHosts: planOptions.discoverByShowSlaveHosts || dumpThreads
          })
          // Asked in the warm round but no longer wanted (not a replica any more): as if never asked.
          if (results.has("replicationCredentials") && !(optional?.statements ?? []).some((s) => s.id === "replicationCredentials")) {
            results.delete("replicationCredentials")
          }
          const extra = [...(optional?.statements ?? []).filter((s) => !results.has(s.id)), ...userQueries]
          merge(await runRound(lease, extra))
        }
        const now = Date.now()
        const assembled = ProbeParse.assemble(asResults(), {
          key,
          now,
          latencyMs: now - started,
          // The key is the address probed (docs/discovery.md): @@hostname is the same on every test server.
          hostnameResolve: "none",
          ...(previous === undefined ? {} : { previous })
        })
        if (assembled._tag === "Left") {
          const e = assembled.left
          throw new ProbeError({
            key,
            kind: "query",
            message: `${id}: ${e.message}${e.cause ? `: ${e.cause.message}` : ""}`,
            partialSuccess: e.partialSuccess,
            cause: e
          })
        }
        const q = (name: string) => firstValue(results.get(name))
        const i = assembled.right
        const hosts = results.get("replicaHosts")
        const credentials = results.get("replicationCredentials")
        hints.set(id, {
          version: i.version,
          versionComment: i.versionComment,
          replicaHostsOk: hosts !== undefined && !ProbeParse.isFailure(hosts),
          credentialsOk: credentials !== undefined && !ProbeParse.isFailure(credentials)
        })
        return {
          ...i,
          suggestedClusterAlias: options.detectQueries.clusterAlias !== "" ? q("q:clusterAlias") : i.suggestedClusterAlias,
          dataCenter: options.detectQueries.dataCenter !== "" ? q("q:dataCenter") : i.dataCenter,
          region: options.detectQueries.region !== "" ? q("q:region") : i.region,
          physicalEnvironment: options.detectQueries.physicalEnvironment !== ""
            ? q("q:physicalEnvironment")
            : i.physicalEnvironment,
          instanceAlias: options.detectQueries.instanceAlias !== "" ? q("q:instanceAlias") : i.instanceAlias,
          replicationLagSeconds: options.replicationLagQuery.trim() !== ""
            ? ProbeParse.lagFromQuery(results.get("q:replicationLag"), i.replicationLagSeconds)
            : i.replicationLagSeconds
        }
      } catch (e) {
        broken = !(e instanceof ProbeError)
        throw e
      } finally {
        trips += lease.trips()
        lease.release(broken)
      }
    }

    const failureOf = (key: InstanceKey, e: unknown): ProbeError => {
      if (e instanceof ProbeError) return e
      const d = asDriverError(e)
      const c = classify(d)
      return new ProbeError({
        key,
        kind: c.kind,
        message: `${key.hostname}:${key.port}: ${c.what}: ${d.message}`,
        partialSuccess: false,
        cause: e
      })
    }

    /** The polling hot path: a plain promise chain, no fiber per probe. */
    const probeCallback = (
      { key, previous }: ProbeRequest,
      done: (result: Either.Either<Instance, ProbeError>) => void
    ): void => {
      run(key, previous).then(
        (i) => done(Either.right(i)),
        (e: unknown) => done(Either.left(failureOf(key, e)))
      )
    }

    const probe = ({ key, previous }: ProbeRequest) =>
      Effect.async<Instance, ProbeError>((resume, signal) => {
        let interrupted = false
        signal.addEventListener("abort", () => {
          interrupted = true
        })
        run(key, previous).then(
          (i) => resume(Effect.succeed(i)),
          (e: unknown) => {
            if (!interrupted) resume(Effect.fail(failureOf(key, e)))
          }
        )
      })

    return Prober.of({
      probe,
      probeCallback,
      release: (key) =>
        Effect.sync(() => {
          const id = `${key.hostname}:${key.port}`
          connections.drop(id)
          hints.delete(id)
        }),
      roundTrips: Effect.sync(() => trips)
    })
  })

export const optionsFromConfig = (c: AppConfig["Type"]): ProberOptions => ({
  user: c.MySQLTopologyUser,
  password: c.MySQLTopologyPassword,
  connectTimeoutMs: c.MySQLConnectTimeoutSeconds * 1000,
  queryTimeoutMs: c.MySQLDiscoveryReadTimeoutSeconds * 1000,
  // Kept across polls (a warm probe is 1 round trip); closed when an instance is forgotten (`release`), or
  // after this long unused. Generous on purpose: when polling falls behind (a slow start-up round of
  // thousands of cold probes), a shorter idle limit closed connections that were about to be reused, every
  // probe then paid a handshake and polling fell further behind (measured at N = 10,000: 134 probes/s).
  idleMs: Math.max(120_000, c.InstancePollSeconds * 10_000),
  discoverByShowSlaveHosts: c.DiscoverByShowSlaveHosts,
  detectQueries: {
    clusterAlias: c.DetectClusterAliasQuery,
    dataCenter: c.DetectDataCenterQuery,
    region: c.DetectRegionQuery,
    physicalEnvironment: c.DetectPhysicalEnvironmentQuery,
    instanceAlias: c.DetectInstanceAliasQuery
  },
  replicationLagQuery: c.ReplicationLagQuery,
  tls: topologyTls(c)
})

export const layer = Layer.scoped(Prober, Effect.flatMap(AppConfig, (c) => make(optionsFromConfig(c))))
