import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as http from "node:http"
import { parseDuration, parseListen, parseProxyArgs } from "../../client/proxy/Args.js"
import { makeNodeFetch, serve } from "../../client/proxy/node.js"
import { type FetchLike, makeProxy, makeProxyHandler, type ProxyHandler } from "../../client/proxy/Proxy.js"
import { freePort } from "../support/ports.js"
import { closeAll, type FakeNode, setLeader, startTrio } from "./fakeNodes.js"

let nodes: Array<FakeNode> = []
beforeAll(async () => {
  nodes = await startTrio()
})
afterAll(() => closeAll(nodes))
const handlers: Array<ProxyHandler> = []
afterEach(async () => {
  await Promise.all(handlers.splice(0).map((h) => h.stop()))
  for (const n of nodes) {
    n.leaderAnswer = "follower"
    n.mode = "normal"
    n.routes.clear()
    n.seen.length = 0
    n.custom = undefined
  }
})

/** Web fetch (edge runtimes, Deno, Bun) and the node:http transport orchestrator-proxy uses on Node. */
const transports: ReadonlyArray<[string, FetchLike | undefined]> = [["fetch", undefined], ["node:http", makeNodeFetch()]]

/** A proxy without background poller: the test decides when polls happen. */
const manual = (intervalMillis = 60_000, checkTimeoutMillis = 3_000) => {
  const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis, checkTimeoutMillis })
  handlers.push(h)
  return h
}
const get = (h: ProxyHandler, path: string, init?: RequestInit) => h(new Request(`http://proxy.local${path}`, init))
const whoServes = () => {
  for (const n of nodes) n.serve("whoami", n.name)
}

describe("orchestrator-proxy handler", () => {
  it.each(transports)("forwards to the leader with X-Forwarded-* and without hop-by-hop headers (%s)", async (_, fetchImpl) => {
    setLeader(nodes, 1)
    whoServes()
    const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis: 60_000, fetch: fetchImpl })
    handlers.push(h)
    await h.pollNow()
    const res = await h(
      new Request("http://proxy.local/api/whoami?x=1", {
        headers: { "X-Custom": "yes", "Keep-Alive": "timeout=5", Connection: "x-private", "X-Private": "drop" }
      }),
      { remoteAddress: "10.1.2.3" }
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toBe("n2")
    const seen = nodes[1]!.seen.at(-1)!
    expect(seen.url).toBe("/api/whoami?x=1")
    expect(seen.headers["x-custom"]).toBe("yes")
    expect(seen.headers["x-forwarded-for"]).toBe("10.1.2.3")
    expect(seen.headers["x-forwarded-proto"]).toBe("http")
    expect(seen.headers["x-forwarded-host"]).toBe("proxy.local")
    expect(seen.headers["keep-alive"]).toBeUndefined()
    expect(seen.headers["x-private"]).toBeUndefined()
    expect(seen.headers["accept-encoding"]).toBe("identity")
  })

  it("answers 503 with orchestrator's envelope when no leader is known", async () => {
    const h = manual()
    await h.pollNow()
    const res = await get(h, "/api/clusters")
    expect(res.status).toBe(503)
    expect(res.headers.get("content-type")).toBe("application/json; charset=UTF-8")
    const body = (await res.json()) as { Code: string; Message: string; Details: unknown }
    expect(body.Code).toBe("ERROR")
    expect(body.Message).toMatch(/^no raft leader known/)
    expect(body.Details).toBeNull()
    expect(nodes.every((n) => n.seen.length === 0)).toBe(true)
  })

  it("follows a leader change at the next poll", async () => {
    setLeader(nodes, 0)
    whoServes()
    const h = manual()
    await h.pollNow()
    expect(await (await get(h, "/api/whoami")).json()).toBe("n1")
    setLeader(nodes, 2)
    await h.pollNow()
    expect(await (await get(h, "/api/whoami")).json()).toBe("n3")
  })

  it("drops a leader as soon as a poll says it is not leader any more", async () => {
    setLeader(nodes, 0)
    whoServes()
    const h = manual()
    await h.pollNow()
    expect(h.leader()).toBe(nodes[0]!.url)
    setLeader(nodes, undefined)
    await h.pollNow()
    expect(h.leader()).toBeUndefined()
    expect((await get(h, "/api/whoami")).status).toBe(503)
    expect(nodes[0]!.seen.length).toBe(0)
  })

  it("treats a node whose check times out as not leader, and reports it in /proxy/health", async () => {
    setLeader(nodes, 0)
    const h = manual(60_000, 1_000)
    await h.pollNow()
    nodes[0]!.leaderAnswer = "hang"
    nodes[1]!.leaderAnswer = "leader"
    await h.pollNow()
    expect(h.leader()).toBe(nodes[1]!.url)
    const res = await get(h, "/proxy/health")
    expect(res.status).toBe(200)
    const s = (await res.json()) as {
      leader: string
      lastCheck: string
      nodes: Array<{ url: string; status: number | null; error: string | null; leader: boolean }>
    }
    expect(s.leader).toBe(nodes[1]!.url)
    expect(typeof s.lastCheck).toBe("string")
    expect(s.nodes[0]).toMatchObject({ url: nodes[0]!.url, status: null, leader: false })
    expect(s.nodes[0]!.error).toMatch(/no answer within 1000 ms/)
    expect(s.nodes[1]).toMatchObject({ status: 200, leader: true })
    expect(s.nodes[2]).toMatchObject({ status: 404, leader: false })
  })

  it("prefers the newest claimant when two nodes answer 200 (the old leader has not stepped down yet)", async () => {
    setLeader(nodes, 0)
    const h = manual()
    await h.pollNow()
    nodes[2]!.leaderAnswer = "leader"
    await h.pollNow()
    expect(h.leader()).toBe(nodes[2]!.url)
  })

  it("passes the leader's 5xx and non-JSON bodies through unchanged", async () => {
    setLeader(nodes, 0)
    const h = manual()
    await h.pollNow()
    nodes[0]!.serve("instance/x/1", { Code: "ERROR", Message: "Cannot read instance: x:1", Details: null }, 500)
    const r1 = await get(h, "/api/instance/x/1")
    expect(r1.status).toBe(500)
    expect(await r1.json()).toMatchObject({ Message: "Cannot read instance: x:1" })
    nodes[0]!.mode = "garbage"
    const r2 = await get(h, "/api/clusters")
    expect(await r2.text()).toBe("<html>not json</html>")
    nodes[0]!.mode = "502-empty"
    expect((await get(h, "/api/clusters")).status).toBe(502)
  })

  it.each(transports)("answers 504 when the leader does not answer within the forward timeout (%s)", async (_, fetchImpl) => {
    setLeader(nodes, 0)
    const h = makeProxyHandler({
      nodes: nodes.map((n) => n.url),
      intervalMillis: 60_000,
      forwardTimeoutMillis: 200,
      fetch: fetchImpl
    })
    handlers.push(h)
    await h.pollNow()
    nodes[0]!.mode = "hang"
    const res = await get(h, "/api/clusters")
    expect(res.status).toBe(504)
    expect(((await res.json()) as { Code: string }).Code).toBe("ERROR")
  })

  it.each(transports)("after a refused forward, re-polls at once and retries on the new leader (%s)", async (_, transport) => {
    const port = await freePort()
    const dead = `http://127.0.0.1:${port}`
    // The dead node claimed leadership at its last check, then its process went away.
    const fetchImpl = (input: string, init?: RequestInit) =>
      input === `${dead}/api/leader-check` && !deadChecked
        ? ((deadChecked = true), Promise.resolve(new Response('"OK"', { status: 200 })))
        : (transport ?? globalThis.fetch)(input, init)
    let deadChecked = false
    setLeader(nodes, 1)
    whoServes()
    const h = makeProxyHandler({ nodes: [dead, nodes[1]!.url], intervalMillis: 60_000, fetch: fetchImpl })
    handlers.push(h)
    nodes[1]!.leaderAnswer = "follower"
    await h.pollNow()
    expect(h.leader()).toBe(dead)
    nodes[1]!.leaderAnswer = "leader"
    const res = await get(h, "/api/whoami")
    expect(res.status).toBe(200)
    expect(await res.json()).toBe("n2")
  })

  it("reports every forward, the retry included, to onForward with the latest check it was based on", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    let deadChecked = false
    const fetchImpl = (input: string, init?: RequestInit) =>
      input === `${dead}/api/leader-check` && !deadChecked
        ? ((deadChecked = true), Promise.resolve(new Response('"OK"', { status: 200 })))
        : globalThis.fetch(input, init)
    const seen: Array<{ node: string; status: number | null; checkedAt: string | null; own: string | null }> = []
    const h: ProxyHandler = makeProxyHandler({
      nodes: [dead, nodes[1]!.url],
      intervalMillis: 60_000,
      fetch: fetchImpl,
      onForward: (node, check) => {
        // Compared with status() at the same moment: the check handed over is the proxy's latest.
        const own = h.status().nodes.find((n) => n.url === node)!
        seen.push({ node, status: check.status, checkedAt: check.checkedAt, own: own.checkedAt })
        throw new Error("an observer that throws must not break forwarding")
      }
    })
    handlers.push(h)
    setLeader(nodes, undefined)
    whoServes()
    await h.pollNow()
    expect(h.leader()).toBe(dead)
    nodes[1]!.leaderAnswer = "leader"
    const res = await get(h, "/api/whoami")
    expect(await res.json()).toBe("n2")
    expect(seen.map((s) => [s.node, s.status])).toEqual([[dead, 200], [nodes[1]!.url, 200]])
    for (const s of seen) expect(s.checkedAt).toBe(s.own)
    // No leader: nothing is forwarded, so nothing is reported.
    setLeader(nodes, undefined)
    await h.pollNow()
    expect((await get(h, "/api/whoami")).status).toBe(503)
    expect(seen.length).toBe(2)
  })

  it("the background poller recovers within one poll after a leader change", async () => {
    setLeader(nodes, 0)
    whoServes()
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function*() {
          // A generous check timeout: on a loaded CI machine a timed-out check would (correctly) drop the leader.
          const h = yield* makeProxy({ nodes: nodes.map((n) => n.url), intervalMillis: 100, checkTimeoutMillis: 5_000 })
          const until = (cond: () => boolean) =>
            Effect.promise(async () => {
              while (!cond()) await new Promise((r) => setTimeout(r, 5))
            })
          yield* until(() => h.leader() === nodes[0]!.url)
          setLeader(nodes, 2)
          // Wait for the first poll round that started after the change to finish, then check.
          const changedAt = Date.now()
          yield* until(() => h.status().nodes.every((n) => n.checkedAt !== null && Date.parse(n.checkedAt) > changedAt))
          expect(h.leader()).toBe(nodes[2]!.url)
          const res = yield* Effect.promise(() => get(h, "/api/whoami"))
          expect(yield* Effect.promise(() => res.json())).toBe("n3")
        })
      )
    )
  })

  it("without start(), polls on demand when its state is older than the interval (edge mode)", async () => {
    setLeader(nodes, 1)
    whoServes()
    const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis: 50, checkTimeoutMillis: 5_000 })
    handlers.push(h)
    expect(await (await get(h, "/api/whoami")).json()).toBe("n2")
    setLeader(nodes, 0)
    await new Promise((r) => setTimeout(r, 60))
    expect(await (await get(h, "/api/whoami")).json()).toBe("n1")
  })
})

describe("orchestrator-proxy over node:http", () => {
  it.each(transports)("streams large bodies both ways (%s)", async (_, fetchImpl) => {
    setLeader(nodes, 0)
    const chunk = Buffer.alloc(1 << 20, 120)
    const total = 64
    let release: () => void = () => {}
    const released = new Promise<void>((r) => (release = r))
    nodes[0]!.custom = (req, res) => {
      if (req.url === "/big") {
        res.writeHead(200, { "Content-Type": "application/octet-stream" })
        res.write(chunk)
        // The rest only once the client has seen the first megabyte through the proxy: proves streaming.
        void released.then(async () => {
          for (let i = 1; i < total; i++) {
            if (!res.write(chunk)) await new Promise((r) => res.once("drain", r))
          }
          res.end()
        })
        return true
      }
      if (req.url === "/upload") {
        let n = 0
        req.on("data", (d: Buffer) => (n += d.length))
        req.on("end", () => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(n)))
        return true
      }
      return false
    }
    const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis: 60_000, fetch: fetchImpl })
    handlers.push(h)
    await h.pollNow()
    const server = await serve(h, { host: "127.0.0.1", port: await freePort() })
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/big`)
      const reader = res.body!.getReader()
      let received = 0
      while (received < chunk.length) {
        const { done, value } = await reader.read()
        if (done) break
        received += value.length
      }
      expect(received).toBeGreaterThanOrEqual(chunk.length)
      release()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        received += value.length
      }
      expect(received).toBe(total * chunk.length)

      const upload = 16 << 20
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 16; i++) controller.enqueue(new Uint8Array(1 << 20))
          controller.close()
        }
      })
      const init: RequestInit & { duplex: "half" } = { method: "POST", body, duplex: "half" }
      const up = await fetch(`http://127.0.0.1:${server.port}/upload`, init)
      expect(await up.json()).toBe(upload)
    } finally {
      await server.close()
    }
  })

  it("through node:http: drops the headers the leader's Connection names, keeps each Set-Cookie, sends Host, X-Forwarded-* and the exact path", async () => {
    setLeader(nodes, 0)
    nodes[0]!.custom = (req, res) => {
      if (!req.url?.startsWith("/api/cookies")) return false
      res.writeHead(201, "Made", [
        "Content-Type", "text/plain",
        "Connection", "keep-alive, X-Hop",
        "X-Hop", "drop me",
        "X-Kept", "yes",
        "Set-Cookie", "a=1; Path=/",
        "Set-Cookie", "b=2; Path=/"
      ])
      res.end("made")
      return true
    }
    const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis: 60_000, fetch: makeNodeFetch() })
    handlers.push(h)
    await h.pollNow()
    const server = await serve(h, { host: "127.0.0.1", port: await freePort() })
    try {
      const got = await new Promise<{ status: number; message: string; raw: Array<string>; text: string }>((resolve, reject) => {
        http
          .get(
            {
              host: "127.0.0.1",
              port: server.port,
              path: "/api/cookies/a%20b?x=1&y=%C3%BC#frag",
              headers: { Connection: "keep-alive, X-Private", "X-Private": "no", "X-Forwarded-Proto": "https", "X-Other": "yes" }
            },
            (res) => {
              let text = ""
              res.on("data", (d) => (text += d))
              res.on("end", () => resolve({ status: res.statusCode ?? 0, message: res.statusMessage ?? "", raw: res.rawHeaders, text }))
            }
          )
          .on("error", reject)
      })
      expect(got.status).toBe(201)
      expect(got.message).toBe("Made")
      expect(got.text).toBe("made")
      const names = got.raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
      expect(names).not.toContain("x-hop")
      expect(names.filter((n) => n === "content-length")).toHaveLength(1)
      const cookies = got.raw.filter((_, i) => i % 2 === 1 && got.raw[i - 1]!.toLowerCase() === "set-cookie")
      expect(cookies).toEqual(["a=1; Path=/", "b=2; Path=/"])
      expect(got.raw[got.raw.findIndex((n) => n.toLowerCase() === "x-kept") + 1]).toBe("yes")
      const seen = nodes[0]!.seen.at(-1)!
      expect(seen.url).toBe("/api/cookies/a%20b?x=1&y=%C3%BC")
      expect(seen.headers.host).toBe(`127.0.0.1:${nodes[0]!.port}`)
      expect(seen.headers["x-private"]).toBeUndefined()
      expect(seen.headers["x-other"]).toBe("yes")
      expect(seen.headers["x-forwarded-proto"]).toBe("https")
      expect(seen.headers["x-forwarded-host"]).toBe(`127.0.0.1:${server.port}`)
      expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1")
      expect(seen.headers["accept-encoding"]).toBe("identity")
    } finally {
      await server.close()
    }
  })

  it("through node:http: a client that goes away aborts its forward, and the connection's next requests still work", async () => {
    setLeader(nodes, 0)
    whoServes()
    let upstreamClosed: () => void = () => {}
    const closed = new Promise<void>((r) => (upstreamClosed = r))
    nodes[0]!.custom = (req, res) => {
      if (req.url !== "/api/slow") return false
      res.on("close", () => upstreamClosed())
      return true
    }
    const h = makeProxyHandler({ nodes: nodes.map((n) => n.url), intervalMillis: 60_000, fetch: makeNodeFetch() })
    handlers.push(h)
    await h.pollNow()
    const server = await serve(h, { host: "127.0.0.1", port: await freePort() })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const ask = (path: string) =>
        new Promise<string>((resolve, reject) => {
          http
            .get({ host: "127.0.0.1", port: server.port, path, agent }, (res) => {
              let text = ""
              res.on("data", (d) => (text += d))
              res.on("end", () => resolve(text))
            })
            .on("error", reject)
        })
      // Keep-alive requests on one connection: each one's forward is watched and released.
      for (let i = 0; i < 20; i++) expect(await ask("/api/whoami")).toBe('"n1"')
      const slow = http.get({ host: "127.0.0.1", port: server.port, path: "/api/slow" })
      slow.on("error", () => undefined)
      while (!nodes[0]!.seen.some((r) => r.url === "/api/slow")) await new Promise((r) => setTimeout(r, 5))
      slow.destroy()
      await closed
      expect(await ask("/api/whoami")).toBe('"n1"')
    } finally {
      agent.destroy()
      await server.close()
    }
  })

  it("makeNodeFetch: sends a string body with its length, the URL's credentials as Basic auth, and rejects at once when already aborted", async () => {
    let seenBody = ""
    nodes[0]!.custom = (req, res) => {
      if (req.url !== "/echo") return false
      req.setEncoding("utf8")
      req.on("data", (d: string) => (seenBody += d))
      req.on("end", () => res.writeHead(200, { "Content-Type": "text/plain" }).end("ok"))
      return true
    }
    const f = makeNodeFetch()
    const res = await f(`http://u%40x:p@127.0.0.1:${nodes[0]!.port}/echo`, { method: "POST", body: "héllo", headers: { "Content-Type": "text/plain" } })
    expect(await res.text()).toBe("ok")
    expect(seenBody).toBe("héllo")
    const seen = nodes[0]!.seen.at(-1)!
    expect(seen.headers["content-length"]).toBe(String(Buffer.byteLength("héllo")))
    expect(seen.headers["transfer-encoding"]).toBeUndefined()
    expect(seen.headers.authorization).toBe(`Basic ${Buffer.from("u@x:p").toString("base64")}`)
    const aborted = AbortSignal.abort(new Error("gone"))
    await expect(f(`http://127.0.0.1:${nodes[0]!.port}/echo`, { signal: aborted })).rejects.toMatchObject({ name: "AbortError" })
  })

  it("serves /proxy/health and 503 through node:http", async () => {
    const h = manual()
    await h.pollNow()
    const server = await serve(h, { host: "127.0.0.1", port: await freePort() })
    try {
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        http.get(`http://127.0.0.1:${server.port}/api/clusters`, (res) => {
          let text = ""
          res.on("data", (d) => (text += d))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
        }).on("error", reject)
      })
      expect(body.status).toBe(503)
      expect(body.text).toMatch(/^\{"Code":"ERROR","Message":"no raft leader known/)
      expect(body.text.endsWith(`"Details":null}`)).toBe(true)
      const health = await fetch(`http://127.0.0.1:${server.port}/proxy/health`)
      expect(health.status).toBe(200)
      expect(((await health.json()) as { nodes: Array<unknown> }).nodes).toHaveLength(3)
    } finally {
      await server.close()
    }
  })
})

describe("orchestrator-proxy arguments", () => {
  it("parses flags and environment", () => {
    expect(parseDuration("500ms")).toBe(500)
    expect(parseDuration("1.5s")).toBe(1500)
    expect(parseDuration("250")).toBe(250)
    expect(parseDuration("fast")).toBeUndefined()
    expect(parseListen(":8080")).toEqual({ host: undefined, port: 8080 })
    expect(parseListen("127.0.0.1:9")).toEqual({ host: "127.0.0.1", port: 9 })
    const p = parseProxyArgs(["--listen", ":8080", "--nodes", "http://a:3000,http://b:3000", "--interval=250ms"], {})
    expect(p).toMatchObject({ _tag: "Run", args: { port: 8080, nodes: ["http://a:3000", "http://b:3000"], intervalMillis: 250 } })
    const e = parseProxyArgs([], { ORCHESTRATOR_PROXY_LISTEN: "0.0.0.0:81", ORCHESTRATOR_PROXY_NODES: "http://a:1 http://b:2" })
    expect(e).toMatchObject({ _tag: "Run", args: { host: "0.0.0.0", port: 81, intervalMillis: 500 } })
    expect(parseProxyArgs(["--nodes", "a"], {})._tag).toBe("Error")
    expect(parseProxyArgs([], {})._tag).toBe("Error")
    expect(parseProxyArgs(["--nodes", "http://a:1", "--interval", "100ms", "--check-timeout", "200ms"], {})._tag).toBe(
      "Error"
    )
  })
})
