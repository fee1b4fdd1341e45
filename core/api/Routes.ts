/**
 * The HTTP API contract: every `/api` route this node serves, with its path, its parameter
 * schemas and its place in the leader semantics. The server (service/http) binds a handler to
 * each name; the SDK (client/) builds URLs from the same table.
 *
 * Routes follow orchestrator's conventions (docs/compat.md): every route is GET (HEAD too), path
 * parameters match one segment, a trailing slash is accepted, the first matching route wins.
 */
import { Schema } from "effect"
import { HostParam, IdParam, InstanceParams, PortParam, PromotionRuleParam, StatusCodeParam, TextParam } from "./Params.js"

export interface RouteDef {
  readonly name: string
  /** Path below `/api/`, with `:param` segments. */
  readonly path: string
  readonly params: Schema.Schema.AnyNoContext
  /**
   * false = answered by whichever node receives it (orchestrator's NoProxy set: health and
   * leader checks, raft introspection). true = a client request: served by the leader, and
   * forwarded to it by followers.
   */
  readonly proxy: boolean
  /** "write" routes mutate (orchestrator's `isAuthorizedForAction` guard): leader only, authorized users only. */
  readonly access: "read" | "write"
  /** Open routes need no credentials even when authentication is on (health and leader checks). */
  readonly open: boolean
}

const NoParams = Schema.Struct({})
const S = Schema.Struct
/** Client requests: forwarded to the leader by followers; W mutates, R reads. */
const W = { proxy: true, access: "write" } as const
const R = { proxy: true } as const

const route = <const Name extends string, P extends Schema.Schema.AnyNoContext>(
  name: Name,
  path: string,
  params: P,
  options: { readonly proxy: boolean; readonly access?: "read" | "write"; readonly open?: boolean }
) => ({ name, path, params, proxy: options.proxy, access: options.access ?? "read", open: options.open ?? false }) as const

export const routes = [
  route("health", "health", NoParams, { proxy: false, open: true }),
  route("status", "status", NoParams, { proxy: false, open: true }),
  route("lbCheck", "lb-check", NoParams, { proxy: false, open: true }),
  route("ping", "_ping", NoParams, { proxy: false, open: true }),
  route("leaderCheck", "leader-check", NoParams, { proxy: false, open: true }),
  route("leaderCheckCode", "leader-check/:errorStatusCode", Schema.Struct({ errorStatusCode: StatusCodeParam }), {
    proxy: false,
    open: true
  }),
  route("routedLeaderCheck", "routed-leader-check", NoParams, { proxy: true, open: true }),

  // Downtime and maintenance (replicated ops)
  route("beginDowntime", "begin-downtime/:host/:port/:owner/:reason", S({ ...InstanceParams, owner: TextParam, reason: TextParam }), W),
  route(
    "beginDowntimeFor",
    "begin-downtime/:host/:port/:owner/:reason/:duration",
    S({ ...InstanceParams, owner: TextParam, reason: TextParam, duration: TextParam }),
    W
  ),
  route("endDowntime", "end-downtime/:host/:port", S(InstanceParams), W),
  route("beginMaintenance", "begin-maintenance/:host/:port/:owner/:reason", S({ ...InstanceParams, owner: TextParam, reason: TextParam }), W),
  route("endMaintenance", "end-maintenance/:host/:port", S(InstanceParams), W),
  route("endMaintenanceByKey", "end-maintenance/:maintenanceKey", S({ maintenanceKey: IdParam }), W),
  route("inMaintenance", "in-maintenance/:host/:port", S(InstanceParams), R),
  route("maintenance", "maintenance", NoParams, R),

  // Candidates, tags, pools, aliases, hostname unresolve (replicated ops)
  route("registerCandidate", "register-candidate/:host/:port/:promotionRule", S({ ...InstanceParams, promotionRule: PromotionRuleParam }), W),
  route("tagByQuery", "tag/:host/:port", S(InstanceParams), W),
  route("tag", "tag/:host/:port/:tagName/:tagValue", S({ ...InstanceParams, tagName: TextParam, tagValue: TextParam }), W),
  route("tags", "tags/:host/:port", S(InstanceParams), R),
  route("tagValueByQuery", "tag-value/:host/:port", S(InstanceParams), R),
  route("tagValue", "tag-value/:host/:port/:tagName", S({ ...InstanceParams, tagName: TextParam }), R),
  route("tagged", "tagged", NoParams, R),
  route("untagByQuery", "untag/:host/:port", S(InstanceParams), W),
  route("untag", "untag/:host/:port/:tagName", S({ ...InstanceParams, tagName: TextParam }), W),
  route("untagAllByQuery", "untag-all", NoParams, W),
  route("untagAll", "untag-all/:tagName/:tagValue", S({ tagName: TextParam, tagValue: TextParam }), W),
  route("submitPoolInstances", "submit-pool-instances/:pool", S({ pool: TextParam }), W),
  route("setClusterAlias", "set-cluster-alias/:clusterName", S({ clusterName: TextParam }), W),
  route(
    "registerHostnameUnresolve",
    "register-hostname-unresolve/:host/:port/:virtualname",
    S({ host: HostParam, port: PortParam, virtualname: HostParam }),
    W
  ),
  route("deregisterHostnameUnresolve", "deregister-hostname-unresolve/:host/:port", S(InstanceParams), W),

  // Global recovery switch and acknowledgements (replicated ops)
  route("disableGlobalRecoveries", "disable-global-recoveries", NoParams, W),
  route("enableGlobalRecoveries", "enable-global-recoveries", NoParams, W),
  route("checkGlobalRecoveries", "check-global-recoveries", NoParams, R),
  route("ackAllRecoveries", "ack-all-recoveries", NoParams, W),
  route("ackRecoveryByUid", "ack-recovery/uid/:uid", S({ uid: TextParam }), W),
  route("ackRecoveryByClusterAlias", "ack-recovery/cluster/alias/:clusterAlias", S({ clusterAlias: TextParam }), W),
  route("ackRecoveryByCluster", "ack-recovery/cluster/:clusterHint", S({ clusterHint: TextParam }), W),
  route("ackRecoveryByInstance", "ack-recovery/instance/:host/:port", S(InstanceParams), W),
  route("ackRecoveryById", "ack-recovery/:recoveryId", S({ recoveryId: IdParam }), W)
] as const satisfies ReadonlyArray<RouteDef>

export type Route = (typeof routes)[number]
export type RouteName = Route["name"]
export type RouteParams<N extends RouteName> = Schema.Schema.Type<Extract<Route, { name: N }>["params"]>
