/**
 * The recovery routes: each path reaches the intended route (first match wins), and the handlers' parameter
 * types fit the routes' schemas (checked by the compiler through `Bound` below, as service/http/Api.ts binds them).
 */
import { describe, expect, it } from "@effect/vitest"
import type { Effect, Schema } from "effect"
import type { ApiFailure } from "../../core/api/Envelope.js"
import { makeRouter } from "../../core/api/Router.js"
import { recoveryRoutes } from "../../core/api/routes/Recovery.js"
import type { RequestContext } from "../../service/http/Api.js"
import type { Reply } from "../../service/http/Reply.js"
import { recoveryHandlers } from "../../service/http/RecoveryHandlers.js"

type Route = (typeof recoveryRoutes)[number]
type Bound = {
  readonly [N in Route["name"]]: (
    params: Schema.Schema.Type<Extract<Route, { name: N }>["params"]>,
    ctx: RequestContext
  ) => Effect.Effect<Reply, ApiFailure, unknown>
}
const bound: Bound = recoveryHandlers

describe("recovery routes", () => {
  const match = makeRouter(recoveryRoutes)
  const name = (path: string) => match(path)?.route.name
  it("every route has a handler", () => {
    for (const r of recoveryRoutes) expect(typeof bound[r.name]).toBe("function")
  })
  it.each([
    ["recover/h/3306", "recover"],
    ["recover/h/3306/c/3307", "recoverWithCandidate"],
    ["force-master-failover/mycluster", "forceMasterFailoverByCluster"],
    ["force-master-failover/h/3306", "forceMasterFailover"],
    ["graceful-master-takeover/c/d/3307", "gracefulMasterTakeoverByClusterDesignated"],
    ["graceful-master-takeover-auto/h/3306", "gracefulMasterTakeoverAuto"],
    ["audit-recovery/uid/abc", "auditRecoveryByUid"],
    ["audit-recovery/cluster/c1/2", "auditRecoveryByClusterPage"],
    ["audit-recovery/3", "auditRecoveryPage"],
    ["audit-failure-detection/id/5", "auditFailureDetectionById"],
    ["blocked-recoveries/cluster/c1", "blockedRecoveriesByCluster"],
    ["move-below-gtid/h/1/b/2", "moveBelowGtid"],
    ["regroup-replicas/h/1", "regroupReplicas"],
    ["regroup-slaves-gtid/h/1", "regroupSlavesGtid"],
    ["recovery-peer-analysis/h/3306", "recoveryPeerAnalysis"]
  ])("%s → %s", (path, expected) => {
    expect(name(path)).toBe(expected)
  })
  it("the peer-analysis route is answered locally and needs no credentials (quorum-agreed detection)", () => {
    const r = recoveryRoutes.find((x) => x.name === "recoveryPeerAnalysis")!
    expect([r.proxy, r.open, r.access]).toEqual([false, true, "read"])
  })
})
