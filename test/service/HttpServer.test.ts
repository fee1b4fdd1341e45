import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit } from "effect"
import * as net from "node:net"
import { serve } from "../../service/http/Server.js"
import { json, type Reply, text } from "../../service/http/Reply.js"

/** One raw HTTP/1.1 exchange (Connection: close), the response as text. */
const exchange = (port: number, request: string) =>
  Effect.promise(() =>
    new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => socket.end(request))
      let out = ""
      socket.on("data", (d) => (out += d))
      socket.on("close", () => resolve(out))
    })
  )

const get = (path: string, method = "GET") => `${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`

describe("the node:http front (service/http/Server.ts)", () => {
  it.scopedLive("writes JSON and text replies with their content type and length; HEAD gets the headers only", () =>
    Effect.gen(function*() {
      const { port } = yield* serve(
        (request) =>
          Effect.succeed<Reply>(request.url === "/json" ? json({ a: "<b>" }, 201) : { ...text("hi\n", 404), headers: { "x-extra": "1" } }),
        { port: 0, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 }
      )
      const j = yield* exchange(port, get("/json"))
      expect(j).toMatch(/^HTTP\/1\.1 201 Created\r\n/)
      expect(j).toContain("content-type: application/json; charset=UTF-8\r\n")
      const body = '{"a":"\\u003cb\\u003e"}'
      expect(j).toContain(`content-length: ${body.length}\r\n`)
      expect(j.endsWith(`\r\n\r\n${body}`)).toBe(true)
      const t = yield* exchange(port, get("/other"))
      expect(t).toMatch(/^HTTP\/1\.1 404 Not Found\r\nx-extra: 1\r\ncontent-type: text\/plain; charset=utf-8\r\ncontent-length: 3\r\n/)
      const h = yield* exchange(port, get("/json", "HEAD"))
      expect(h).toContain(`content-length: ${body.length}\r\n`)
      expect(h.endsWith("\r\n\r\n")).toBe(true)
    }))

  it.scopedLive("passes method, URL, headers and peer address to the handler", () =>
    Effect.gen(function*() {
      const seen = yield* Deferred.make<{ method: string; url: string; header: string | undefined; remote: string | undefined }>()
      const { port } = yield* serve(
        (request) =>
          Effect.as(
            Deferred.succeed(seen, { method: request.method, url: request.url, header: request.headers["x-test"], remote: request.remoteAddress }),
            json("OK")
          ),
        { port: 0, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 }
      )
      yield* exchange(port, "GET /api/lb-check?x=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nConnection: close\r\n\r\n")
      expect(yield* Deferred.await(seen)).toEqual({ method: "GET", url: "/api/lb-check?x=1", header: "yes", remote: "127.0.0.1" })
    }))

  it.scopedLive("a client that goes away interrupts its request", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const { port } = yield* serve(
        () => Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))),
        { port: 0, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 }
      )
      const socket = net.connect(port, "127.0.0.1", () => socket.write(get("/slow")))
      yield* Effect.sleep("100 millis")
      socket.destroy()
      const exit = yield* Effect.exit(Effect.timeout(Deferred.await(interrupted), "5 seconds"))
      expect(Exit.isSuccess(exit)).toBe(true)
    }))

  it.scopedLive("a reply Node cannot write becomes a 500", () =>
    Effect.gen(function*() {
      const { port } = yield* serve(
        () => Effect.succeed<Reply>({ ...json("OK"), headers: { "x-bad": "a\nb" } }),
        { port: 0, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 }
      )
      const r = yield* exchange(port, get("/"))
      expect(r).toMatch(/^HTTP\/1\.1 500 /)
    }))

  it.scopedLive("a port in use fails with HttpListenError", () =>
    Effect.gen(function*() {
      const { port } = yield* serve(() => Effect.succeed(json("OK")), { port: 0, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 })
      const second = yield* Effect.exit(Effect.scoped(serve(() => Effect.succeed(json("OK")), { port, host: "127.0.0.1", keepAliveTimeoutMillis: 1000 })))
      expect(Exit.isFailure(second) && second.cause._tag === "Fail" ? second.cause.error._tag : undefined).toBe("HttpListenError")
    }))
})
