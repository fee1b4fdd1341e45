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
  /** Open routes need no credentials even when authentication is on (health and leader checks). */
  readonly open: boolean
}

const NoParams = Schema.Struct({})

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
  route("routedLeaderCheck", "routed-leader-check", NoParams, { proxy: true, open: true })
] as const satisfies ReadonlyArray<RouteDef>

export type Route = (typeof routes)[number]
export type RouteName = Route["name"]
export type RouteParams<N extends RouteName> = Schema.Schema.Type<Extract<Route, { name: N }>["params"]>
