/**
 * orchestrator-proxy's core: a `(Request) => Promise<Response>` handler over Web APIs only, so the
 * same code serves behind node:http (node.ts), Deno.serve, Bun.serve or an edge worker.
 *
 * The leader is found by polling `/api/leader-check` on every node (the status check orchestrator's
 * raft deployment guide prescribes for proxies) every `intervalMillis`, each check bounded by a
 * timeout below the interval, and at once after a failed forward. The only state is the nodes'
 * latest answers (ProxyState): two replicas behind a load balancer can at worst disagree for one
 * interval about a leader change, which orchestrator itself tolerates (followers forward to the
 * leader, spec §1.9).
 */
import { Duration, Effect, Exit, Scope } from "effect"
import { goJson } from "../../core/api/Envelope.js"
import { applyCheck, initial, leaderIndex, type NodeCheck, type ProxyState } from "./ProxyState.js"
import { hopByHopHeaders } from "../../core/api/HopByHop.js"

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>

export interface ProxyOptions {
  /** Node base URLs, e.g. `http://a:3000` (a trailing `/api` is dropped: the whole path is forwarded). */
  readonly nodes: ReadonlyArray<string>
  /** Poll interval (default 500 ms). */
  readonly intervalMillis?: number | undefined
  /** Timeout of one leader check (default: 80 % of the interval, at most 1 s). */
  readonly checkTimeoutMillis?: number | undefined
  /** Time allowed until the leader's response headers (default 60 s); bodies then stream without limit. */
  readonly forwardTimeoutMillis?: number | undefined
  readonly fetch?: FetchLike | undefined
  readonly now?: (() => number) | undefined
  /**
   * Observer, called synchronously just before a request is sent to a node (the retry after a
   * refused connection included), with that node's base URL and its `status()` entry: the latest
   * check, on which the choice was made. Lets tests and metrics check the forwarding rule from
   * outside; it cannot change the decision, and an exception it throws is ignored.
   */
  readonly onForward?: ((node: string, check: ProxyNodeStatus) => void) | undefined
}

export interface ConnectionInfo {
  /** The client's address, appended to X-Forwarded-For. */
  readonly remoteAddress?: string | undefined
  /**
   * Aborted when the client goes away; defaults to `request.signal`. A server wrapper may pass it
   * here instead of on the Request (cheaper in Node, whose Request follows a given signal with a
   * listener and a finalization registry). It may be shared by several requests — `serve` passes
   * one per client connection — the handler only listens to it.
   */
  readonly signal?: AbortSignal | undefined
}

export interface ProxyNodeStatus {
  readonly url: string
  readonly leader: boolean
  readonly status: number | null
  readonly error: string | null
  readonly checkedAt: string | null
  readonly latencyMillis: number | null
}

export interface ProxyStatus {
  readonly leader: string | null
  readonly lastCheck: string | null
  readonly intervalMillis: number
  readonly polling: boolean
  readonly nodes: ReadonlyArray<ProxyNodeStatus>
}

export interface ProxyHandler {
  (request: Request, info?: ConnectionInfo): Promise<Response>
  /** Starts the background poller (idempotent). Without it, each request polls when the state is older than the interval. */
  readonly start: () => void
  /** Stops the poller and aborts checks in flight. */
  readonly stop: () => Promise<void>
  /** Checks every node now (a check already in flight is joined, not duplicated). */
  readonly pollNow: () => Promise<void>
  readonly status: () => ProxyStatus
  /** The leader base URL, if one is known. */
  readonly leader: () => string | undefined
}

/** Hop-by-hop headers plus `host`, which fetch sets itself. */
const hopByHop: ReadonlySet<string> = new Set([...hopByHopHeaders, "host"])

/** The header names a `Connection` header lists: hop-by-hop too. */
const connectionTokens = (headers: Headers): ReadonlySet<string> | undefined => {
  const c = headers.get("connection")
  if (c === null) return undefined
  return new Set(c.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== ""))
}

/** End-to-end headers as name/value pairs (one pass, no intermediate Headers object). */
const endToEnd = (headers: Headers): Array<[string, string]> => {
  const listed = connectionTokens(headers)
  const out: Array<[string, string]> = []
  headers.forEach((value, name) => {
    if (!hopByHop.has(name) && (listed === undefined || !listed.has(name))) out.push([name, value])
  })
  return out
}

/** Whether a response carries anything the proxy must not pass on (usually Connection/Keep-Alive from Node upstreams). */
const needsCleaning = (headers: Headers): boolean => {
  let dirty = false
  headers.forEach((value, name) => {
    if (hopByHop.has(name) || (name === "content-encoding" && value !== "identity")) dirty = true
  })
  return dirty
}

/** What the request's headers say about forwarding, gathered in the same pass that copies them. */
interface Incoming {
  host: string | undefined
  connection: string | undefined
  forwardedFor: string | undefined
  forwardedProto: boolean
  forwardedHost: boolean
}

/**
 * The request's end-to-end headers to send on, in one pass: without hop-by-hop headers (Host
 * included, and those Connection names), Accept-Encoding and X-Forwarded-For, which `forward` sets
 * itself.
 */
const forwardedHeaders = (headers: Headers, seen: Incoming): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  headers.forEach((value, name) => {
    if (hopByHop.has(name)) {
      if (name === "host") seen.host = value
      else if (name === "connection") seen.connection = value
    } else if (name === "x-forwarded-for") seen.forwardedFor = value
    else if (name !== "accept-encoding") {
      if (name === "x-forwarded-proto") seen.forwardedProto = true
      else if (name === "x-forwarded-host") seen.forwardedHost = true
      out.push([name, value])
    }
  })
  const listed = namedByConnection(seen.connection)
  if (listed !== undefined) {
    if (listed.includes("x-forwarded-for")) seen.forwardedFor = undefined
    if (listed.includes("x-forwarded-proto")) seen.forwardedProto = false
    if (listed.includes("x-forwarded-host")) seen.forwardedHost = false
    for (let i = out.length - 1; i >= 0; i--) if (listed.includes(out[i]![0])) out.splice(i, 1)
  }
  return out
}

/**
 * The header names a Connection header lists (hop-by-hop too), or undefined when it lists none
 * beyond keep-alive (itself hop-by-hop): the usual `keep-alive` needs no splitting.
 */
const namedByConnection = (connection: string | undefined): ReadonlyArray<string> | undefined => {
  if (connection === undefined || connection === "keep-alive") return undefined
  const listed = connection.split(",").map((t) => t.trim().toLowerCase())
  return listed.some((t) => t !== "keep-alive" && t !== "") ? listed : undefined
}

/**
 * The parts of a Request's URL the proxy uses, without parsing it again: `request.url` is already
 * a serialized absolute URL (scheme://host/path?query#fragment, no credentials). Anything else is
 * left to the URL parser.
 */
interface Target {
  /** `http` or `https`. */
  readonly scheme: string
  readonly host: string
  readonly pathname: string
  /** Path and query, as sent upstream (the fragment never is). */
  readonly path: string
}
const splitUrl = (href: string): Target => {
  const schemeEnd = href.indexOf("://")
  const hostEnd = schemeEnd < 0 ? -1 : href.indexOf("/", schemeEnd + 3)
  const host = hostEnd < 0 ? "" : href.slice(schemeEnd + 3, hostEnd)
  if (hostEnd < 0 || host === "" || host.includes("@") || host.includes("?") || host.includes("#")) {
    const url = new URL(href)
    return { scheme: url.protocol.slice(0, -1), host: url.host, pathname: url.pathname, path: `${url.pathname}${url.search}` }
  }
  const hash = href.indexOf("#", hostEnd)
  const path = hash < 0 ? href.slice(hostEnd) : href.slice(hostEnd, hash)
  const query = path.indexOf("?")
  const pathname = query < 0 ? path : path.slice(0, query)
  // As URL.search, an empty query ("/p?") is no query.
  return { scheme: href.slice(0, schemeEnd), host, pathname, path: query === path.length - 1 ? pathname : path }
}

/**
 * Client-gone signals, each with one listener that aborts the forwards in flight for it. A server
 * wrapper passes one signal per connection (ConnectionInfo.signal): a request then registers in a
 * set instead of adding and removing an event listener (costly in Node) each time.
 */
const clientForwards = new WeakMap<AbortSignal, Set<AbortController>>()
const watchClient = (signal: AbortSignal, forward: AbortController): Set<AbortController> => {
  let set = clientForwards.get(signal)
  if (set === undefined) {
    const forwards = new Set<AbortController>()
    set = forwards
    clientForwards.set(signal, forwards)
    signal.addEventListener("abort", () => {
      for (const c of forwards) c.abort(signal.reason)
      forwards.clear()
    })
  }
  set.add(forward)
  return set
}

export const normalizeNode = (url: string): string => url.trim().replace(/\/+$/, "").replace(/\/api$/, "")

const envelopeResponse = (status: number, message: string, extra?: Record<string, string>): Response =>
  new Response(goJson({ Code: "ERROR", Message: message, Details: null }), {
    status,
    headers: { "Content-Type": "application/json; charset=UTF-8", ...extra }
  })

const describe = (error: unknown): string => {
  const parts: Array<string> = []
  let e: unknown = error
  for (let depth = 0; depth < 4 && e !== undefined && e !== null; depth++) {
    parts.push(typeof e === "object" && "message" in e && typeof e.message === "string" ? e.message : String(e))
    e = typeof e === "object" && "cause" in e ? e.cause : undefined
  }
  return parts.filter((p) => p !== "").join(": ")
}

const isRefused = (error: unknown): boolean => /ECONNREFUSED|Connection refused|ConnectionRefused/i.test(describe(error))
  || (typeof error === "object" && error !== null && "cause" in error && typeof error.cause === "object"
    && error.cause !== null && "code" in error.cause && error.cause.code === "ECONNREFUSED")

class ForwardTimeout extends Error {}

export const makeProxyHandler = (options: ProxyOptions): ProxyHandler => {
  const nodes = options.nodes.map(normalizeNode).filter((n) => n !== "")
  if (nodes.length === 0) throw new Error("orchestrator-proxy: no nodes given")
  const intervalMillis = options.intervalMillis ?? 500
  const checkTimeoutMillis = options.checkTimeoutMillis ?? Math.max(1, Math.min(1_000, Math.floor(intervalMillis * 0.8)))
  const forwardTimeoutMillis = options.forwardTimeoutMillis ?? 60_000
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now

  let state: ProxyState = initial(nodes)
  let lastRoundAt = Number.NEGATIVE_INFINITY
  let lifetime = new AbortController()
  const inFlight: Array<Promise<void> | undefined> = nodes.map(() => undefined)

  const checkNode = (index: number): Promise<void> => {
    const pending = inFlight[index]
    if (pending !== undefined) return pending
    const started = now()
    const signal = AbortSignal.any([lifetime.signal, AbortSignal.timeout(checkTimeoutMillis)])
    const run = (async () => {
      let check: NodeCheck
      try {
        const res = await fetchImpl(`${nodes[index]}/api/leader-check`, {
          method: "GET",
          headers: { "Accept-Encoding": "identity" },
          signal
        })
        // Drain the tiny body so the connection is reused; the status decides.
        await res.arrayBuffer().catch(() => undefined)
        check = { status: res.status, error: null, at: now(), latencyMillis: now() - started }
      } catch (e) {
        const timedOut = signal.aborted && !lifetime.signal.aborted
        check = {
          status: null,
          error: timedOut ? `no answer within ${checkTimeoutMillis} ms` : describe(e),
          at: now(),
          latencyMillis: now() - started
        }
      }
      if (!lifetime.signal.aborted) state = applyCheck(state, index, check)
    })().finally(() => {
      inFlight[index] = undefined
    })
    inFlight[index] = run
    return run
  }

  const pollNow = (): Promise<void> => {
    lastRoundAt = now()
    return Promise.all(nodes.map((_, i) => checkNode(i))).then(() => undefined)
  }

  let wake: () => void = () => {}
  const pollLoop: Effect.Effect<never> = Effect.forever(
    Effect.gen(function*() {
      const started = now()
      yield* Effect.promise(pollNow)
      const remaining = Math.max(0, intervalMillis - (now() - started))
      yield* Effect.race(
        Effect.sleep(Duration.millis(remaining)),
        Effect.async<void>((resume) => {
          wake = () => resume(Effect.void)
          return Effect.sync(() => {
            wake = () => {}
          })
        })
      )
    })
  )

  let running: { readonly scope: Scope.CloseableScope } | undefined
  const start = () => {
    if (running !== undefined) return
    if (lifetime.signal.aborted) lifetime = new AbortController()
    const scope = Effect.runSync(Scope.make())
    Effect.runSync(Effect.forkIn(pollLoop, scope))
    running = { scope }
  }
  const stop = async () => {
    const r = running
    running = undefined
    lifetime.abort()
    if (r !== undefined) await Effect.runPromise(Scope.close(r.scope, Exit.void))
    await Promise.all(inFlight.map((p) => p ?? Promise.resolve()))
  }

  const leader = (): string | undefined => {
    const i = leaderIndex(state)
    return i === undefined ? undefined : nodes[i]
  }

  const nodeStatus = (i: number, li: number | undefined): ProxyNodeStatus => {
    const n = state.nodes[i]!
    return {
      url: n.url,
      leader: i === li,
      status: n.last?.status ?? null,
      error: n.last?.error ?? null,
      checkedAt: n.last === null ? null : new Date(n.last.at).toISOString(),
      latencyMillis: n.last?.latencyMillis ?? null
    }
  }

  const status = (): ProxyStatus => {
    const li = leaderIndex(state)
    const lastAt = state.nodes.reduce((m, n) => Math.max(m, n.last?.at ?? Number.NEGATIVE_INFINITY), Number.NEGATIVE_INFINITY)
    return {
      leader: li === undefined ? null : nodes[li]!,
      lastCheck: Number.isFinite(lastAt) ? new Date(lastAt).toISOString() : null,
      intervalMillis,
      polling: running !== undefined,
      nodes: state.nodes.map((_, i) => nodeStatus(i, li))
    }
  }

  const onForward = options.onForward
  const notifyForward = (target: string) => {
    if (onForward === undefined) return
    try {
      onForward(target, nodeStatus(nodes.indexOf(target), leaderIndex(state)))
    } catch {
      // An observer must not break forwarding.
    }
  }

  const triggerPoll = () => {
    if (running !== undefined) wake()
    else void pollNow()
  }

  const forward = async (target: string, request: Request, url: Target, info?: ConnectionInfo): Promise<Response> => {
    const seen: Incoming = { host: undefined, connection: undefined, forwardedFor: undefined, forwardedProto: false, forwardedHost: false }
    const headers = forwardedHeaders(request.headers, seen)
    // orchestrator's own raft reverse proxy drops Accept-Encoding too; fetch would otherwise ask
    // for gzip and hand back a decoded body under the upstream's Content-Encoding.
    headers.push(["accept-encoding", "identity"])
    const xff = seen.forwardedFor
    const remote = info?.remoteAddress
    if (remote !== undefined && remote !== "") headers.push(["x-forwarded-for", xff === undefined ? remote : `${xff}, ${remote}`])
    else if (xff !== undefined) headers.push(["x-forwarded-for", xff])
    // Set by a load balancer in front (which saw the original scheme and host): kept.
    if (!seen.forwardedProto) headers.push(["x-forwarded-proto", url.scheme])
    if (!seen.forwardedHost) headers.push(["x-forwarded-host", seen.host ?? url.host])

    // One controller for both the deadline and the client going away (cheaper than AbortSignal.any
    // on every request); the client signal aborts it through `watchClient`'s set.
    const abort = new AbortController()
    const timer = setTimeout(() => abort.abort(new ForwardTimeout()), forwardTimeoutMillis)
    const clientSignal = info?.signal ?? request.signal
    const watching = watchClient(clientSignal, abort)
    const method = request.method
    const body = method === "GET" || method === "HEAD" ? null : request.body
    const init: RequestInit & { duplex?: "half" } = {
      method,
      headers,
      redirect: "manual",
      signal: abort.signal
    }
    if (body !== null) {
      init.body = body
      init.duplex = "half"
    }
    try {
      notifyForward(target)
      const res = await fetchImpl(`${target}${url.path}`, init)
      if (method !== "HEAD" && !needsCleaning(res.headers)) return res
      const out = new Headers(endToEnd(res.headers))
      const enc = out.get("content-encoding")
      if (enc !== null && enc !== "identity") {
        // Only reachable if the node compressed despite `identity`: fetch decoded the body.
        out.delete("content-encoding")
        out.delete("content-length")
      }
      return new Response(method === "HEAD" ? null : res.body, {
        status: res.status,
        statusText: res.statusText,
        headers: out
      })
    } finally {
      clearTimeout(timer)
      watching.delete(abort)
    }
  }

  const failure = (target: string, error: unknown): Response =>
    error instanceof ForwardTimeout || (error instanceof Error && error.name === "AbortError" && error.cause instanceof ForwardTimeout)
      ? envelopeResponse(504, `orchestrator-proxy: leader ${target} did not answer within ${forwardTimeoutMillis} ms`)
      : envelopeResponse(502, `orchestrator-proxy: cannot forward to leader ${target}: ${describe(error)}`)

  const noLeader = () =>
    envelopeResponse(
      503,
      `no raft leader known: none of ${nodes.join(", ")} answered 200 to /api/leader-check at its last check`,
      { "Retry-After": "1" }
    )

  const handler = async (request: Request, info?: ConnectionInfo): Promise<Response> => {
    const url = splitUrl(request.url)
    if (url.pathname === "/proxy/health" || url.pathname === "/proxy/health/") {
      return new Response(request.method === "HEAD" ? null : JSON.stringify(status()), {
        status: 200,
        headers: { "Content-Type": "application/json; charset=UTF-8", "Cache-Control": "no-store" }
      })
    }
    // Without a background poller (edge runtimes), refresh on demand once the state is stale.
    if (running === undefined && now() - lastRoundAt >= intervalMillis) await pollNow()
    const target = leader()
    if (target === undefined) {
      triggerPoll()
      return noLeader()
    }
    try {
      return await forward(target, request, url, info)
    } catch (error) {
      if ((info?.signal ?? request.signal).aborted) {
        return envelopeResponse(499, "orchestrator-proxy: client closed the request")
      }
      // A refused connection sent nothing, and a request without body can be sent again: re-poll
      // and retry once on whoever is leader now (never on a node whose last check was not 200).
      if (isRefused(error) && (request.body === null || request.method === "GET" || request.method === "HEAD")) {
        await pollNow()
        const next = leader()
        if (next === undefined) return noLeader()
        try {
          return await forward(next, request, url, info)
        } catch (again) {
          triggerPoll()
          return failure(next, again)
        }
      }
      triggerPoll()
      return failure(target, error)
    }
  }

  return Object.assign(handler, { start, stop, pollNow, status, leader })
}

/** The scoped form: the poller runs for the life of the scope. */
export const makeProxy = (options: ProxyOptions): Effect.Effect<ProxyHandler, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const h = makeProxyHandler(options)
      h.start()
      return h
    }),
    (h) => Effect.promise(() => h.stop())
  )
