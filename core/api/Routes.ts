/**
 * The HTTP API contract: every `/api` route this node serves, with its path, its parameter
 * schemas and its place in the leader semantics. The server (service/http) binds a handler to
 * each name; the SDK (client/) builds URLs from the same table.
 *
 * Routes follow orchestrator's conventions (docs/compat.md): every route is GET (HEAD too), path
 * parameters match one segment, a trailing slash is accepted, the first matching route wins —
 * so within and across groups, a more specific path must come before a more general one of the
 * same length.
 */
import type { Schema } from "effect"
import type { RouteDef } from "./RouteDef.js"
import { analysisRoutes } from "./routes/Analysis.js"
import { controlRoutes } from "./routes/Control.js"
import { instanceRoutes } from "./routes/Instances.js"
import { metaRoutes } from "./routes/Meta.js"
import { raftRoutes } from "./routes/Raft.js"
import { recoveryRoutes } from "./routes/Recovery.js"
import { replicatedRoutes } from "./routes/Replicated.js"

export type { RouteDef } from "./RouteDef.js"

export const routes = [...metaRoutes, ...raftRoutes, ...replicatedRoutes, ...analysisRoutes, ...instanceRoutes, ...recoveryRoutes, ...controlRoutes] as const satisfies ReadonlyArray<RouteDef>

export type Route = (typeof routes)[number]
export type RouteName = Route["name"]
export type RouteParams<N extends RouteName> = Schema.Schema.Type<Extract<Route, { name: N }>["params"]>
