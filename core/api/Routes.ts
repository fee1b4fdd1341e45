/**
 * The HTTP API contract: every `/api` route this node serves, with its path, its parameter
 * schemas and its place in the leader semantics. The server (service/http) binds a handler to
 * each name; the SDK (client/) builds URLs from the same table.
 *
 * Routes follow orchestrator's conventions (docs/compat.md): every route is GET (HEAD too), path
 * parameters match one segment, a trailing slash is accepted, the first matching route wins.
 */
import { Schema } from "effect"
import { StatusCodeParam } from "./Params.js"

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
}

const NoParams = Schema.Struct({})

const route = <const Name extends string, P extends Schema.Schema.AnyNoContext>(
  name: Name,
  path: string,
  params: P,
  options: { readonly proxy: boolean; readonly access?: "read" | "write" }
) => ({ name, path, params, proxy: options.proxy, access: options.access ?? "read" }) as const

export const routes = [
  route("health", "health", NoParams, { proxy: false }),
  route("status", "status", NoParams, { proxy: false }),
  route("lbCheck", "lb-check", NoParams, { proxy: false }),
  route("ping", "_ping", NoParams, { proxy: false }),
  route("leaderCheck", "leader-check", NoParams, { proxy: false }),
  route("leaderCheckCode", "leader-check/:errorStatusCode", Schema.Struct({ errorStatusCode: StatusCodeParam }), {
    proxy: false
  }),
  route("routedLeaderCheck", "routed-leader-check", NoParams, { proxy: true })
] as const satisfies ReadonlyArray<RouteDef>

export type Route = (typeof routes)[number]
export type RouteName = Route["name"]
export type RouteParams<N extends RouteName> = Schema.Schema.Type<Extract<Route, { name: N }>["params"]>
