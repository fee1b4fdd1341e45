/**
 * A typed client of orchestrator's HTTP API over `fetch` only, so it runs unchanged in Node, Deno,
 * Bun and edge workers.
 *
 * Behaviour matched from orchestrator-client (`resources/bin/orchestrator-client`, spec §3):
 * - ORCHESTRATOR_API is one URL or a list; with a list the leader is the first node answering 200
 *   to `leader-check` within 1 s, else the first answering 200 to `routed-leader-check`; with one
 *   URL no check is made (it is a proxy or a single node).
 * - The JSON decides, not the HTTP status: an envelope with `Code: "ERROR"` is an error even with
 *   HTTP 200, and raw JSON (arrays, strings) is a success even with HTTP 500.
 * Differences, and why: the checks run concurrently (list order still decides, see `firstInOrder`),
 * the leader is cached across requests, and a failed request is retried at most once after
 * rediscovery — only when it is a read or provably was not applied (orchestrator-client re-sends
 * any request, mutations included, for ~11 s while the body is not JSON).
 */
import { Context, Duration, Effect, Fiber, Layer, Option, ParseResult, Ref, Schema } from "effect"
import { ApiError, type ClientError, Decode, NoLeader, Timeout, Transport } from "./Errors.js"
import { type InstanceKey, isMutation, keyPath, parseApiList, parseKey, path, routePath, segment } from "./Paths.js"
import {
  ClusterInfo,
  type Envelope,
  Instance,
  InstanceKeyJson,
  KVPair,
  ListOf,
  ReplicationAnalysis,
  TopologyRecovery
} from "./Shapes.js"

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface ClientOptions {
  /** ORCHESTRATOR_API: one URL or a list (spaces or commas); each is normalised to end in `/api`. */
  readonly api: string | ReadonlyArray<string>
  /** Basic auth (orchestrator's `AuthenticationMethod: basic|multi`). */
  readonly auth?: { readonly user: string; readonly password: string } | undefined
  /** Extra headers on every request, e.g. `{ "X-Forwarded-User": "alice" }` for `AuthenticationMethod: proxy`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Defaults to the global `fetch`. */
  readonly fetch?: FetchLike | undefined
  /** Deadline of one request, headers and body (default 60 s). */
  readonly timeoutMillis?: number | undefined
  /** Deadline of one leader check (default 1 s, as orchestrator-client's `curl -m 1`). */
  readonly leaderCheckTimeoutMillis?: number | undefined
  /** Pause before the single retry (default 200 ms: lets a proxy finish its immediate re-poll). */
  readonly retryDelayMillis?: number | undefined
  /** "concurrent" (default) or "sequential" leader checks; both pick the first 200 in list order. */
  readonly discovery?: "concurrent" | "sequential" | undefined
}

/** One answer, after the envelope check. `json` is the parsed body. */
export interface Reply {
  readonly url: string
  readonly api: string
  readonly status: number
  readonly json: unknown
}

export interface RequestOptions {
  /** Overrides the path-based classification (`isMutation`) for the retry rule. */
  readonly mutation?: boolean | undefined
  readonly timeoutMillis?: number | undefined
}

/** A cluster hint: a cluster name, an alias, or an instance of the cluster (sent as `host:port`). */
export type ClusterHint = string | InstanceKey
export type KeyInput = string | InstanceKey

export type RelocateCommand =
  | "relocate"
  | "relocate-below"
  | "move-below"
  | "move-equivalent"
  | "repoint"
  | "match"
  | "match-below"
  | "move-below-gtid"
export type RelocateReplicasCommand =
  | "relocate-replicas"
  | "move-replicas-gtid"
  | "match-replicas"
  | "move-up-replicas"
  | "match-up-replicas"
  | "repoint-replicas"
export type SingleRelocateCommand = "move-up" | "match-up" | "make-co-master" | "take-master" | "take-siblings"
export type InstanceCommand =
  | "stop-replica"
  | "stop-replica-nice"
  | "start-replica"
  | "restart-replica"
  | "reset-replica"
  | "detach-replica"
  | "reattach-replica"
  | "detach-replica-master-host"
  | "reattach-replica-master-host"
  | "skip-query"
  | "gtid-errant-reset-master"
  | "gtid-errant-inject-empty"
  | "enable-semi-sync-master"
  | "disable-semi-sync-master"
  | "enable-semi-sync-replica"
  | "disable-semi-sync-replica"
  | "set-read-only"
  | "set-writeable"
  | "flush-binary-logs"
  | "refresh"
export type PromotionRule = "prefer" | "neutral" | "prefer_not" | "must_not"

export interface OrchestratorClientApi {
  /** The normalised API URLs. */
  readonly apis: ReadonlyArray<string>
  /** The leader's API URL: cached, discovered on first use. */
  readonly leader: Effect.Effect<string, NoLeader | ApiError>
  /** Forgets the cached leader and discovers it again. */
  readonly rediscover: Effect.Effect<string, NoLeader | ApiError>
  /** GET `<leader>/api/<path>`; ERROR envelopes fail with ApiError. The retry rule applies. */
  readonly request: (path: string, options?: RequestOptions) => Effect.Effect<Reply, ClientError>
  /** `request` plus decoding of the whole JSON (raw JSON or envelope) with `schema` (default: unknown). */
  readonly get: <A = unknown, I = unknown>(
    path: string,
    schema?: Schema.Schema<A, I>,
    options?: RequestOptions
  ) => Effect.Effect<A, ClientError>
  /** `request` for an envelope route: fails with Decode when the JSON is not an envelope; decodes Details. */
  readonly envelope: <A = unknown, I = unknown>(
    path: string,
    details?: Schema.Schema<A, I>,
    options?: RequestOptions
  ) => Effect.Effect<Envelope<A>, ClientError>
  /** The status code of `<api>/leader-check` on one node (no retry, leader-check timeout). */
  readonly leaderCheck: (api: string) => Effect.Effect<number, Transport | Timeout>

  readonly health: Effect.Effect<Envelope<unknown>, ClientError>
  readonly instance: (key: KeyInput) => Effect.Effect<Instance, ClientError>
  readonly instanceReplicas: (key: KeyInput) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly allInstances: Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly masters: Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly master: (hint: ClusterHint) => Effect.Effect<Instance, ClientError>
  readonly cluster: (hint: ClusterHint) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly clusterOscReplicas: (hint: ClusterHint) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly downtimed: (hint?: ClusterHint) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly search: (text: string) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly clusters: Effect.Effect<ReadonlyArray<string>, ClientError>
  readonly clustersInfo: Effect.Effect<ReadonlyArray<ClusterInfo>, ClientError>
  readonly clusterInfo: (hint: ClusterHint) => Effect.Effect<ClusterInfo, ClientError>
  readonly topology: (
    hint: ClusterHint,
    variant?: "topology" | "topology-tabulated" | "topology-tags"
  ) => Effect.Effect<string, ClientError>
  readonly replicationAnalysis: (cluster?: string) => Effect.Effect<ReadonlyArray<ReplicationAnalysis>, ClientError>
  readonly discover: (key: KeyInput) => Effect.Effect<Instance, ClientError>
  readonly forget: (key: KeyInput) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly relocate: (
    command: RelocateCommand,
    key: KeyInput,
    below: KeyInput
  ) => Effect.Effect<Instance, ClientError>
  readonly relocateReplicas: (
    command: RelocateReplicasCommand,
    key: KeyInput,
    below?: KeyInput
  ) => Effect.Effect<ReadonlyArray<Instance>, ClientError>
  readonly relocateSingle: (command: SingleRelocateCommand, key: KeyInput) => Effect.Effect<Instance, ClientError>
  /** regroup-replicas: the most advanced eligible replica takes its siblings; answers the promoted replica's key. */
  readonly regroupReplicas: (key: KeyInput) => Effect.Effect<InstanceKeyJson, ClientError>
  readonly instanceCommand: (command: InstanceCommand, key: KeyInput) => Effect.Effect<Instance, ClientError>
  readonly beginDowntime: (args: {
    readonly key: KeyInput
    readonly owner: string
    readonly reason: string
    readonly duration?: string
  }) => Effect.Effect<InstanceKeyJson, ClientError>
  readonly endDowntime: (key: KeyInput) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly beginMaintenance: (args: {
    readonly key: KeyInput
    readonly owner: string
    readonly reason: string
  }) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly endMaintenance: (key: KeyInput) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly registerCandidate: (key: KeyInput, rule: PromotionRule) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly recover: (key: KeyInput, candidate?: KeyInput) => Effect.Effect<InstanceKeyJson, ClientError>
  readonly gracefulMasterTakeover: (
    hint: ClusterHint,
    designated?: KeyInput,
    options?: { readonly auto?: boolean }
  ) => Effect.Effect<TopologyRecovery, ClientError>
  readonly forceMasterFailover: (hint: ClusterHint) => Effect.Effect<TopologyRecovery, ClientError>
  readonly forceMasterTakeover: (hint: ClusterHint, designated: KeyInput) => Effect.Effect<TopologyRecovery, ClientError>
  readonly ackClusterRecoveries: (hint: ClusterHint, comment: string) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly ackAllRecoveries: (comment: string) => Effect.Effect<Envelope<unknown>, ClientError>
  readonly enableGlobalRecoveries: Effect.Effect<Envelope<unknown>, ClientError>
  readonly disableGlobalRecoveries: Effect.Effect<Envelope<unknown>, ClientError>
  readonly checkGlobalRecoveries: Effect.Effect<Envelope<unknown>, ClientError>
  readonly submitMastersToKvStores: (hint?: ClusterHint) => Effect.Effect<ReadonlyArray<KVPair>, ClientError>
  readonly raftState: Effect.Effect<string, ClientError>
  readonly raftLeader: Effect.Effect<string, ClientError>
  readonly raftHealth: Effect.Effect<string, ClientError>
}

export class OrchestratorClient extends Context.Tag("orchestrator/OrchestratorClient")<
  OrchestratorClient,
  OrchestratorClientApi
>() {}

const bodyExcerpt = (text: string) => (text.length > 512 ? `${text.slice(0, 512)}…` : text)

/** Structural look at a fetch failure: Node/undici and Bun put `code: "ECONNREFUSED"` on the cause, Deno says "Connection refused". */
const isRefused = (error: unknown): boolean => {
  let e: unknown = error
  for (let depth = 0; depth < 5 && typeof e === "object" && e !== null; depth++) {
    if ("code" in e && (e.code === "ECONNREFUSED" || e.code === "ConnectionRefused")) return true
    if ("message" in e && typeof e.message === "string" && /ECONNREFUSED|Connection refused/i.test(e.message)) return true
    e = "cause" in e ? e.cause : undefined
  }
  return false
}

const describe = (error: unknown): string => {
  const parts: Array<string> = []
  let e: unknown = error
  for (let depth = 0; depth < 5 && e !== undefined && e !== null; depth++) {
    if (typeof e === "object" && "message" in e && typeof e.message === "string") parts.push(e.message)
    else parts.push(String(e))
    e = typeof e === "object" && "cause" in e ? e.cause : undefined
  }
  return parts.filter((p) => p !== "").join(": ")
}

const hasCode = (json: unknown): json is { readonly Code: unknown; readonly Message?: unknown; readonly Details?: unknown } =>
  typeof json === "object" && json !== null && !Array.isArray(json) && "Code" in json

const toKey = (key: KeyInput): InstanceKey => {
  if (typeof key !== "string") return key
  return parseKey(key) ?? { hostname: key, port: 3306 }
}
const hintSegment = (hint: ClusterHint): string =>
  typeof hint === "string" ? segment(hint) : segment(`${hint.hostname}:${hint.port}`)

interface Decision {
  /** Worth another try on (maybe) another node. */
  readonly retryable: boolean
  /** The request is known not to have been applied: a mutation may be retried too. */
  readonly notApplied: boolean
  /** Only worth it if discovery finds a different node (the answer was a node's refusal). */
  readonly needsOtherNode: boolean
}

/**
 * The retry rule (docs/client.md). Reads are retried once after any failure that may be the
 * leader's (transport, timeout, 5xx without JSON, not-leader answers). A mutation is retried only
 * when the failure proves it was not applied: a refused connection (nothing was sent), the
 * proxy's 503 "no raft leader known" (not forwarded), or orchestrator's "Unauthorized" from a
 * node that turns out not to be the leader (`isAuthorizedForAction` runs before any action).
 */
export const decide = (error: ClientError, multiNode: boolean): Decision => {
  switch (error._tag) {
    case "Transport":
      return { retryable: true, notApplied: error.refused, needsOtherNode: false }
    case "Timeout":
      return { retryable: true, notApplied: false, needsOtherNode: false }
    case "Decode":
      return { retryable: error.status === 0 || error.status >= 500, notApplied: false, needsOtherNode: false }
    case "NoLeader":
      return { retryable: false, notApplied: true, needsOtherNode: false }
    case "ApiError": {
      if (error.status === 503 && error.message.startsWith("no raft leader known")) {
        return { retryable: true, notApplied: true, needsOtherNode: false }
      }
      if (error.message === "Unauthorized" && multiNode) {
        return { retryable: true, notApplied: true, needsOtherNode: true }
      }
      if (/not leader/i.test(error.message)) return { retryable: true, notApplied: false, needsOtherNode: false }
      return { retryable: false, notApplied: false, needsOtherNode: false }
    }
  }
}

export const make = (options: ClientOptions): Effect.Effect<OrchestratorClientApi> =>
  Effect.gen(function*() {
    const apis = parseApiList(options.api)
    const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    const timeoutMillis = options.timeoutMillis ?? 60_000
    const checkMillis = options.leaderCheckTimeoutMillis ?? 1_000
    const retryDelay = options.retryDelayMillis ?? 200
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers }
    if (options.auth !== undefined && (options.auth.user !== "" || options.auth.password !== "")) {
      headers["Authorization"] = `Basic ${btoa(`${options.auth.user}:${options.auth.password}`)}`
    }
    const cached = yield* Ref.make(Option.none<string>())

    /** One GET: status and body text, within `millis`. */
    const send = (url: string, millis: number) =>
      Effect.tryPromise({
        try: async (signal) => {
          const res = await fetchImpl(url, { method: "GET", headers, signal, redirect: "follow" })
          return { status: res.status, text: await res.text() }
        },
        catch: (cause) => new Transport({ url, refused: isRefused(cause), message: describe(cause), cause })
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(millis),
          onTimeout: () => new Timeout({ url, millis, message: `no answer from ${url} within ${millis} ms` })
        })
      )

    const leaderCheck = (api: string) => Effect.map(send(`${api}/leader-check`, checkMillis), (r) => r.status)

    /**
     * The first api, in list order, whose check answers 200. All checks start at once and the
     * answers are read in list order, so the result is the one orchestrator-client's sequential
     * loop would pick, in at most one check timeout instead of one per dead node.
     */
    const firstInOrder = (check: string) =>
      Effect.gen(function*() {
        const probe = (api: string) =>
          send(`${api}/${check}`, checkMillis).pipe(
            Effect.map((r) => r.status),
            Effect.orElseSucceed(() => 0)
          )
        if (options.discovery === "sequential") {
          const statuses: Array<number> = []
          for (const api of apis) {
            const status = yield* probe(api)
            if (status === 200) return { leader: Option.some(api), statuses }
            statuses.push(status)
          }
          return { leader: Option.none<string>(), statuses }
        }
        const fibers = yield* Effect.forEach(apis, (api) => Effect.fork(probe(api)))
        const statuses: Array<number> = []
        for (let i = 0; i < fibers.length; i++) {
          const status = yield* Fiber.join(fibers[i]!)
          if (status === 200) {
            yield* Fiber.interruptAll(fibers.slice(i + 1))
            return { leader: Option.some(apis[i]!), statuses }
          }
          statuses.push(status)
        }
        return { leader: Option.none<string>(), statuses }
      })

    const discoverNow: Effect.Effect<string, NoLeader | ApiError> = Effect.gen(function*() {
      if (apis.length === 0) {
        return yield* new NoLeader({ apis, message: "ORCHESTRATOR_API is empty" })
      }
      if (apis.length === 1) return apis[0]!
      const direct = yield* firstInOrder("leader-check")
      if (Option.isSome(direct.leader)) return direct.leader.value
      const routed = yield* firstInOrder("routed-leader-check")
      if (Option.isSome(routed.leader)) return routed.leader.value
      if ([...direct.statuses, ...routed.statuses].every((s) => s === 401)) {
        return yield* new ApiError({
          code: "ERROR",
          message: "Unauthorized",
          details: null,
          status: 401,
          url: `${apis[0]}/leader-check`
        })
      }
      return yield* new NoLeader({ apis, message: `Cannot determine leader from ${apis.join(" ")}` })
    }).pipe(Effect.tap((api) => Ref.set(cached, Option.some(api))))

    const leader = Effect.flatMap(Ref.get(cached), Option.match({ onNone: () => discoverNow, onSome: Effect.succeed }))
    const rediscover = Effect.zipRight(Ref.set(cached, Option.none()), discoverNow)

    /** One attempt against one api: the envelope rule of orchestrator-client's `api()`. */
    const attempt = (api: string, p: string, millis: number): Effect.Effect<Reply, ClientError> =>
      Effect.gen(function*() {
        const url = `${api}/${p.replace(/^\/+/, "")}`
        const { status, text } = yield* send(url, millis)
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch (cause) {
          if (status === 401) {
            return yield* new ApiError({ code: "ERROR", message: "Unauthorized", details: null, status, url })
          }
          return yield* new Decode({
            url,
            status,
            body: bodyExcerpt(text),
            message: `HTTP ${status} from ${url}: the body is not JSON`,
            cause
          })
        }
        if (hasCode(json) && json.Code === "ERROR") {
          return yield* new ApiError({
            code: "ERROR",
            message: typeof json.Message === "string" ? json.Message : String(json.Message),
            details: json.Details ?? null,
            status,
            url
          })
        }
        return { url, api, status, json }
      })

    const request = (p: string, opts?: RequestOptions): Effect.Effect<Reply, ClientError> =>
      Effect.gen(function*() {
        const millis = opts?.timeoutMillis ?? timeoutMillis
        const api = yield* leader
        const first = yield* Effect.either(attempt(api, p, millis))
        if (first._tag === "Right") return first.right
        const error = first.left
        const decision = decide(error, apis.length > 1)
        const mutation = opts?.mutation ?? isMutation(p)
        if (!decision.retryable || (mutation && !decision.notApplied)) {
          // A failure that may be the node's (dead, hung, deposed): even when this request is not
          // re-sent, the next one discovers the leader again rather than returning to that node —
          // else a client doing only mutations would stay on a hung former leader, timing out
          // forever, since only a retry rediscovers.
          if (decision.retryable) yield* Ref.set(cached, Option.none())
          return yield* error
        }
        if (decision.needsOtherNode) {
          const next = yield* Effect.either(rediscover)
          if (next._tag === "Left" || next.right === api) return yield* error
          return yield* attempt(next.right, p, millis)
        }
        yield* Ref.set(cached, Option.none())
        yield* Effect.sleep(Duration.millis(retryDelay))
        const next = yield* Effect.either(discoverNow)
        if (next._tag === "Left") return yield* error
        return yield* attempt(next.right, p, millis)
      })

    const decodeWith = <A, I>(url: string, status: number, schema: Schema.Schema<A, I>, value: unknown) =>
      Schema.decodeUnknown(schema, { onExcessProperty: "preserve" })(value).pipe(
        Effect.mapError(
          (e) =>
            new Decode({
              url,
              status,
              body: bodyExcerpt(JSON.stringify(value) ?? ""),
              message: `unexpected JSON from ${url}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`,
              cause: e
            })
        )
      )

    const get = <A = unknown, I = unknown>(p: string, schema?: Schema.Schema<A, I>, opts?: RequestOptions) =>
      Effect.flatMap(request(p, opts), (r) =>
        schema === undefined
          ? Effect.succeed(r.json as A)
          : decodeWith(r.url, r.status, schema, r.json))

    const envelope = <A = unknown, I = unknown>(p: string, details?: Schema.Schema<A, I>, opts?: RequestOptions) =>
      Effect.flatMap(request(p, opts), (r): Effect.Effect<Envelope<A>, Decode> => {
        if (!hasCode(r.json) || r.json.Code !== "OK" || typeof r.json.Message !== "string") {
          return Effect.fail(
            new Decode({
              url: r.url,
              status: r.status,
              body: bodyExcerpt(JSON.stringify(r.json) ?? ""),
              message: `expected an orchestrator envelope from ${r.url}`
            })
          )
        }
        const message = r.json.Message
        const raw = r.json.Details ?? null
        return details === undefined
          ? Effect.succeed({ Code: "OK", Message: message, Details: raw as A })
          : Effect.map(decodeWith(r.url, r.status, details, raw), (d) => ({ Code: "OK", Message: message, Details: d }))
      })

    const details = <A, I>(p: string, schema: Schema.Schema<A, I>, opts?: RequestOptions) =>
      Effect.map(envelope(p, schema, opts), (e) => e.Details)
    const kp = (key: KeyInput) => keyPath(toKey(key))
    const Instances = ListOf(Instance)
    const hintOrAll = (base: string, hint?: ClusterHint) => hint === undefined ? base : `${base}/${hintSegment(hint)}`

    return {
      apis,
      leader,
      rediscover,
      request,
      get,
      envelope,
      leaderCheck,
      health: envelope(routePath("health", {})),
      instance: (key) => get(`instance/${kp(key)}`, Instance),
      instanceReplicas: (key) => get(`instance-replicas/${kp(key)}`, Instances),
      allInstances: get("all-instances", Instances),
      masters: get("masters", Instances),
      master: (hint) => get(`master/${hintSegment(hint)}`, Instance),
      cluster: (hint) => get(`cluster/${hintSegment(hint)}`, Instances),
      clusterOscReplicas: (hint) => get(`cluster-osc-replicas/${hintSegment(hint)}`, Instances),
      downtimed: (hint) => get(hintOrAll("downtimed", hint), Instances),
      search: (text) => get(path(["search"], { s: text }), Instances),
      clusters: get("clusters", ListOf(Schema.String)),
      clustersInfo: get("clusters-info", ListOf(ClusterInfo)),
      clusterInfo: (hint) => get(`cluster-info/${hintSegment(hint)}`, ClusterInfo),
      topology: (hint, variant = "topology") => details(`${variant}/${hintSegment(hint)}`, Schema.String),
      replicationAnalysis: (cluster) =>
        details(cluster === undefined ? "replication-analysis" : `replication-analysis/${segment(cluster)}`, ListOf(ReplicationAnalysis)),
      discover: (key) => details(`discover/${kp(key)}`, Instance),
      forget: (key) => envelope(`forget/${kp(key)}`),
      relocate: (command, key, below) => details(`${command}/${kp(key)}/${kp(below)}`, Instance),
      relocateReplicas: (command, key, below) =>
        details(below === undefined ? `${command}/${kp(key)}` : `${command}/${kp(key)}/${kp(below)}`, Instances),
      relocateSingle: (command, key) => details(`${command}/${kp(key)}`, Instance),
      regroupReplicas: (key) => details(`regroup-replicas/${kp(key)}`, InstanceKeyJson),
      instanceCommand: (command, key) => details(`${command}/${kp(key)}`, Instance),
      beginDowntime: ({ duration, key, owner, reason }) =>
        details(
          `begin-downtime/${kp(key)}/${segment(owner)}/${segment(reason)}${duration === undefined ? "" : `/${segment(duration)}`}`,
          InstanceKeyJson
        ),
      endDowntime: (key) => envelope(`end-downtime/${kp(key)}`),
      beginMaintenance: ({ key, owner, reason }) =>
        envelope(`begin-maintenance/${kp(key)}/${segment(owner)}/${segment(reason)}`),
      endMaintenance: (key) => envelope(`end-maintenance/${kp(key)}`),
      registerCandidate: (key, rule) => envelope(`register-candidate/${kp(key)}/${segment(rule)}`),
      recover: (key, candidate) =>
        details(candidate === undefined ? `recover/${kp(key)}` : `recover/${kp(key)}/${kp(candidate)}`, InstanceKeyJson),
      gracefulMasterTakeover: (hint, designated, opts) => {
        const base = opts?.auto === true ? "graceful-master-takeover-auto" : "graceful-master-takeover"
        const p = designated === undefined ? `${base}/${hintSegment(hint)}` : `${base}/${hintSegment(hint)}/${kp(designated)}`
        return details(p, TopologyRecovery)
      },
      forceMasterFailover: (hint) => details(`force-master-failover/${hintSegment(hint)}`, TopologyRecovery),
      forceMasterTakeover: (hint, designated) =>
        details(`force-master-takeover/${hintSegment(hint)}/${kp(designated)}`, TopologyRecovery),
      ackClusterRecoveries: (hint, comment) =>
        envelope(path(["ack-recovery", "cluster", hintSegment(hint)], { comment })),
      ackAllRecoveries: (comment) => envelope(path(["ack-all-recoveries"], { comment })),
      enableGlobalRecoveries: envelope("enable-global-recoveries"),
      disableGlobalRecoveries: envelope("disable-global-recoveries"),
      checkGlobalRecoveries: envelope("check-global-recoveries"),
      submitMastersToKvStores: (hint) => details(hintOrAll("submit-masters-to-kv-stores", hint), ListOf(KVPair)),
      raftState: get("raft-state", Schema.String),
      raftLeader: get("raft-leader", Schema.String),
      raftHealth: get("raft-health", Schema.String)
    } satisfies OrchestratorClientApi
  })

export const layer = (options: ClientOptions): Layer.Layer<OrchestratorClient> =>
  Layer.effect(OrchestratorClient, make(options))
