/**
 * Serves the API application (Api.ts `makeHandler`) from a plain node:http server. One fiber per
 * request runs the handler's effect and writes its Reply; nothing else is built per request (the
 * @effect/platform HttpServer's request object, scope, middleware chain and response conversion were a
 * large share of a request's CPU under load). What a client sees is what the platform server gave:
 * lower-case `content-type` and `content-length` headers after the reply's own, HEAD answered with the
 * GET headers and no body, a request whose client goes away interrupted. The listener is a scoped
 * resource: closing the scope stops accepting and waits for open connections to finish their requests
 * (idle keep-alive sockets are closed at once).
 */
import { Cause, Data, Effect, FiberId, Runtime, type Scope } from "effect"
import * as http from "node:http"
import { goJson } from "../../core/api/Envelope.js"
import type { IncomingRequest } from "./Api.js"
import { JSON_CONTENT_TYPE, type Reply } from "./Reply.js"

export class HttpListenError extends Data.TaggedError("HttpListenError")<{
  readonly message: string
  readonly cause: unknown
}> {}

export interface ListenOptions {
  readonly port: number
  readonly host?: string
  /** Idle keep-alive sockets are closed after this long. */
  readonly keepAliveTimeoutMillis: number
}

/** The fiber id a client that went away interrupts its request with. */
const clientAbort = FiberId.runtime(-499, 0)

const bodyOf = (reply: Reply): { readonly body: Uint8Array; readonly contentType: string } => {
  switch (reply._tag) {
    case "Json":
      return { body: Buffer.from(goJson(reply.body), "utf8"), contentType: JSON_CONTENT_TYPE }
    case "Text":
      return { body: Buffer.from(reply.body, "utf8"), contentType: reply.contentType }
    case "Raw":
      return { body: reply.body, contentType: reply.contentType }
  }
}

export const writeReply = (method: string, res: http.ServerResponse, reply: Reply): void => {
  if (res.writableEnded || res.destroyed) return
  const { body, contentType } = bodyOf(reply)
  res.writeHead(reply.status, { ...reply.headers, "content-type": contentType, "content-length": String(body.length) })
  if (method === "HEAD") res.end()
  else res.end(body)
}

/** A node:http request listener running `handle` in `runtime`. */
export const makeListener = <R>(
  handle: (request: IncomingRequest) => Effect.Effect<Reply, never, R>,
  runtime: Runtime.Runtime<R>
) => {
  const runFork = Runtime.runFork(runtime)
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const method = (req.method ?? "GET").toUpperCase()
    const fiber = runFork(handle({
      method,
      url: req.url ?? "/",
      // Node's header object as is (lower-case names), as the platform server passed it on.
      headers: req.headers as Readonly<Record<string, string | undefined>>,
      remoteAddress: req.socket.remoteAddress
    }).pipe(
      Effect.flatMap((reply) => Effect.sync(() => writeReply(method, res, reply))),
      // A reply that cannot be written (e.g. a header value Node refuses): log it, answer 500 if still possible.
      Effect.catchAllDefect((defect) =>
        Effect.zipRight(
          Effect.logError("cannot write an HTTP response", { path: req.url ?? "" }, Cause.pretty(Cause.die(defect))),
          Effect.sync(() => {
            if (!res.headersSent) {
              res.writeHead(500, { "content-type": "text/plain; charset=utf-8" })
              res.end("internal error: see the node's log\n")
            } else res.destroy()
          })
        )
      )
    ))
    res.on("close", () => {
      if (!res.writableEnded) fiber.unsafeInterruptAsFork(clientAbort)
    })
  }
}

/** Listens with `handle` until the scope closes; returns the bound port (useful with port 0). */
export const serve = <R>(
  handle: (request: IncomingRequest) => Effect.Effect<Reply, never, R>,
  options: ListenOptions
): Effect.Effect<{ readonly port: number }, HttpListenError, R | Scope.Scope> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<R>()
    const server = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const s = http.createServer(makeListener(handle, runtime))
        s.keepAliveTimeout = options.keepAliveTimeoutMillis
        return s
      }),
      (s) =>
        Effect.async<void>((resume) => {
          if (!s.listening) return resume(Effect.void)
          s.close(() => resume(Effect.void))
        })
    )
    yield* Effect.async<void, HttpListenError>((resume) => {
      const onError = (cause: Error) => {
        resume(Effect.fail(new HttpListenError({ message: `cannot listen on ${options.host ?? "*"}:${options.port}: ${cause.message}`, cause })))
      }
      server.once("error", onError)
      server.listen(options.host === undefined ? { port: options.port } : { port: options.port, host: options.host }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const address = server.address()
    return { port: typeof address === "object" && address !== null ? address.port : options.port }
  })
