/**
 * The `/api` HTTP application: route matching, parameter decoding, error envelopes. Handlers are
 * bound per route name; the leader gate and forwarding wrap them (service/http/LeaderGate.ts
 * in raft mode). `makeHandler` is the application as a function of the request's method, URL, headers
 * and peer address; service/http/Server.ts serves it from a plain node:http server.
 */
import { Cause, Effect, Either, Metric, ParseResult, Schema } from "effect"
import { ApiFailure, error as errorEnvelope } from "../../core/api/Envelope.js"
import { makeRouter } from "../../core/api/Router.js"
import { type Route, type RouteName, type RouteParams, routes } from "../../core/api/Routes.js"
import { httpRequests } from "../../core/observability/Metrics.js"
import type { AuthResult, Authenticator } from "./Auth.js"
import { envelope, notFound, type Reply, text } from "./Reply.js"

/** What a handler may know of its request: no HTTP library types, so the CLI can call handlers too. */
export interface RequestContext {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress: string | undefined
  readonly auth: AuthResult
}

export type Handler<N extends RouteName, R> = (
  params: RouteParams<N>,
  ctx: RequestContext
) => Effect.Effect<Reply, ApiFailure, R>

export type Handlers<R> = { readonly [N in RouteName]: Handler<N, R> }

/** Wraps every handler (leader gate, auth): gets the route and the bound handler's effect. */
export type Middleware<R> = (
  route: Route,
  ctx: RequestContext,
  run: Effect.Effect<Reply, ApiFailure, R>
) => Effect.Effect<Reply, ApiFailure, R>

/** URLs longer than this are refused before routing (orchestrator's paths are short). */
export const MAX_URL_BYTES = 8192

const match = makeRouter(routes)

export const describeParamError = (error: ParseResult.ParseError, raw: Readonly<Record<string, string>>): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      const name = String(issue.path[0] ?? "parameter")
      const got = raw[name]
      return `${name}: ${issue.message}${got === undefined ? "" : `, got ${JSON.stringify(got)}`}`
    })
    .join("; ")

export interface ApiOptions<R> {
  readonly urlPrefix: string
  readonly handlers: Handlers<R>
  readonly authenticate?: Authenticator
  /** Requests declaring a larger body are refused with 413 (every orchestrator route is a GET). */
  readonly maxBodyBytes?: number
  readonly middleware?: Middleware<R>
  /** Paths outside `/api/` (metrics, /health/*); return undefined to fall through to 404. */
  readonly extra?: (path: string, ctx: RequestContext) => Effect.Effect<Reply, never, R> | undefined
}

/** What the application reads of an HTTP request. */
export interface IncomingRequest {
  readonly method: string
  /** The request target as received (origin form, or absolute form from a proxy). */
  readonly url: string
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly remoteAddress: string | undefined
}

type ParamDecoder = (raw: Readonly<Record<string, string>>) => Either.Either<unknown, ParseResult.ParseError>

/** The application: answers every request with a Reply (failures become envelopes; only interruption fails). */
export const makeHandler = <R>(options: ApiOptions<R>): (request: IncomingRequest) => Effect.Effect<Reply, never, R> => {
  const prefix = options.urlPrefix.replace(/\/+$/, "")
  const middleware: Middleware<R> = options.middleware ?? ((_route, _ctx, run) => run)
  const authenticate: Authenticator = options.authenticate ?? (() => Either.right({ user: "", canWrite: true }))

  // One tagged counter per (route, status class), built once: tagging anew on every request was costly.
  const counters = new Map<string, Metric.Metric.Counter<number>>()
  const requestCounter = (route: RouteName, status: number) => {
    const code = `${Math.floor(status / 100)}xx`
    const key = `${route} ${code}`
    let counter = counters.get(key)
    if (counter === undefined) {
      counter = httpRequests.pipe(Metric.tagged("route", route), Metric.tagged("code", code))
      counters.set(key, counter)
    }
    return counter
  }

  // One decoder per route, made on first use (not per request).
  const decoders = new Map<RouteName, ParamDecoder>()
  const decoderOf = (route: Route): ParamDecoder => {
    let d = decoders.get(route.name)
    if (d === undefined) {
      d = Schema.decodeUnknownEither(route.params as Schema.Schema<unknown, unknown>, { errors: "all" })
      decoders.set(route.name, d)
    }
    return d
  }

  const dispatch = (base: Omit<RequestContext, "auth">): Effect.Effect<Reply, ApiFailure, R> => {
    const ctx = { ...base, auth: { user: "", canWrite: false } }
    let path = ctx.url.pathname
    if (prefix !== "") {
      if (!path.startsWith(prefix + "/")) return Effect.succeed(notFound)
      path = path.slice(prefix.length)
    }
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return Effect.succeed(notFound)
    if (!path.startsWith("/api/")) return options.extra?.(path, ctx) ?? Effect.succeed(notFound)
    const m = match(path.slice("/api/".length))
    if (m === undefined) return Effect.succeed(notFound)
    const decoded = decoderOf(m.route)(m.rawParams)
    if (Either.isLeft(decoded)) {
      return Effect.succeed(envelope(errorEnvelope(describeParamError(decoded.left, m.rawParams)), 400))
    }
    const auth = authenticate(base.headers, m.route.open)
    if (Either.isLeft(auth)) {
      return Effect.succeed({
        ...text("Not Authorized\n", 401),
        headers: { "www-authenticate": `Basic realm="${auth.left.realm}"` }
      })
    }
    const authed: RequestContext = { ...base, auth: auth.right }
    // orchestrator's isAuthorizedForAction: refused actions answer 500 "Unauthorized".
    if (m.route.access === "write" && !auth.right.canWrite) return Effect.succeed(envelope(errorEnvelope("Unauthorized")))
    const handler = options.handlers[m.route.name] as Handler<RouteName, R>
    return middleware(m.route, authed, handler(decoded.right as never, authed)).pipe(
      Effect.tap((reply) => Metric.update(requestCounter(m.route.name, reply.status), 1))
    )
  }

  return (request) => {
    let path = request.url
    // Suspended: whatever dispatching throws becomes a defect, answered with a 500 envelope below.
    return Effect.suspend(() => {
      if (request.url.length > MAX_URL_BYTES) return Effect.succeed(text("414 URI too long\n", 414))
      const declared = Number(request.headers["content-length"] ?? "0")
      if (options.maxBodyBytes !== undefined && Number.isFinite(declared) && declared > options.maxBodyBytes) {
        return Effect.succeed(
          envelope(errorEnvelope(`request body of ${declared} bytes exceeds MaxRequestBodyBytes (${options.maxBodyBytes})`), 413)
        )
      }
      let url: URL
      try {
        url = new URL(request.url, "http://localhost")
      } catch {
        return Effect.succeed(envelope(errorEnvelope("malformed request URL"), 400))
      }
      path = url.pathname
      return dispatch({ method: request.method, url, headers: request.headers, remoteAddress: request.remoteAddress })
    }).pipe(
      Effect.catchTag("ApiFailure", (f) => Effect.succeed(envelope(errorEnvelope(f.message, f.details), f.status))),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause)
          : Effect.as(
            Effect.logError("request failed", { path }, Cause.pretty(cause)),
            envelope(errorEnvelope("internal error: see the node's log"), 500)
          )
      )
    ) as Effect.Effect<Reply, never, R>
  }
}

export const fail = (message: string, details: unknown = null, status = 500) =>
  Effect.fail(new ApiFailure({ message, details, status }))
