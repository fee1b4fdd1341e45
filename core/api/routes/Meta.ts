/** Health, status and leader checks: answered locally by every node (orchestrator's NoProxy set). */
import { NoParams, route, S } from "../RouteDef.js"
import { StatusCodeParam } from "../Params.js"

export const metaRoutes = [
  route("health", "health", NoParams, { proxy: false, open: true }),
  route("status", "status", NoParams, { proxy: false, open: true }),
  route("lbCheck", "lb-check", NoParams, { proxy: false, open: true }),
  route("ping", "_ping", NoParams, { proxy: false, open: true }),
  route("leaderCheck", "leader-check", NoParams, { proxy: false, open: true }),
  route("leaderCheckCode", "leader-check/:errorStatusCode", S({ errorStatusCode: StatusCodeParam }), {
    proxy: false,
    open: true
  }),
  route("routedLeaderCheck", "routed-leader-check", NoParams, { proxy: true, open: true })
] as const
