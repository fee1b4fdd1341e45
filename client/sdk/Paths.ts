/**
 * URLs of orchestrator's HTTP API: ORCHESTRATOR_API parsing, instance keys in paths, and which
 * paths mutate. Paths are relative to a node's `/api` (e.g. `instance/db1/3306`); routes that are
 * in the contract (core/api/Routes.ts) are built and classified from it, the others from
 * orchestrator's conventions (`go/http/api.go`: `:host/:port` keys, one segment per parameter).
 */
import { Schema } from "effect"
import { makeRouter } from "../../core/api/Router.js"
import { type RouteName, type RouteParams, routes } from "../../core/api/Routes.js"

/**
 * ORCHESTRATOR_API: one URL or a list separated by spaces (orchestrator-client) or commas. Each
 * entry is normalised like orchestrator-client's `normalize_orchestrator_api`: no trailing slash,
 * ending in `/api`.
 */
export const parseApiList = (api: string | ReadonlyArray<string>): ReadonlyArray<string> =>
  (typeof api === "string" ? [api] : api)
    .flatMap((entry) => entry.split(/[\s,]+/))
    .filter((entry) => entry.length > 0)
    .map(normalizeApi)

export const normalizeApi = (url: string): string => {
  const trimmed = url.replace(/\/+$/, "")
  return trimmed.endsWith("/api") ? trimmed : `${trimmed}/api`
}

export interface InstanceKey {
  readonly hostname: string
  readonly port: number
}

/**
 * `host:port`, `[v6]:port`, or `host` (then `defaultPort`, orchestrator-client's `-D`, 3306), the
 * way orchestrator-client's `to_hostport` reads `-i`/`-d`. Returns undefined for an empty string.
 */
export const parseKey = (text: string, defaultPort = 3306): InstanceKey | undefined => {
  const s = text.trim()
  if (s === "") return undefined
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s)
  if (v6) return { hostname: v6[1]!, port: v6[2] === undefined ? defaultPort : Number(v6[2]) }
  const i = s.lastIndexOf(":")
  if (i < 0) return { hostname: s, port: defaultPort }
  const port = s.slice(i + 1)
  return { hostname: s.slice(0, i), port: /^\d+$/.test(port) ? Number(port) : Number.NaN }
}

/** One path segment: percent-encoded, but `:` and `@` kept (as orchestrator-client sends `host:port` hints). */
export const segment = (value: string | number): string =>
  encodeURIComponent(String(value)).replace(/%3A/gi, ":").replace(/%40/g, "@")

/** `host/port`, the `:host/:port` pair of orchestrator's routes. */
export const keyPath = (key: InstanceKey): string => `${segment(key.hostname)}/${segment(key.port)}`

/** Joins path segments (already encoded) and a query (encoded here), dropping empty trailing parts. */
export const path = (
  segments: ReadonlyArray<string>,
  query?: Readonly<Record<string, string | undefined>>
): string => {
  const q = Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined)
  const qs = q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")
  return segments.join("/") + (qs === "" ? "" : `?${qs}`)
}

/** The path of a route of the contract, its parameters encoded by the route's own schemas. */
export const routePath = <N extends RouteName>(name: N, params: RouteParams<N>): string => {
  const route = routes.find((r) => r.name === name)!
  const encoded = Schema.encodeUnknownSync(route.params as Schema.Schema<unknown, unknown>)(params) as Record<
    string,
    unknown
  >
  return route.path
    .split("/")
    .map((s) => (s.startsWith(":") ? segment(String(encoded[s.slice(1)])) : s))
    .join("/")
}

const router = makeRouter(routes)

/**
 * Paths that only read (first segment), for routes not yet in the contract. Everything else is a
 * mutation: an unknown path is never retried blindly. Taken from orchestrator's api.go: the
 * handlers that do not change orchestrator's or MySQL's state (some are guarded by
 * `isAuthorizedForAction` — e.g. `bulk-instances`, `last-pseudo-gtid` — but still only read).
 */
const readOnlyFirstSegments: ReadonlySet<string> = new Set([
  "headers",
  "health",
  "status",
  "lb-check",
  "_ping",
  "leader-check",
  "routed-leader-check",
  "raft-state",
  "raft-leader",
  "raft-health",
  "raft-status",
  "raft-peers",
  "instance",
  "instance-replicas",
  "all-instances",
  "search",
  "resolve",
  "bulk-instances",
  "bulk-promotion-rules",
  "hostname-resolve-cache",
  "clusters",
  "clusters-info",
  "cluster",
  "cluster-info",
  "cluster-osc-slaves",
  "cluster-osc-replicas",
  "masters",
  "master",
  "downtimed",
  "topology",
  "topology-tabulated",
  "topology-tags",
  "problems",
  "long-queries",
  "audit",
  "in-maintenance",
  "maintenance",
  "replication-analysis",
  "replication-analysis-changelog",
  "automated-recovery-filters",
  "audit-failure-detection",
  "audit-recovery",
  "audit-recovery-steps",
  "active-cluster-recovery",
  "recently-active-cluster-recovery",
  "recently-active-instance-recovery",
  "blocked-recoveries",
  "check-global-recoveries",
  "tagged",
  "tags",
  "tag-value",
  "locate-gtid-errant",
  "can-replicate-from",
  "can-replicate-from-gtid",
  "last-pseudo-gtid",
  "restart-slave-statements",
  "restart-replica-statements",
  "cluster-pool-instances",
  "heuristic-cluster-pool-instances",
  "heuristic-cluster-pool-lag",
  "discovery-metrics-raw",
  "discovery-metrics-aggregated",
  "discovery-queue-metrics-raw",
  "discovery-queue-metrics-aggregated",
  "backend-query-metrics-raw",
  "backend-query-metrics-aggregated",
  "write-buffer-metrics-raw",
  "write-buffer-metrics-aggregated",
  "instance-buffered-write-metrics-raw",
  "instance-buffered-write-metrics-aggregated"
])

/** Strips the query, leading slashes and an `api/` prefix. */
const routeRelative = (p: string): string => {
  const noQuery = p.split("?")[0]!.replace(/^\/+/, "")
  return noQuery.startsWith("api/") ? noQuery.slice(4) : noQuery
}

/**
 * true when a request to `p` may change state, so that a failure after sending it leaves the
 * outcome unknown and it must not be retried blindly.
 */
export const isMutation = (p: string): boolean => {
  const rel = routeRelative(p)
  const match = router(rel)
  if (match !== undefined) return match.route.access === "write"
  return !readOnlyFirstSegments.has(rel.split("/")[0] ?? "")
}
