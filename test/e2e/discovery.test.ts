/**
 * End to end: the real `orchestrator` binary (dist/; build first) discovers a real MariaDB topology through
 * /api/discover and serves the instance, cluster and topology routes in orchestrator's shapes. The topology user
 * comes from a credentials file (MySQLTopologyCredentialsConfigFile).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Shape, startTopology, type Topology } from "../harness/Topology.js"
import { type NodeProcess, startNode } from "../support/nodeProcess.js"

let topo: Topology
let node: NodeProcess

const get = async (p: string) => {
  const r = await fetch(`${node.url}/api/${p}`)
  const text = await r.text()
  return { status: r.status, text, body: JSON.parse(text) as unknown }
}
type Envelope = { readonly Code: string; readonly Message: string; readonly Details: unknown }
const envelope = async (p: string) => {
  const r = await get(p)
  return { status: r.status, ...(r.body as Envelope) }
}
type InstanceJson = Record<string, unknown> & { readonly Key: { readonly Hostname: string; readonly Port: number } }

const waitFor = async <A>(what: string, check: () => Promise<A | undefined>, timeoutMs = 20_000): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

let credentialsDir: string | undefined

beforeAll(async () => {
  topo = await startTopology({ shape: Shape.masterWithReplicas(2) })
  // The topology credentials come from a my.cnf-style file (MySQLTopologyCredentialsConfigFile), which
  // replaces the user and password of the JSON config: the wrong ones there would fail every probe.
  credentialsDir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-creds-"))
  const credentials = path.join(credentialsDir, "topology.cnf")
  const { MySQLTopologyUser: user, MySQLTopologyPassword: password } = topo.orchestratorConfig
  fs.writeFileSync(credentials, `[mysql]\nuser = nobody\n\n[client]\nuser = ${user}\npassword = "${password}"\n`)
  node = await startNode({
    ...topo.orchestratorConfig,
    MySQLTopologyUser: "wrong-user",
    MySQLTopologyPassword: "wrong-password",
    MySQLTopologyCredentialsConfigFile: credentials,
    InstancePollSeconds: 1,
    MySQLConnectTimeoutSeconds: 1
  })
}, 120_000)
afterAll(async () => {
  await node?.stop()
  await topo?.stop()
  if (credentialsDir !== undefined) fs.rmSync(credentialsDir, { recursive: true, force: true })
})

describe("discovery through the node's HTTP API", () => {
  it("serves orchestrator's empty answers before anything is known", async () => {
    expect((await get("clusters")).text).toBe("null")
    expect((await get("all-instances")).text).toBe("[]")
    expect((await get("clusters-info")).text).toBe("[]")
    expect((await get("problems")).text).toBe("null")
    expect((await get("masters")).text).toBe("null")
    expect(await envelope("instance/127.0.0.1/3306")).toEqual({
      status: 500,
      Code: "ERROR",
      Message: "Cannot read instance: 127.0.0.1:3306",
      Details: null
    })
  })

  it("refuses bad input with a clear error envelope", async () => {
    const zero = await envelope("discover/127.0.0.1/0")
    expect(zero.status).toBe(400)
    expect(zero.Message).toContain("port: expected a port number (1-65535), got \"0\"")
    const big = await envelope("discover/127.0.0.1/99999")
    expect(big.status).toBe(400)
    expect(big.Message).toContain("got \"99999\"")
    const unknown = await envelope("discover/no-such-host.invalid/3306")
    expect(unknown.status).toBe(500)
    expect(unknown.Message).toContain("no-such-host.invalid:3306: unknown host")
    // The node's own HTTP port is not a MySQL server: no handshake comes.
    const http = await envelope(`discover/127.0.0.1/${node.port}`)
    expect(http.status).toBe(500)
    expect(http.Message).toContain("not a MySQL server")
  })

  it("discovers the whole cluster from one replica and serves it", async () => {
    const replica = topo.replicas[1]!
    const t0 = Date.now()
    const discovered = await envelope(`discover/127.0.0.1/${replica.port}`)
    expect(discovered.status).toBe(200)
    expect(discovered.Message).toBe(`Instance discovered: ${replica.key}`)
    expect((discovered.Details as InstanceJson).Key).toEqual({ Hostname: "127.0.0.1", Port: replica.port })
    const cluster = await waitFor("the cluster with 3 instances", async () => {
      const r = await get(`cluster/${topo.master.key}`)
      const list = r.body as ReadonlyArray<InstanceJson>
      return r.status === 200 && Array.isArray(list) && list.length === 3 ? list : undefined
    })
    console.log(`e2e: cluster of 3 discovered from a replica through /api/discover in ${Date.now() - t0} ms`)
    expect(cluster.map((i) => i.Key.Port).sort()).toEqual(topo.instances.map((i) => i.port).sort())
    expect((await get("clusters")).body).toEqual([topo.master.key])

    const master = (await get(`instance/127.0.0.1/${topo.master.port}`)).body as InstanceJson
    expect(master).toMatchObject({
      ClusterName: topo.master.key,
      FlavorName: "MariaDB",
      ReplicationDepth: 0,
      ReadOnly: false,
      IsLastCheckValid: true,
      MasterKey: { Hostname: "", Port: 0 },
      Replicas: topo.replicas.map((r) => ({ Hostname: "127.0.0.1", Port: r.port })).sort((a, b) => a.Port - b.Port)
    })
    expect(Object.keys(master).slice(0, 4)).toEqual(["Key", "InstanceAlias", "Uptime", "ServerID"])
    const replicas = (await get(`instance-replicas/127.0.0.1/${topo.master.port}`)).body as ReadonlyArray<InstanceJson>
    expect(replicas.map((r) => r.Key.Port).sort()).toEqual(topo.replicas.map((r) => r.port).sort())
    expect((await get(`master/${replica.key}`)).body).toMatchObject({ Key: { Port: topo.master.port } })
    expect(((await get("masters")).body as ReadonlyArray<InstanceJson>).map((m) => m.Key.Port)).toEqual([topo.master.port])
    expect(((await get(`search?s=${replica.port}`)).body as ReadonlyArray<InstanceJson>).map((m) => m.Key.Port)).toEqual([replica.port])
    expect(((await get(`search/${replica.port}`)).body as ReadonlyArray<InstanceJson>).length).toBe(1)
    expect((await get(`cluster-info/${topo.master.key}`)).body).toEqual({
      ClusterName: topo.master.key,
      ClusterAlias: topo.master.key,
      ClusterDomain: "",
      CountInstances: 3,
      HeuristicLag: 0,
      HasAutomatedMasterRecovery: false,
      HasAutomatedIntermediateMasterRecovery: false
    })
  })

  it("serves the ASCII topology, plain and tabulated", async () => {
    const topology = await envelope(`topology/${topo.master.key}`)
    expect(topology.Message).toBe(`Topology for cluster ${topo.master.key}`)
    const lines = (topology.Details as string).split("\n")
    console.log(`e2e: /api/topology\n${topology.Details as string}`)
    const [first, ...rest] = lines
    expect(first).toMatch(new RegExp(`^${topo.master.key.replace(/\./g, "\\.")} +\\[0s,ok,10\\.11\\.[^,]+,rw,ROW,>>\\]$`))
    expect(rest.length).toBe(2)
    for (const line of rest) expect(line).toMatch(/^\+ 127\.0\.0\.1:\d+ +\[0s,ok,10\.11\.[^,]+,ro,ROW,>>,GTID\]$/)
    // aligned on the "["
    expect(new Set(lines.map((l) => l.indexOf("["))).size).toBe(1)
    const byInstance = await envelope(`topology/127.0.0.1/${topo.replicas[0]!.port}`)
    expect(byInstance.Details).toBe(topology.Details)
    const tab = await envelope(`topology-tabulated/${topo.master.key}`)
    const tabLines = (tab.Details as string).split("\n")
    expect(tabLines[0]).toMatch(/^127\.0\.0\.1:\d+ +\|0s\|ok\|10\.11\.[^|]+\|rw\|ROW\|>> *$/)
    expect(tabLines[1]).toMatch(/^\+ 127\.0\.0\.1:\d+\|0s\|ok\|10\.11\.[^|]+\|ro\|ROW\|>>,GTID$/)
  })

  it("downtime and alias show in the instance routes", async () => {
    const replica = topo.replicas[0]!
    expect((await get("downtimed")).text).toBe("[]")
    expect((await envelope(`begin-downtime/127.0.0.1/${replica.port}/ops/test/1h`)).Code).toBe("OK")
    const downtimed = (await get(`downtimed/${topo.master.key}`)).body as ReadonlyArray<InstanceJson>
    expect(downtimed.map((i) => [i.Key.Port, i.IsDowntimed, i.DowntimeOwner, i.DowntimeReason])).toEqual([
      [replica.port, true, "ops", "test"]
    ])
    expect((await envelope(`end-downtime/127.0.0.1/${replica.port}`)).Code).toBe("OK")
    expect((await envelope(`set-cluster-alias/${topo.master.key}?alias=e2e-main`)).Code).toBe("OK")
    expect(((await get("cluster/alias/e2e-main")).body as ReadonlyArray<InstanceJson>).length).toBe(3)
    expect((await get("cluster-info/alias/e2e-main")).body).toMatchObject({ ClusterName: topo.master.key, ClusterAlias: "e2e-main" })
    expect((await envelope("topology/e2e-main")).Code).toBe("OK")
    expect(await envelope("cluster/alias/nope")).toMatchObject({ status: 500, Message: "No cluster found for alias nope" })
    expect(await envelope("cluster/nope")).toMatchObject({ status: 500, Message: "Unable to determine cluster name. clusterHint=nope" })
  })

  it("a replica with a stopped SQL thread is listed in problems", async () => {
    const replica = topo.replicas[0]!
    await replica.query("STOP SLAVE SQL_THREAD", [], { user: "admin" })
    try {
      const problems = await waitFor("a problem", async () => {
        const list = (await get("problems")).body as ReadonlyArray<InstanceJson> | null
        return list !== null && list.some((i) => i.Key.Port === replica.port) ? list : undefined
      }, 10_000)
      expect(problems.find((i) => i.Key.Port === replica.port)!.Problems).toEqual(["not_replicating"])
      expect(((await get(`problems/${topo.master.key}`)).body as ReadonlyArray<InstanceJson>).length).toBe(1)
    } finally {
      await replica.query("START SLAVE SQL_THREAD", [], { user: "admin" })
    }
  })

  it("forget removes an instance; refresh and async-discover bring it back", async () => {
    const replica = topo.replicas[1]!
    expect(await envelope(`forget/127.0.0.1/${replica.port}`)).toEqual({
      status: 200,
      Code: "OK",
      Message: `Instance forgotten: ${replica.key}`,
      Details: { Hostname: "127.0.0.1", Port: replica.port }
    })
    expect((await envelope(`instance/127.0.0.1/${replica.port}`)).Message).toBe(`Cannot read instance: ${replica.key}`)
    expect((await envelope(`async-discover/127.0.0.1/${replica.port}`)).Message).toBe(
      `Asynchronous discovery initiated for Instance: ${replica.key}`
    )
    await waitFor("the replica back", async () => ((await get(`instance/127.0.0.1/${replica.port}`)).status === 200 ? true : undefined))
    expect((await envelope(`refresh/127.0.0.1/${replica.port}`)).Message).toBe(`Instance refreshed: ${replica.key}`)
  })
})
