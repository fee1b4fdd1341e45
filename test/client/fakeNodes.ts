/**
 * In-process fake orchestrator nodes: small node:http servers on free loopback ports that answer
 * `/api/leader-check` 200/404 (or never) under test control and serve canned responses.
 */
import * as http from "node:http"
import { freePort } from "../support/ports.js"

export interface Canned {
  readonly status?: number
  readonly body: string | ((req: http.IncomingMessage) => string)
  readonly contentType?: string
}

export type LeaderAnswer = "leader" | "follower" | "hang" | "500"
export type Mode = "normal" | "hang" | "garbage" | "502-empty" | "unauthorized"

export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
}

export class FakeNode {
  leaderAnswer: LeaderAnswer = "follower"
  /** How client requests (everything but the leader checks) are answered. */
  mode: Mode = "normal"
  readonly routes = new Map<string, Canned>()
  readonly seen: Array<SeenRequest> = []
  leaderChecks = 0
  /** Custom handler tried first; return true when it answered. */
  custom: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined
  routedLeader: () => boolean = () => false

  private constructor(
    readonly name: string,
    readonly port: number,
    private server: http.Server
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}`
  }
  get api() {
    return `${this.url}/api`
  }

  static async start(name: string): Promise<FakeNode> {
    const port = await freePort()
    const server = http.createServer()
    const node = new FakeNode(name, port, server)
    server.on("request", (req, res) => node.handle(req, res))
    server.keepAliveTimeout = 10_000
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve))
    return node
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = req.url ?? "/"
    const pathname = url.split("?")[0]!.replace(/\/+$/, "")
    if (pathname === "/api/leader-check") {
      this.leaderChecks++
      switch (this.leaderAnswer) {
        case "hang":
          return
        case "500":
          return json(res, 500, "oops")
        case "leader":
          return json(res, 200, "OK")
        case "follower":
          return json(res, 404, "Not leader")
      }
    }
    if (pathname === "/api/routed-leader-check") {
      if (this.leaderAnswer === "hang") return
      return this.leaderAnswer === "leader" || this.routedLeader() ? json(res, 200, "OK") : json(res, 404, "Not leader")
    }
    this.seen.push({ method: req.method ?? "GET", url, headers: req.headers })
    if (this.custom?.(req, res) === true) return
    switch (this.mode) {
      case "hang":
        return
      case "garbage":
        res.writeHead(200, { "Content-Type": "text/html" }).end("<html>not json</html>")
        return
      case "502-empty":
        res.writeHead(502).end()
        return
      case "unauthorized":
        return json(res, 500, { Code: "ERROR", Message: "Unauthorized", Details: null })
      case "normal":
        break
    }
    const canned = this.routes.get(pathname)
    if (canned === undefined) {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n")
      return
    }
    const body = typeof canned.body === "string" ? canned.body : canned.body(req)
    res.writeHead(canned.status ?? 200, { "Content-Type": canned.contentType ?? "application/json; charset=UTF-8" })
    res.end(body)
  }

  /** Serves `body` (a JSON value, or raw text if a string and raw) at `/api/<path>`. */
  serve(path: string, body: unknown, status = 200) {
    this.routes.set(`/api/${path}`.replace(/\/+$/, ""), { status, body: JSON.stringify(body) })
  }

  async close() {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8" }).end(JSON.stringify(body))
}

/** Three nodes; `routed-leader-check` on any of them answers 200 when some node of the trio leads. */
export const startTrio = async (): Promise<Array<FakeNode>> => {
  const nodes = await Promise.all(["n1", "n2", "n3"].map((n) => FakeNode.start(n)))
  for (const n of nodes) n.routedLeader = () => nodes.some((m) => m.leaderAnswer === "leader")
  return nodes
}

export const setLeader = (nodes: ReadonlyArray<FakeNode>, index: number | undefined) =>
  nodes.forEach((n, i) => {
    if (n.leaderAnswer !== "hang") n.leaderAnswer = i === index ? "leader" : "follower"
  })

export const closeAll = (nodes: ReadonlyArray<FakeNode>) => Promise.all(nodes.map((n) => n.close()))

/** A minimal orchestrator Instance JSON (the fields orchestrator-client reads, plus a few). */
export const instanceJson = (host: string, port: number, master: [string, number] | null, extra: Record<string, unknown> = {}) => ({
  Key: { Hostname: host, Port: port },
  InstanceAlias: "",
  MasterKey: master === null ? { Hostname: "", Port: 0 } : { Hostname: master[0], Port: master[1] },
  ClusterName: "db1:3306",
  DataCenter: "dc1",
  ReadOnly: master !== null,
  ReplicationSQLThreadRuning: master !== null,
  ReplicationIOThreadRuning: master !== null,
  ReplicationSQLThreadState: master !== null ? 1 : -1,
  ReplicationIOThreadState: master !== null ? 1 : -1,
  LastSQLError: "",
  LastIOError: "",
  GtidErrant: "",
  ...extra
})
