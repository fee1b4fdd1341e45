import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { runCli } from "../../client/cli/Cli.js"
import { isMutation } from "../../client/sdk/Paths.js"
import { parseFlags } from "../../client/cli/Flags.js"
import { closeAll, type FakeNode, instanceJson, setLeader, startTrio } from "./fakeNodes.js"

const repoRoot = path.resolve(import.meta.dirname, "../..")
let nodes: Array<FakeNode> = []
let leader: FakeNode

const ok = (details: unknown, message = "") => ({ Code: "OK", Message: message, Details: details })

beforeAll(async () => {
  nodes = await startTrio()
  setLeader(nodes, 1)
  leader = nodes[1]!
  const db1 = instanceJson("db1", 3306, null)
  const db2 = instanceJson("db2", 3306, ["db1", 3306])
  const db3 = instanceJson("db3", 3306, ["db1", 3306], {
    ReplicationSQLThreadRuning: false,
    ReplicationSQLThreadState: 0,
    ReplicationIOThreadState: 0,
    ReplicationIOThreadRuning: false,
    LastSQLError: "Duplicate entry",
    DataCenter: "dc2"
  })
  leader.serve("instance/db2/3306", db2)
  leader.serve("instance/db3/3306", db3)
  leader.serve("instance/nope/3306", { Code: "ERROR", Message: "Cannot read instance: 'nope:3306'", Details: { Hostname: "nope", Port: 3306 } }, 500)
  leader.serve("instance-replicas/db1/3306", [db2, db3])
  leader.serve("all-instances", [db1, db2, db3])
  leader.serve("masters", [db1, instanceJson("m2", 3306, null, { DataCenter: "dc2" }), instanceJson("m3", 3306, null)])
  leader.serve("search", [db2])
  leader.serve("clusters-info", [
    { ClusterName: "db1:3306", ClusterAlias: "main" },
    { ClusterName: "m2:3306", ClusterAlias: null }
  ])
  leader.serve("cluster-info/main", { ClusterName: "db1:3306", ClusterAlias: "main" })
  leader.serve("master/main", db1)
  leader.serve("cluster/main", [db1, db2, db3])
  leader.serve("downtimed", [db3])
  // goJson escapes <, > and & as \u003c...: the CLI prints the decoded text.
  leader.routes.set("/api/topology/main", {
    body: '{"Code":"OK","Message":"","Details":"db1:3306 [0s,ok,8.0.36,rw,ROW] \\u003cprimary\\u003e\\n+ db2:3306 [0s,ok,8.0.36,ro,ROW]\\n"}'
  })
  leader.serve("replication-analysis", [
    {
      AnalyzedInstanceKey: { Hostname: "db1", Port: 3306 },
      ClusterDetails: { ClusterName: "db1:3306" },
      Analysis: "DeadMaster",
      StructureAnalysis: null
    },
    {
      AnalyzedInstanceKey: { Hostname: "db2", Port: 3306 },
      ClusterDetails: { ClusterName: "db1:3306" },
      Analysis: "NoProblem",
      StructureAnalysis: ["NoLoggingReplicasStructureWarning"]
    }
  ].map((x) => x) && ok([
    {
      AnalyzedInstanceKey: { Hostname: "db1", Port: 3306 },
      ClusterDetails: { ClusterName: "db1:3306" },
      Analysis: "DeadMaster",
      StructureAnalysis: null
    },
    {
      AnalyzedInstanceKey: { Hostname: "db2", Port: 3306 },
      ClusterDetails: { ClusterName: "db1:3306" },
      Analysis: "NoProblem",
      StructureAnalysis: ["NoLoggingReplicasStructureWarning"]
    }
  ], "Analysis"))
  const moved = instanceJson("db3", 3306, ["db2", 3306])
  leader.serve("relocate/db3/3306/db2/3306", ok(moved, "Instance relocated"))
  leader.serve("move-below-gtid/db3/3306/db2/3306", ok(moved, "Instance moved"))
  leader.serve("move-up/db3/3306", ok(instanceJson("db3", 3306, ["db0", 3306])))
  leader.serve("relocate-replicas/db1/3306/db2/3306", ok([db2, db3]))
  leader.serve("begin-downtime/db2/3306/alice/kernel%20upgrade/10m", ok({ Hostname: "db2", Port: 3306 }, "Downtime begun"))
  leader.serve("begin-downtime/db2/3306/ops/r/1h", ok({ Hostname: "db2", Port: 3306 }, "Downtime begun"))
  leader.serve("stop-replica/db2/3306", ok(db2))
  leader.serve("delay-replication/db2/3306/60", ok({ Hostname: "db2", Port: 3306 }))
  leader.serve("check-global-recoveries", ok("enabled", "Global recoveries enabled"))
  leader.serve("graceful-master-takeover/main", ok({ Id: 7, SuccessorKey: { Hostname: "db2", Port: 3306 } }))
  leader.serve("can-replicate-from/db3/3306/db2/3306", ok({ Hostname: "db2", Port: 3306 }, "true"))
  leader.serve("tags/db2/3306", ["role=replica", "dc=1"])
  leader.serve("submit-masters-to-kv-stores/main", ok([{ Key: "mysql/master/main", Value: "db1:3306" }]))
  leader.serve("raft-state", "Leader")
  leader.serve("raft-leader", "10.0.0.2:10008")
})
afterAll(() => closeAll(nodes))

const cli = async (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  let stdout = ""
  let stderr = ""
  const code = await runCli(args, { ORCHESTRATOR_API: nodes.map((n) => n.api).join(" "), ...env }, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t)
  }, { user: "alice", pid: 4242 })
  return { code, stdout, stderr }
}

describe("orchestrator-client flags", () => {
  it("parses short, long and attached forms like getopts", () => {
    const warnings: Array<string> = []
    const f = parseFlags(
      ["-c", "relocate", "--alias", "main", "-idb1:3306", "-s", "db2", "--duration=1h", "-x", "--json"],
      (w) => warnings.push(w)
    )
    expect(f).toMatchObject({ command: "relocate", alias: "main", instance: "db1:3306", destination: "db2", duration: "1h", json: true })
    expect(warnings).toEqual(["illegal option -- x"])
    expect(parseFlags(["-c", "x"], () => {})).toMatchObject({ duration: "10m", defaultPort: "3306", owner: undefined })
  })
})

describe("the retry rule's classification of the CLI's endpoints (docs/client.md)", () => {
  const instanceCommands = [
    "stop-replica", "stop-replica-nice", "start-replica", "restart-replica", "reset-replica", "detach-replica",
    "reattach-replica", "detach-replica-master-host", "reattach-replica-master-host", "skip-query",
    "gtid-errant-reset-master", "gtid-errant-inject-empty", "enable-semi-sync-master", "disable-semi-sync-master",
    "enable-semi-sync-replica", "disable-semi-sync-replica", "set-read-only", "set-writeable", "flush-binary-logs"
  ]
  const mutations = [
    "discover/h/1", "async-discover/h/1", "forget/h/1", "forget-cluster/c", "snapshot-topologies",
    "submit-masters-to-kv-stores/c", "relocate/h/1/h/2", "relocate-replicas/h/1/h/2", "match/h/1/h/2", "match-up/h/1",
    "match-up-replicas/h/1/", "move-up/h/1", "move-below/h/1/h/2", "move-equivalent/h/1/h/2", "move-up-replicas/h/1/",
    "make-co-master/h/1", "take-master/h/1", "move-below-gtid/h/1/h/2", "move-replicas-gtid/h/1/h/2", "repoint/h/1/h/2",
    "repoint-replicas/h/1/", "take-siblings/h/1", "regroup-replicas/h/1", "tag/h/1?tag=a", "untag/h/1?tag=a", "untag-all?tag=a",
    "submit-pool-instances/p?instances=a", "begin-downtime/h/1/o/r/10m", "end-downtime/h/1", "begin-maintenance/h/1/o/r",
    "end-maintenance/h/1", "register-candidate/h/1/prefer", "register-hostname-unresolve/h/1/x",
    "deregister-hostname-unresolve/h/1", "delay-replication/h/1/5", "purge-binary-logs/h/1/b", "recover/h/1",
    "graceful-master-takeover/c", "graceful-master-takeover-auto/c/h/1", "force-master-failover/c",
    "force-master-takeover/c/h/1", "ack-recovery/cluster/c?comment=x", "ack-all-recoveries?comment=x",
    "disable-global-recoveries", "enable-global-recoveries", "raft-yield-hint/x",
    ...instanceCommands.map((c) => `${c}/h/1`)
  ]
  const reads = [
    "instance/h/1", "search?s=x", "clusters-info", "cluster-info/c", "master/c", "cluster/c", "masters", "all-instances",
    "cluster-osc-replicas/c", "downtimed/", "topology/c", "topology-tabulated/c", "topology-tags/c",
    "instance-replicas/h/1", "tags/h/1", "tag-value/h/1?tag=a", "tagged/?tag=a", "heuristic-cluster-pool-instances/c/",
    "locate-gtid-errant/h/1", "restart-replica-statements/h/1?q=x", "can-replicate-from/h/1/h/2",
    "can-replicate-from-gtid/h/1/h/2", "last-pseudo-gtid/h/1", "check-global-recoveries", "replication-analysis",
    "raft-state", "raft-leader", "raft-health", "status"
  ]
  it("mutating commands hit mutation endpoints, reading commands read-only ones", () => {
    expect(mutations.filter((p) => !isMutation(p))).toEqual([])
    expect(reads.filter((p) => isMutation(p))).toEqual([])
  })
})

describe("orchestrator-client commands (same output as the upstream script)", () => {
  it("which-api finds the leader among several URLs", async () => {
    expect(await cli(["-c", "which-api"])).toEqual({ code: 0, stdout: `${leader.api}\n`, stderr: "" })
  })

  it("keys, one host:port per line; host without port gets 3306", async () => {
    expect((await cli(["-c", "which-replicas", "-i", "db1"])).stdout).toBe("db2:3306\ndb3:3306\n")
    expect((await cli(["-c", "which-broken-replicas", "-i", "db1:3306"])).stdout).toBe("db3:3306\n")
    expect((await cli(["-c", "all-instances"])).stdout).toBe("db1:3306\ndb2:3306\ndb3:3306\n")
    expect((await cli(["-c", "which-master", "-i", "db2"])).stdout).toBe("db1:3306\n")
    expect((await cli(["-c", "instance", "-i", "db2"])).stdout).toBe("db2:3306\n")
    expect((await cli(["-c", "search", "-i", "db"])).stdout).toBe("db2:3306\n")
    expect((await cli(["-c", "which-cluster-instances", "-a", "main"])).stdout).toBe("db1:3306\ndb2:3306\ndb3:3306\n")
    expect((await cli(["-c", "downtimed"])).stdout).toBe("db3:3306\n")
  })

  it("is-replicating / is-replication-stopped print the key or nothing", async () => {
    expect((await cli(["-c", "is-replicating", "-i", "db2"])).stdout).toBe("db2:3306\n")
    expect((await cli(["-c", "is-replicating", "-i", "db3"])).stdout).toBe("")
    expect((await cli(["-c", "is-replication-stopped", "-i", "db3"])).stdout).toBe("db3:3306\n")
  })

  it("relocations print instance<master; bulk relocations print keys", async () => {
    expect(await cli(["-c", "relocate", "-i", "db3", "-d", "db2:3306"])).toEqual({ code: 0, stdout: "db3:3306<db2:3306\n", stderr: "" })
    expect((await cli(["-c", "move-up", "-i", "db3"])).stdout).toBe("db3:3306<db0:3306\n")
    expect((await cli(["-c", "relocate-replicas", "-i", "db1", "-d", "db2"])).stdout).toBe("db2:3306\ndb3:3306\n")
  })

  it("move-gtid calls move-below-gtid (upstream's /api/move-gtid does not exist)", async () => {
    leader.seen.length = 0
    expect((await cli(["-c", "move-gtid", "-i", "db3", "-d", "db2"])).stdout).toBe("db3:3306<db2:3306\n")
    expect(leader.seen.map((s) => s.url)).toEqual(["/api/move-below-gtid/db3/3306/db2/3306"])
  })

  it("topology text as-is, with Go's \\u003c escapes decoded", async () => {
    expect((await cli(["-c", "topology", "-a", "main"])).stdout).toBe(
      "db1:3306 [0s,ok,8.0.36,rw,ROW] <primary>\n+ db2:3306 [0s,ok,8.0.36,ro,ROW]\n\n"
    )
  })

  it("replication-analysis lines, StructureAnalysis[0] for NoProblem", async () => {
    expect((await cli(["-c", "replication-analysis"])).stdout).toBe(
      "db1:3306 (cluster db1:3306): DeadMaster\ndb2:3306 (cluster db1:3306): NoLoggingReplicasStructureWarning\n"
    )
  })

  it("clusters, clusters-alias (name,alias; a null alias vanishes like jq's +), which-cluster*", async () => {
    expect((await cli(["-c", "clusters"])).stdout).toBe("db1:3306\nm2:3306\n")
    expect((await cli(["-c", "clusters-alias"])).stdout).toBe("db1:3306,main\nm2:3306,\n")
    expect((await cli(["-c", "which-cluster", "-a", "main"])).stdout).toBe("db1:3306\n")
    expect((await cli(["-c", "which-cluster-alias", "-a", "main"])).stdout).toBe("main\n")
    expect((await cli(["-c", "which-cluster-master", "-a", "main"])).stdout).toBe("db1:3306\n")
    expect((await cli(["-c", "dominant-dc"])).stdout).toBe("dc1\n")
  })

  it("downtime with the current user as default owner and 10m default duration", async () => {
    leader.seen.length = 0
    expect((await cli(["-c", "begin-downtime", "-i", "db2", "-r", "kernel upgrade"])).stdout).toBe("db2:3306\n")
    expect(leader.seen[0]!.url).toBe("/api/begin-downtime/db2/3306/alice/kernel%20upgrade/10m")
    expect((await cli(["-c", "begin-downtime", "-i", "db2", "--owner", "ops", "--reason", "r", "--duration", "1h"])).stdout).toBe(
      "db2:3306\n"
    )
    expect((await cli(["-c", "begin-downtime", "-i", "db2"])).stderr).toBe("orchestrator-client[4242]: reason must be provided\n")
  })

  it("slave in a command name is rewritten to replica", async () => {
    leader.seen.length = 0
    expect((await cli(["-c", "stop-slave", "-i", "db2"])).stdout).toBe("db2:3306\n")
    expect(leader.seen[0]!.url).toBe("/api/stop-replica/db2/3306")
  })

  it("details outputs: echo $details on one line, jq -r for strings, successor keys, kv pairs, tags", async () => {
    expect((await cli(["-c", "delay-replication", "-i", "db2", "-S", "60"])).stdout).toBe('{ "Hostname": "db2", "Port": 3306 }\n')
    expect((await cli(["-c", "check-global-recoveries"])).stdout).toBe("enabled\n")
    expect((await cli(["-c", "graceful-master-takeover", "-a", "main"])).stdout).toBe("db2:3306\n")
    expect((await cli(["-c", "can-replicate-from", "-i", "db3", "-d", "db2"])).stdout).toBe("db2:3306\n")
    expect((await cli(["-c", "submit-masters-to-kv-stores", "-a", "main"])).stdout).toBe("mysql/master/main:db1:3306\n")
    expect((await cli(["-c", "tags", "-i", "db2"])).stdout).toBe("role=replica\ndc=1\n")
    expect((await cli(["-c", "raft-leader"])).stdout).toBe("10.0.0.2:10008\n")
  })

  it("api prints the response on one line; --json prints raw JSON", async () => {
    expect((await cli(["-c", "api", "-P", "clusters-info"])).stdout).toBe(
      '[ { "ClusterName": "db1:3306", "ClusterAlias": "main" }, { "ClusterName": "m2:3306", "ClusterAlias": null } ]\n'
    )
    expect((await cli(["-c", "which-master", "-i", "db2", "--json"])).stdout).toBe(
      `${JSON.stringify(instanceJson("db2", 3306, ["db1", 3306]))}\n`
    )
  })

  it("an ERROR envelope: Message without single quotes on stderr, Details on stdout, exit 1", async () => {
    expect(await cli(["-c", "instance", "-i", "nope"])).toEqual({
      code: 1,
      stdout: '{ "Hostname": "nope", "Port": 3306 }\n',
      stderr: "Cannot read instance: nope:3306\n"
    })
    const raw = await cli(["-c", "api", "-P", "instance/nope/3306"])
    expect(raw.code).toBe(1)
    expect(raw.stdout).toBe('{ "Code": "ERROR", "Message": "Cannot read instance: \'nope:3306\'", "Details": { "Hostname": "nope", "Port": 3306 } }\n')
  })

  it("fails like the script: no command, unknown command, no leader, unreachable API", async () => {
    expect(await cli([])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^orchestrator-client\[4242\]: No command given/) })
    expect(await cli(["-c", "frobnicate"])).toMatchObject({ code: 1, stderr: "orchestrator-client[4242]: Unsupported command frobnicate\n" })
    const none = nodes.slice(0, 1).map((n) => n.api).concat([nodes[2]!.api]).join(" ")
    const routed = nodes.map((n) => n.routedLeader)
    for (const n of nodes) n.routedLeader = () => false
    try {
      expect(await cli(["-c", "clusters"], { ORCHESTRATOR_API: none })).toMatchObject({
        code: 1,
        stderr: `orchestrator-client[4242]: Cannot determine leader from ${none}\n`
      })
    } finally {
      nodes.forEach((n, i) => (n.routedLeader = routed[i]!))
    }
    const garbage = await cli(["-c", "clusters"], { ORCHESTRATOR_API: `${nodes[0]!.url}/nothing-here` })
    expect(garbage.code).toBe(1)
    expect(garbage.stderr).toMatch(/Cannot access orchestrator at .*nothing-here\/api\.  Check ORCHESTRATOR_API/)
  })

  it("a mutation whose leader fails mid-request (not re-sent) names that node, without discovering the leader again", async () => {
    // The leader is deposed while it handles the request, and answers a bodiless 502.
    const checksBefore = nodes.map((n) => n.leaderChecks)
    leader.custom = (req, res) => {
      if (!req.url?.startsWith("/api/relocate/")) return false
      setLeader(nodes, 2)
      res.writeHead(502).end()
      return true
    }
    try {
      expect(await cli(["-c", "relocate", "-i", "db3", "-d", "db2"])).toEqual({
        code: 1,
        stdout: "",
        stderr: `orchestrator-client[4242]: Cannot access orchestrator at ${leader.api}.  Check ORCHESTRATOR_API is configured correctly and orchestrator is running\n`
      })
      // One discovery (at start), none after the failure.
      expect(nodes.map((n, i) => n.leaderChecks - checksBefore[i]!)).toEqual([1, 1, 1])
    } finally {
      leader.custom = undefined
      setLeader(nodes, 1)
    }
  })

  it("help lists every command", async () => {
    const r = await cli(["-c", "help"])
    expect(r.code).toBe(0)
    for (const c of ["which-api", "relocate", "move-gtid", "replication-analysis", "raft-elect-leader", "begin-downtime"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, "m"))
    }
    expect((await cli(["--help"])).stdout).toBe(r.stdout)
  })
})

/**
 * The installed entry point (bin/orchestrator-client.js over dist/) when dist is at least as new as
 * the client sources (`npx tsc -p tsconfig.build.json`), else the same main.ts through tsx.
 */
const entry = (): ReadonlyArray<string> => {
  const built = path.join(repoRoot, "dist/client/cli/main.js")
  const newest = (dir: string): number =>
    Math.max(
      ...fs.readdirSync(dir, { withFileTypes: true }).map((d) =>
        d.isDirectory() ? newest(path.join(dir, d.name)) : fs.statSync(path.join(dir, d.name)).mtimeMs
      )
    )
  const fresh = fs.existsSync(built) && fs.statSync(built).mtimeMs >= newest(path.join(repoRoot, "client"))
  return fresh ? [path.join(repoRoot, "bin/orchestrator-client.js")] : ["--import", "tsx", path.join(repoRoot, "client/cli/main.ts")]
}

describe("orchestrator-client as a process", () => {
  const run = (args: ReadonlyArray<string>, env: Record<string, string>) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [...entry(), ...args], {
        cwd: repoRoot,
        env: { ...process.env, ORCHESTRATOR_CLIENT_PROFILE: "/nonexistent", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d) => (stdout += d))
      child.stderr.on("data", (d) => (stderr += d))
      child.on("exit", (code) => resolve({ code, stdout, stderr }))
    })

  it("runs with ORCHESTRATOR_API listing the nodes (comma-separated), exit codes and streams", async () => {
    const api = nodes.map((n) => n.url).join(",")
    const good = await run(["-c", "relocate", "-i", "db3", "-d", "db2"], { ORCHESTRATOR_API: api })
    expect(good).toEqual({ code: 0, stdout: "db3:3306<db2:3306\n", stderr: "" })
    const bad = await run(["-c", "which-master", "-i", "nope"], { ORCHESTRATOR_API: api })
    expect(bad).toEqual({ code: 1, stdout: '{ "Hostname": "nope", "Port": 3306 }\n', stderr: "Cannot read instance: nope:3306\n" })
    const help = await run(["-c", "help"], {})
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: orchestrator-client -c <command>/)
  })
})
