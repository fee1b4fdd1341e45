import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"
import {
  ApiError,
  type ClientError,
  isMutation,
  make,
  makePromiseClient,
  parseApiList,
  parseKey,
  routePath
} from "../../client/sdk/index.js"
import { freePort } from "../support/ports.js"
import { closeAll, type FakeNode, instanceJson, setLeader, startTrio } from "./fakeNodes.js"

let nodes: Array<FakeNode> = []
beforeAll(async () => {
  nodes = await startTrio()
})
afterAll(() => closeAll(nodes))
afterEach(() => {
  for (const n of nodes) {
    n.leaderAnswer = "follower"
    n.mode = "normal"
    n.routes.clear()
    n.seen.length = 0
    n.leaderChecks = 0
    n.custom = undefined
  }
})

const apiList = () => nodes.map((n) => n.url).join(" ")
const client = (extra: Partial<Parameters<typeof make>[0]> = {}) =>
  Effect.runSync(make({ api: apiList(), retryDelayMillis: 10, ...extra }))
const either = <A>(e: Effect.Effect<A, ClientError>) => Effect.runPromise(Effect.either(e))

describe("paths", () => {
  it("normalises ORCHESTRATOR_API lists (spaces or commas) to .../api", () => {
    expect(parseApiList("http://a:3000 http://b:3000/api/,http://c:3000/")).toEqual([
      "http://a:3000/api",
      "http://b:3000/api",
      "http://c:3000/api"
    ])
    expect(parseApiList(["http://x/prefix/api"])).toEqual(["http://x/prefix/api"])
  })

  it("parses instance keys like orchestrator-client's to_hostport", () => {
    expect(parseKey("db1")).toEqual({ hostname: "db1", port: 3306 })
    expect(parseKey("db1:3307")).toEqual({ hostname: "db1", port: 3307 })
    expect(parseKey("db1", 3310)).toEqual({ hostname: "db1", port: 3310 })
    expect(parseKey("[::1]:3307")).toEqual({ hostname: "::1", port: 3307 })
  })

  it("builds contract routes from core/api/Routes.ts and classifies mutations", () => {
    expect(routePath("leaderCheckCode", { errorStatusCode: 503 })).toBe("leader-check/503")
    expect(routePath("health", {})).toBe("health")
    expect(isMutation("instance/db1/3306")).toBe(false)
    expect(isMutation("/api/replication-analysis")).toBe(false)
    expect(isMutation("begin-downtime/db1/3306/me/why/10m")).toBe(true)
    expect(isMutation("relocate/db1/3306/db2/3306")).toBe(true)
    expect(isMutation("graceful-master-takeover/db1")).toBe(true)
    expect(isMutation("some-future-endpoint")).toBe(true)
    expect(isMutation("leader-check/503")).toBe(false)
  })
})

describe("leader discovery", () => {
  it("finds the node answering 200 to leader-check and caches it", async () => {
    setLeader(nodes, 1)
    nodes[1]!.serve("clusters", ["db1:3306"])
    const c = client()
    expect(await Effect.runPromise(c.leader)).toBe(nodes[1]!.api)
    expect(await Effect.runPromise(c.clusters)).toEqual(["db1:3306"])
    expect(await Effect.runPromise(c.clusters)).toEqual(["db1:3306"])
    expect(nodes[1]!.leaderChecks).toBe(1)
  })

  it("prefers list order when two nodes answer 200 (as the sequential loop would)", async () => {
    nodes[1]!.leaderAnswer = "leader"
    nodes[2]!.leaderAnswer = "leader"
    expect(await Effect.runPromise(client().leader)).toBe(nodes[1]!.api)
    expect(await Effect.runPromise(client({ discovery: "sequential" }).leader)).toBe(nodes[1]!.api)
  })

  it("skips a node that never answers (1 s check timeout)", async () => {
    nodes[0]!.leaderAnswer = "hang"
    nodes[2]!.leaderAnswer = "leader"
    expect(await Effect.runPromise(client({ leaderCheckTimeoutMillis: 300 }).leader)).toBe(nodes[2]!.api)
  })

  it("falls back to routed-leader-check when no node answers 200 directly", async () => {
    nodes[0]!.leaderAnswer = "500"
    nodes[1]!.routedLeader = () => true
    try {
      expect(await Effect.runPromise(client().leader)).toBe(nodes[1]!.api)
    } finally {
      nodes[1]!.routedLeader = () => nodes.some((m) => m.leaderAnswer === "leader")
    }
  })

  it("fails with NoLeader when nobody leads", async () => {
    const r = await either(client().leader)
    expect(Either.isLeft(r) && r.left._tag).toBe("NoLeader")
  })

  it("does no leader check with a single URL (proxy or single node), like orchestrator-client", async () => {
    nodes[0]!.serve("clusters", ["x"])
    const c = Effect.runSync(make({ api: nodes[0]!.url }))
    expect(await Effect.runPromise(c.clusters)).toEqual(["x"])
    expect(nodes[0]!.leaderChecks).toBe(0)
  })
})

describe("responses and typed errors", () => {
  it("an ERROR envelope is an ApiError even with HTTP 200", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("instance/db9/3306", { Code: "ERROR", Message: "Cannot read instance: db9:3306", Details: { x: 1 } })
    const r = await either(client().instance("db9:3306"))
    expect(Either.isLeft(r)).toBe(true)
    const e = Either.isLeft(r) ? r.left : undefined
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toMatchObject({ _tag: "ApiError", message: "Cannot read instance: db9:3306", details: { x: 1 }, status: 200 })
  })

  it("raw JSON is a success even with HTTP 500 (the JSON decides)", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("clusters", ["a"], 500)
    expect(await Effect.runPromise(client().clusters)).toEqual(["a"])
  })

  it("decodes typed helpers, keeping the fields it does not declare", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("instance/db2/3306", instanceJson("db2", 3306, ["db1", 3306], { Uptime: 42 }))
    const i = await Effect.runPromise(client().instance({ hostname: "db2", port: 3306 }))
    expect(i.MasterKey).toEqual({ Hostname: "db1", Port: 3306 })
    expect((i as unknown as Record<string, unknown>)["Uptime"]).toBe(42)
  })

  it("a body of the wrong shape or not JSON is a Decode error", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("instance/db2/3306", { nope: true })
    const r1 = await either(client().instance("db2"))
    expect(Either.isLeft(r1) && r1.left._tag).toBe("Decode")
    nodes[0]!.mode = "garbage"
    const r2 = await either(client().get("clusters"))
    expect(Either.isLeft(r2) && r2.left).toMatchObject({ _tag: "Decode", status: 200, body: "<html>not json</html>" })
  })

  it("a node that never answers is a Timeout", async () => {
    setLeader(nodes, 0)
    nodes[0]!.mode = "hang"
    nodes[1]!.mode = "hang"
    const r = await either(client({ timeoutMillis: 200 }).get("clusters"))
    expect(Either.isLeft(r) && r.left._tag).toBe("Timeout")
  })

  it("a refused connection is a Transport error", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const r = await either(Effect.runSync(make({ api: dead, retryDelayMillis: 1 })).get("clusters"))
    expect(Either.isLeft(r) && r.left).toMatchObject({ _tag: "Transport", refused: true })
  })

  it("envelope() checks the shape and decodes Details", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("topology/db1:3306", { Code: "OK", Message: "", Details: "db1:3306 [ok]\n+ db2:3306\n" })
    expect(await Effect.runPromise(client().topology({ hostname: "db1", port: 3306 }))).toBe("db1:3306 [ok]\n+ db2:3306\n")
    nodes[0]!.serve("clusters", ["a"])
    const r = await either(client().envelope("clusters", Schema.Unknown))
    expect(Either.isLeft(r) && r.left._tag).toBe("Decode")
  })
})

describe("the retry rule", () => {
  it("a read that fails on a deposed leader (5xx garbage) is retried once on the new leader", async () => {
    setLeader(nodes, 0)
    nodes[0]!.serve("clusters", ["old"])
    nodes[2]!.serve("clusters", ["new"])
    const c = client()
    expect(await Effect.runPromise(c.clusters)).toEqual(["old"])
    nodes[0]!.mode = "502-empty"
    setLeader(nodes, 2)
    expect(await Effect.runPromise(c.clusters)).toEqual(["new"])
    expect(await Effect.runPromise(c.leader)).toBe(nodes[2]!.api)
  })

  it("a mutation whose outcome is unknown (5xx garbage, timeout) is not retried", async () => {
    setLeader(nodes, 0)
    const c = client({ timeoutMillis: 300 })
    await Effect.runPromise(c.leader)
    nodes[0]!.mode = "502-empty"
    setLeader(nodes, 1)
    nodes[1]!.serve("begin-downtime/db2/3306/me/why/10m", { Code: "OK", Message: "Downtime begun", Details: null })
    const r = await either(c.beginDowntime({ key: "db2", owner: "me", reason: "why", duration: "10m" }))
    expect(Either.isLeft(r) && r.left._tag).toBe("Decode")
    expect(nodes[1]!.seen.length).toBe(0)
    // The failure made the client forget n1; it leads again, so the next request goes back to it.
    setLeader(nodes, 0)
    nodes[0]!.mode = "hang"
    const t = await either(c.request("relocate/db2/3306/db3/3306"))
    expect(Either.isLeft(t) && t.left._tag).toBe("Timeout")
    expect(nodes[1]!.seen.length).toBe(0)
  })

  it("a mutation that failed and was not retried still sends the next request to the new leader, not back to the failed node", async () => {
    setLeader(nodes, 0)
    const c = client({ timeoutMillis: 300 })
    await Effect.runPromise(c.leader)
    // A leader that hangs (stopped, stalled disk) and is deposed meanwhile.
    nodes[0]!.mode = "hang"
    setLeader(nodes, 1)
    nodes[1]!.serve("begin-downtime/db2/3306/me/why/10m", { Code: "OK", Message: "Downtime begun", Details: { Hostname: "db2", Port: 3306 } })
    const first = await either(c.beginDowntime({ key: "db2", owner: "me", reason: "why", duration: "10m" }))
    expect(Either.isLeft(first) && first.left._tag).toBe("Timeout")
    expect(nodes[1]!.seen.length).toBe(0)
    const seenByOld = nodes[0]!.seen.length
    const second = await Effect.runPromise(c.beginDowntime({ key: "db2", owner: "me", reason: "why", duration: "10m" }))
    expect(second).toEqual({ Hostname: "db2", Port: 3306 })
    expect(nodes[0]!.seen.length).toBe(seenByOld)
    expect(await Effect.runPromise(c.leader)).toBe(nodes[1]!.api)
  })

  it("a mutation refused as Unauthorized by a node that is no longer leader is retried on the new leader", async () => {
    setLeader(nodes, 0)
    const c = client()
    await Effect.runPromise(c.leader)
    nodes[0]!.mode = "unauthorized"
    setLeader(nodes, 1)
    nodes[1]!.serve("end-downtime/db2/3306", { Code: "OK", Message: "Downtime ended", Details: null })
    const r = await Effect.runPromise(c.endDowntime("db2:3306"))
    expect(r.Message).toBe("Downtime ended")
  })

  it("a real Unauthorized (same leader after rediscovery) is not retried", async () => {
    setLeader(nodes, 0)
    nodes[0]!.mode = "unauthorized"
    const r = await either(client().endDowntime("db2:3306"))
    expect(Either.isLeft(r) && r.left).toMatchObject({ _tag: "ApiError", message: "Unauthorized", status: 500 })
    expect(nodes[0]!.seen.length).toBe(1)
  })

  it("a mutation against a leader that refuses connections is retried (nothing was sent)", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    let checks = 0
    const fetchImpl = (input: string, init?: RequestInit) => {
      if (input.startsWith(dead) && input.endsWith("/leader-check")) {
        checks++
        return checks === 1 ? Promise.resolve(new Response('"OK"', { status: 200 })) : globalThis.fetch(input, init)
      }
      return globalThis.fetch(input, init)
    }
    setLeader(nodes, 1)
    nodes[1]!.serve("end-downtime/db2/3306", { Code: "OK", Message: "ended", Details: null })
    const c = Effect.runSync(make({ api: [dead, nodes[1]!.url], fetch: fetchImpl, retryDelayMillis: 1 }))
    expect(await Effect.runPromise(c.leader)).toBe(`${dead}/api`)
    expect((await Effect.runPromise(c.endDowntime("db2"))).Message).toBe("ended")
  })
})

describe("Promise interface", () => {
  it("resolves values and rejects with the typed error itself", async () => {
    setLeader(nodes, 2)
    nodes[2]!.serve("clusters-info", [{ ClusterName: "db1:3306", ClusterAlias: "main" }])
    nodes[2]!.serve("master/main", { Code: "ERROR", Message: "no such cluster", Details: null })
    const c = makePromiseClient({ api: nodes.map((n) => n.url) })
    expect(await c.leader()).toBe(nodes[2]!.api)
    expect((await c.clustersInfo())[0]!.ClusterAlias).toBe("main")
    const e: unknown = await c.master("main").catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e).toBeInstanceOf(Error)
    expect(e).toMatchObject({ _tag: "ApiError", message: "no such cluster" })
    expect(await c.get("clusters-info", Schema.Array(Schema.Struct({ ClusterName: Schema.String })))).toMatchObject([
      { ClusterName: "db1:3306" }
    ])
  })
})
