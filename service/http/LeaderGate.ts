/**
 * The one leader gate (orchestrator repeats `if orcraft.IsRaftEnabled()` in 52 places): in raft mode a
 * client request (`proxy: true` route) reaching a follower is reverse-proxied to the leader's HTTP URI
 * with a bounded timeout; with no leader known it is answered at once with 503 and an envelope
 * (orchestrator gives ~2.5 s of 502 and then 500 "Unauthorized"). Health and leader checks
 * (`proxy: false`) are always answered locally.
 */
import { Effect } from "effect"
import { error as errorEnvelope } from "../../core/api/Envelope.js"
import { hopByHopHeaders } from "../../core/api/HopByHop.js"
import { Leadership } from "../../core/node/Leadership.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import type { Middleware } from "./Api.js"
import { envelope, type Reply } from "./Reply.js"

export const FORWARDED_HEADER = "x-orchestrator-forwarded-by"
/** Hop-by-hop headers, and those the forwarder's fetch sets itself. */
const dropped: ReadonlySet<string> = new Set([...hopByHopHeaders, "host", "content-length", "accept-encoding"])

export interface LeaderGateOptions {
  readonly forwardTimeoutMillis: number
}

const noLeader = (why: string): Reply =>
  envelope(errorEnvelope(`no raft leader known (${why}): retry shortly, or ask another node`), 503)

export const leaderGate = <R>(options: LeaderGateOptions): Middleware<R | Leadership | NodeIdentity> => (route, ctx, run) =>
  Effect.gen(function*() {
    const leadership = yield* Leadership
    if (!leadership.raftEnabled || !route.proxy) return yield* run
    if ((yield* leadership.canServe) || ((yield* leadership.state) === "Leader" && (yield* leadership.confirm))) {
      // (A leader too busy to keep its lease fresh, or still applying what it committed, confirms with a
      // quorum round trip — ReadIndex, which also waits for the apply — instead of refusing.)
      const reply = yield* run
      // A read is linearizable only if leadership held until it was done: a leader paused between the check
      // and the read could otherwise answer from a state a newer leader has moved past. Writes need no
      // re-check: they were committed through raft. A lapsed lease is confirmed by a quorum round trip
      // (no newer leader existed up to the followers' answers, so nothing was committed past our read).
      if (route.access === "read" && !(yield* leadership.isLeader) && !(yield* leadership.confirm)) {
        return noLeader("leadership was lost while reading")
      }
      return reply
    }
    const id = yield* NodeIdentity
    // A request another node already forwarded must not bounce again (leadership moving under it).
    if (ctx.headers[FORWARDED_HEADER] !== undefined) return noLeader("this node is not the leader either")
    const leader = yield* leadership.leader
    if (leader === undefined) return noLeader("election in progress")
    if (leader.httpUri === "" || leader.raftAddress === id.nodeId) return noLeader(`leader ${leader.raftAddress} has not announced its URI yet`)
    return yield* forward(leader.httpUri, ctx.url, ctx.method, ctx.headers, ctx.remoteAddress, id.nodeId, options)
  })

const forward = (
  leaderUri: string,
  url: URL,
  method: string,
  incoming: Readonly<Record<string, string | undefined>>,
  remote: string | undefined,
  self: string,
  options: LeaderGateOptions
): Effect.Effect<Reply> =>
  Effect.tryPromise({
    try: async (signal) => {
      const headers = new Headers()
      for (const [k, v] of Object.entries(incoming)) if (v !== undefined && !dropped.has(k)) headers.set(k, v)
      const client = remote ?? ""
      const prior = incoming["x-forwarded-for"]
      if (client !== "") headers.set("x-forwarded-for", prior ? `${prior}, ${client}` : client)
      headers.set(FORWARDED_HEADER, self)
      const target = new URL(url.pathname + url.search, leaderUri)
      const response = await fetch(target, {
        method,
        headers,
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.forwardTimeoutMillis)]),
        redirect: "manual"
      })
      const body = new Uint8Array(await response.arrayBuffer())
      const reply: Reply = {
        _tag: "Raw",
        status: response.status,
        body,
        contentType: response.headers.get("content-type") ?? "application/octet-stream",
        headers: { "x-orchestrator-served-by": response.headers.get("x-orchestrator-served-by") ?? leaderUri }
      }
      return reply
    },
    catch: (e) => e
  }).pipe(
    Effect.catchAll((e) =>
      Effect.as(
        Effect.logWarning("cannot forward a request to the leader", { leader: leaderUri, error: String(e) }),
        envelope(errorEnvelope(`cannot reach the raft leader at ${leaderUri}: ${e instanceof Error ? e.message : String(e)}`), 502)
      )
    )
  )
