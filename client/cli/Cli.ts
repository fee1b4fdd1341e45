/**
 * orchestrator-client, runtime-neutral: `runCli(argv, env, io)` returns the exit code. Behaviour
 * and output formats follow orchestrator's `resources/bin/orchestrator-client` (spec §3) so that
 * scripts written for it run unchanged; docs/client.md lists the few deliberate differences.
 */
import { Effect, Either } from "effect"
import { type ClientError } from "../sdk/Errors.js"
import { type FetchLike, make } from "../sdk/Client.js"
import { path, segment } from "../sdk/Paths.js"
import { type Flags, parseFlags } from "./Flags.js"
import { add, collapse, each, field, keyList, keysOf, keyText, pretty, raw, tostring } from "./Jq.js"

export interface CliIo {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
}

export interface CliDeps {
  /** `whoami`: the default downtime/maintenance owner. */
  readonly user: string
  /** Shown in failure messages as `orchestrator-client[pid]: ...`, like the script's `$$`. */
  readonly pid: number
  readonly fetch?: FetchLike | undefined
  /** Per-request deadline (default 10 min: orchestrator-client's curl has none, takeovers can be slow). */
  readonly timeoutMillis?: number | undefined
}

const myname = "orchestrator-client"

class Exit {
  constructor(readonly code: number) {}
}

interface Ctx {
  readonly f: Flags
  readonly command: string
  readonly instance: string
  readonly instanceHostport: string
  readonly destinationHostport: string
  readonly owner: string
  /** alias, else the -i text as given (orchestrator-client's `${alias:-$instance}`). */
  readonly hint: string
  readonly api: (p: string, rawOutput?: boolean) => Promise<{ response: unknown; details: unknown }>
  readonly out: (line: string) => void
  readonly fail: (message: string) => never
  readonly need: (name: string, value: string) => void
  readonly leaderApi: () => string
}

type Command = (c: Ctx) => Promise<void>
interface CommandDef {
  readonly names: ReadonlyArray<string>
  readonly help: string
  readonly run: Command
}

const hasCode = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && "Code" in v

const printKey = (c: Ctx, v: unknown) => {
  const k = keyText(v)
  if (k !== undefined) c.out(k)
}
const printKeys = (c: Ctx, keys: ReadonlyArray<string>) => keys.forEach((k) => c.out(k))
/** `echo $api_details`: one line; an absent Details (raw JSON answer) echoes an empty line. */
const echoDetails = (c: Ctx, details: unknown) => c.out(details === undefined ? "" : collapse(pretty(details)))
const rawDetails = (c: Ctx, details: unknown) => {
  if (details !== undefined) c.out(raw(details))
}

const instanceCommand: Command = async (c) => {
  c.need("instance", c.instanceHostport)
  const { details } = await c.api(`${c.command}/${c.instanceHostport}`)
  printKey(c, field(details, "Key"))
}
const relocation = (endpoint?: string): Command => async (c) => {
  c.need("instance", c.instanceHostport)
  c.need("destination", c.destinationHostport)
  const { details } = await c.api(`${endpoint ?? c.command}/${c.instanceHostport}/${c.destinationHostport}`)
  c.out(`${keyText(field(details, "Key")) ?? ""}<${keyText(field(details, "MasterKey")) ?? ""}`)
}
const singleRelocation: Command = async (c) => {
  c.need("instance", c.instanceHostport)
  const { details } = await c.api(`${c.command}/${c.instanceHostport}`)
  c.out(`${keyText(field(details, "Key")) ?? ""}<${keyText(field(details, "MasterKey")) ?? ""}`)
}
const replicasRelocation = (needsDestination: boolean): Command => async (c) => {
  c.need("instance", c.instanceHostport)
  if (needsDestination) c.need("destination", c.destinationHostport)
  const { details } = await c.api(`${c.command}/${c.instanceHostport}/${c.destinationHostport}`)
  printKeys(c, keysOf(details))
}
const keyDetails = (build: (c: Ctx) => string, checks: (c: Ctx) => void = () => {}): Command => async (c) => {
  checks(c)
  const { details } = await c.api(build(c))
  printKey(c, details)
}
const rawDetailsOf = (build: (c: Ctx) => string, checks: (c: Ctx) => void = () => {}): Command => async (c) => {
  checks(c)
  const { details } = await c.api(build(c))
  rawDetails(c, details)
}
const instancesOf = (build: (c: Ctx) => string, filter: (i: unknown) => boolean = () => true): Command => async (c) => {
  const { response } = await c.api(build(c))
  printKeys(c, keysOf(each(response).filter(filter)))
}
const hinted = (endpoint: string) => (c: Ctx) => {
  c.need("instance|alias", c.hint)
  return `${endpoint}/${segment(c.hint)}`
}
const topology = (endpoint: string): Command => async (c) => {
  const { response } = await c.api(hinted(endpoint)(c))
  c.out(raw(field(response, "Details")))
}
const successor = (build: (c: Ctx) => string): Command => async (c) => {
  const { details } = await c.api(build(c))
  printKey(c, field(details, "SuccessorKey"))
}
const raftLeaderFirst = async (c: Ctx) => {
  const { response } = await c.api("raft-state")
  if (!raw(response).includes("Leader")) c.fail("Cannot determine raft state")
}
const threadsAre = (state: number) => (i: unknown) =>
  field(i, "ReplicationSQLThreadState") === state && field(i, "ReplicationIOThreadState") === state
const isBroken = (i: unknown) =>
  (field(i, "ReplicationSQLThreadRuning") === false || field(i, "ReplicationIOThreadRuning") === false) &&
  (field(i, "LastSQLError") !== "" || field(i, "LastIOError") !== "")
const isRunning = (i: unknown) =>
  field(i, "ReplicationSQLThreadRuning") === true && field(i, "ReplicationIOThreadRuning") === true

const instanceCommands = [
  "stop-replica",
  "stop-replica-nice",
  "start-replica",
  "restart-replica",
  "reset-replica",
  "detach-replica",
  "reattach-replica",
  "detach-replica-master-host",
  "reattach-replica-master-host",
  "skip-query",
  "gtid-errant-reset-master",
  "gtid-errant-inject-empty",
  "enable-semi-sync-master",
  "disable-semi-sync-master",
  "enable-semi-sync-replica",
  "disable-semi-sync-replica",
  "set-read-only",
  "set-writeable",
  "flush-binary-logs"
] as const

export const commands: ReadonlyArray<CommandDef> = [
  { names: ["help"], help: "Show this help", run: async () => {} },
  { names: ["which-api"], help: "Print the leader's API URL", run: async (c) => c.out(c.leaderApi()) },
  {
    names: ["api"],
    help: "GET any API path (--path), print the JSON response on one line",
    run: async (c) => {
      c.need("path", c.f.path)
      const { response } = await c.api(c.f.path, true)
      c.out(collapse(pretty(response)))
    }
  },
  {
    names: ["async-discover"],
    help: "Discover an instance in the background",
    run: keyDetails((c) => `async-discover/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  {
    names: ["discover"],
    help: "Discover an instance now and print its key",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { details } = await c.api(`discover/${c.instanceHostport}`)
      printKey(c, field(details, "Key"))
    }
  },
  {
    names: ["forget"],
    help: "Forget an instance",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      await c.api(`forget/${c.instanceHostport}`)
    }
  },
  {
    names: ["forget-cluster"],
    help: "Forget a whole cluster (alias or instance)",
    run: async (c) => {
      await c.api(hinted("forget-cluster")(c))
    }
  },
  { names: ["topology"], help: "ASCII tree of a cluster (alias or instance)", run: topology("topology") },
  { names: ["topology-tabulated"], help: "ASCII tree of a cluster, tabulated", run: topology("topology-tabulated") },
  { names: ["topology-tags"], help: "ASCII tree of a cluster with instance tags", run: topology("topology-tags") },
  {
    names: ["snapshot-topologies"],
    help: "Record a snapshot of every instance's master",
    run: async (c) => {
      const { response } = await c.api("snapshot-topologies")
      c.out(raw(field(response, "Details")))
    }
  },
  {
    names: ["clusters"],
    help: "List cluster names",
    run: async (c) => {
      const { response } = await c.api("clusters-info")
      each(response).forEach((i) => c.out(raw(field(i, "ClusterName"))))
    }
  },
  {
    names: ["clusters-alias"],
    help: "List clusters as name,alias",
    run: async (c) => {
      const { response } = await c.api("clusters-info")
      each(response).forEach((i) => {
        const line = add(field(i, "ClusterName"), ",", field(i, "ClusterAlias"))
        if (line !== undefined) c.out(line)
      })
    }
  },
  {
    names: ["search"],
    help: "Instances whose key matches a substring (-i)",
    run: async (c) => {
      c.need("instance", c.instance)
      const { response } = await c.api(path(["search"], { s: c.instance }))
      printKeys(c, keysOf(response))
    }
  },
  {
    names: ["instance", "which-instance"],
    help: "The instance's key, or an error if unknown",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`instance/${c.instanceHostport}`)
      printKey(c, field(response, "Key"))
    }
  },
  {
    names: ["which-master"],
    help: "The instance's master",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`instance/${c.instanceHostport}`)
      printKey(c, field(response, "MasterKey"))
    }
  },
  {
    names: ["which-replicas"],
    help: "The instance's replicas",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      await instancesOf(() => `instance-replicas/${c.instanceHostport}`)(c)
    }
  },
  {
    names: ["which-broken-replicas"],
    help: "The instance's replicas with a stopped thread and an error",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      await instancesOf(() => `instance-replicas/${c.instanceHostport}`, isBroken)(c)
    }
  },
  {
    names: ["which-cluster-instances"],
    help: "Instances of the cluster (alias or instance)",
    run: instancesOf(hinted("cluster"))
  },
  {
    names: ["which-cluster"],
    help: "Cluster name of an instance or alias",
    run: async (c) => {
      const { response } = await c.api(hinted("cluster-info")(c))
      c.out(raw(field(response, "ClusterName")))
    }
  },
  {
    names: ["which-cluster-alias"],
    help: "Cluster alias of an instance or cluster",
    run: async (c) => {
      const { response } = await c.api(hinted("cluster-info")(c))
      c.out(raw(field(response, "ClusterAlias")))
    }
  },
  {
    names: ["which-cluster-master"],
    help: "The writable master of the cluster",
    run: async (c) => {
      const { response } = await c.api(hinted("master")(c))
      c.out(raw(field(response, "ClusterName")))
    }
  },
  { names: ["all-clusters-masters"], help: "The writable master of every cluster", run: instancesOf(() => "masters") },
  { names: ["all-instances"], help: "Every known instance", run: instancesOf(() => "all-instances") },
  {
    names: ["which-cluster-osc-replicas"],
    help: "Replicas usable as pt-online-schema-change control replicas",
    run: instancesOf(hinted("cluster-osc-replicas"))
  },
  {
    names: ["which-cluster-osc-running-replicas"],
    help: "The osc control replicas that are replicating",
    run: instancesOf(hinted("cluster-osc-replicas"), isRunning)
  },
  {
    names: ["downtimed"],
    help: "Downtimed instances (optionally of a cluster)",
    run: instancesOf((c) => `downtimed/${c.hint === "" ? "" : segment(c.hint)}`)
  },
  {
    names: ["dominant-dc"],
    help: "The data center holding most masters",
    run: async (c) => {
      const { response } = await c.api("masters")
      const counts = new Map<string, number>()
      for (const i of each(response)) {
        const dc = raw(field(i, "DataCenter"))
        counts.set(dc, (counts.get(dc) ?? 0) + 1)
      }
      // `sort | uniq -c | sort -nr | head -n 1 | awk '{print $2}'`: highest count, then the greatest name.
      const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))[0]
      if (best !== undefined) c.out(best[0].split(/\s+/).filter((w) => w !== "")[0] ?? "")
    }
  },
  {
    names: ["submit-masters-to-kv-stores"],
    help: "Write masters (of a cluster, or all) to the KV stores",
    run: async (c) => {
      const { details } = await c.api(`submit-masters-to-kv-stores/${segment(c.f.alias)}`)
      each(details).forEach((p) => {
        const line = add(field(p, "Key"), ":", field(p, "Value"))
        if (line !== undefined) c.out(line)
      })
    }
  },
  { names: ["relocate"], help: "Move an instance below another (-d), any method", run: relocation() },
  { names: ["relocate-replicas"], help: "Move the replicas of an instance below another", run: replicasRelocation(true) },
  { names: ["match"], help: "Move an instance below another using Pseudo-GTID", run: relocation() },
  { names: ["match-up"], help: "Move an instance up one level using Pseudo-GTID", run: singleRelocation },
  {
    names: ["match-up-replicas"],
    help: "Move the replicas of an instance up one level using Pseudo-GTID",
    run: replicasRelocation(false)
  },
  { names: ["move-up"], help: "Move an instance up one level", run: singleRelocation },
  { names: ["move-below"], help: "Move an instance below its sibling", run: relocation() },
  { names: ["move-equivalent"], help: "Move an instance using recorded equivalent coordinates", run: relocation() },
  { names: ["move-up-replicas"], help: "Move the replicas of an instance up one level", run: replicasRelocation(false) },
  { names: ["make-co-master"], help: "Make an instance co-master with its master", run: singleRelocation },
  { names: ["take-master"], help: "Swap an instance with its master", run: singleRelocation },
  { names: ["move-gtid"], help: "Move an instance below another using GTID", run: relocation("move-below-gtid") },
  { names: ["move-replicas-gtid"], help: "Move the replicas of an instance below another using GTID", run: replicasRelocation(true) },
  { names: ["repoint"], help: "Point an instance at another master keeping coordinates", run: relocation() },
  { names: ["repoint-replicas"], help: "Point the replicas of an instance back at it", run: replicasRelocation(false) },
  { names: ["take-siblings"], help: "Make the siblings of an instance its replicas", run: singleRelocation },
  {
    names: ["regroup-replicas"],
    help: "The most advanced replica of an instance takes its siblings (GTID); prints the promoted replica",
    run: keyDetails((c) => `regroup-replicas/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  {
    names: ["tags"],
    help: "Tags of an instance",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`tags/${c.instanceHostport}`)
      each(response).forEach((t) => c.out(raw(t)))
    }
  },
  {
    names: ["tag-value"],
    help: "Value of a tag (-t) of an instance",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      c.need("tag", c.f.tag)
      const { response } = await c.api(path([`tag-value/${c.instanceHostport}`], { tag: c.f.tag }))
      c.out(raw(response))
    }
  },
  {
    names: ["tag"],
    help: "Tag an instance (-t name or name=value)",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      c.need("tag", c.f.tag)
      const { details } = await c.api(path([`tag/${c.instanceHostport}`], { tag: c.f.tag }))
      printKey(c, details)
    }
  },
  {
    names: ["untag"],
    help: "Remove a tag from an instance",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      c.need("tag", c.f.tag)
      const { details } = await c.api(path([`untag/${c.instanceHostport}`], { tag: c.f.tag }))
      printKeys(c, keyList(details))
    }
  },
  {
    names: ["untag-all"],
    help: "Remove a tag from every instance",
    run: async (c) => {
      c.need("tag", c.f.tag)
      const { details } = await c.api(path(["untag-all"], { tag: c.f.tag }))
      printKeys(c, keyList(details))
    }
  },
  {
    names: ["tagged"],
    help: "Instances carrying tags (-t name, name=value, comma-separated for all of them)",
    run: async (c) => {
      c.need("tag", c.f.tag)
      const { response } = await c.api(path([`tagged/${c.instanceHostport}`], { tag: c.f.tag }))
      printKeys(c, keyList(response))
    }
  },
  {
    names: ["submit-pool-instances"],
    help: "Declare the instances (-i, comma-separated) of a pool (-l)",
    run: rawDetailsOf((c) => path([`submit-pool-instances/${segment(c.f.pool)}`], { instances: c.instance }), (c) => {
      c.need("instance", c.instance)
      c.need("pool", c.f.pool)
    })
  },
  {
    names: ["which-heuristic-cluster-pool-instances"],
    help: "Instances of a cluster in a pool (-l, optional)",
    run: async (c) => {
      const { details } = await c.api(`${hinted("heuristic-cluster-pool-instances")(c)}/${segment(c.f.pool)}`)
      printKeys(c, keysOf(details))
    }
  },
  {
    names: ["begin-downtime"],
    help: "Downtime an instance (-o owner, -r reason, -u duration, default 10m)",
    run: keyDetails(
      (c) => `begin-downtime/${c.instanceHostport}/${segment(c.owner)}/${segment(c.f.reason)}/${c.f.duration}`,
      (c) => {
        c.need("instance", c.instanceHostport)
        c.need("owner", c.owner)
        c.need("reason", c.f.reason)
        c.need("duration", c.f.duration)
      }
    )
  },
  {
    names: ["end-downtime"],
    help: "End an instance's downtime",
    run: keyDetails((c) => `end-downtime/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  {
    names: ["begin-maintenance"],
    help: "Take a maintenance lock on an instance (-o owner, -r reason)",
    run: keyDetails((c) => `begin-maintenance/${c.instanceHostport}/${segment(c.owner)}/${segment(c.f.reason)}`, (c) => {
      c.need("instance", c.instanceHostport)
      c.need("owner", c.owner)
      c.need("reason", c.f.reason)
    })
  },
  {
    names: ["end-maintenance"],
    help: "Release an instance's maintenance lock",
    run: keyDetails((c) => `end-maintenance/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  {
    names: ["register-candidate"],
    help: "Set an instance's promotion rule (-R prefer|neutral|prefer_not|must_not)",
    run: keyDetails((c) => `register-candidate/${c.instanceHostport}/${segment(c.f.promotionRule)}`, (c) => {
      c.need("instance", c.instanceHostport)
      c.need("promotion-rule", c.f.promotionRule)
    })
  },
  {
    names: ["register-hostname-unresolve"],
    help: "Give an instance a virtual hostname (-H)",
    run: keyDetails((c) => `register-hostname-unresolve/${c.instanceHostport}/${segment(c.f.hostname)}`, (c) => {
      c.need("instance", c.instanceHostport)
      c.need("hostname", c.f.hostname)
    })
  },
  {
    names: ["deregister-hostname-unresolve"],
    help: "Remove an instance's virtual hostname",
    run: keyDetails((c) => `deregister-hostname-unresolve/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  ...instanceCommands.map((name) => ({ names: [name], help: `${name.replace(/-/g, " ")} on an instance`, run: instanceCommand })),
  {
    names: ["which-gtid-errant"],
    help: "The instance's errant GTID set (empty if none)",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`instance/${c.instanceHostport}`)
      c.out(raw(field(response, "GtidErrant")))
    }
  },
  {
    names: ["locate-gtid-errant"],
    help: "Binary logs holding errant GTIDs",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { details } = await c.api(`locate-gtid-errant/${c.instanceHostport}`)
      each(details).forEach((b) => c.out(raw(b)))
    }
  },
  {
    names: ["restart-replica-statements"],
    help: "Statements to run a query (-q) with replication stopped and restored",
    run: async (c) => {
      c.need("instance", c.instance)
      c.need("query", c.f.query)
      const { details } = await c.api(path([`restart-replica-statements/${c.instanceHostport}`], { q: c.f.query }))
      echoDetails(c, details)
    }
  },
  {
    names: ["delay-replication"],
    help: "Set replication delay (-S seconds)",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      c.need("seconds", c.f.seconds)
      const { details } = await c.api(`delay-replication/${c.instanceHostport}/${segment(c.f.seconds)}`)
      echoDetails(c, details)
    }
  },
  ...["can-replicate-from", "can-replicate-from-gtid"].map((name) => ({
    names: [name],
    help: name.endsWith("gtid") ? "Whether -i can replicate from -d using GTID" : "Whether -i can replicate from -d",
    run: async (c: Ctx) => {
      c.need("instance", c.instanceHostport)
      c.need("destination", c.destinationHostport)
      const { details, response } = await c.api(`${name}/${c.instanceHostport}/${c.destinationHostport}`)
      if (raw(field(response, "Message")).includes("true")) printKey(c, details)
    }
  })),
  {
    names: ["is-replicating"],
    help: "Print the key if both replication threads run",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`instance/${c.instanceHostport}`)
      if (threadsAre(1)(response)) printKey(c, field(response, "Key"))
    }
  },
  {
    names: ["is-replication-stopped"],
    help: "Print the key if both replication threads are stopped",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      const { response } = await c.api(`instance/${c.instanceHostport}`)
      if (threadsAre(0)(response)) printKey(c, field(response, "Key"))
    }
  },
  {
    names: ["purge-binary-logs"],
    help: "Purge binary logs up to -n",
    run: async (c) => {
      c.need("instance", c.instanceHostport)
      c.need("binlog", c.f.binlog)
      const { details } = await c.api(`purge-binary-logs/${c.instanceHostport}/${segment(c.f.binlog)}`)
      printKey(c, field(details, "Key"))
    }
  },
  {
    names: ["last-pseudo-gtid"],
    help: "The last Pseudo-GTID entry of an instance",
    run: rawDetailsOf((c) => `last-pseudo-gtid/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  {
    names: ["recover"],
    help: "Recover a failed instance, print the promoted key",
    run: keyDetails((c) => `recover/${c.instanceHostport}`, (c) => c.need("instance", c.instanceHostport))
  },
  ...["graceful-master-takeover", "graceful-master-takeover-auto"].map((name) => ({
    names: [name],
    help: name.endsWith("auto") ? "Planned master switch, successor chosen by orchestrator (or -d)" : "Planned master switch to -d (or the single replica)",
    run: successor((c) => `${hinted(name)(c)}${c.destinationHostport === "" ? "" : `/${c.destinationHostport}`}`)
  })),
  {
    names: ["force-master-failover"],
    help: "Fail the master over now, successor chosen by orchestrator",
    run: successor(hinted("force-master-failover"))
  },
  {
    names: ["force-master-takeover"],
    help: "Replace the master with -d now",
    run: successor((c) => {
      const p = hinted("force-master-takeover")(c)
      c.need("destination", c.destinationHostport)
      return `${p}/${c.destinationHostport}`
    })
  },
  {
    names: ["ack-cluster-recoveries"],
    help: "Acknowledge a cluster's recoveries (-r comment)",
    run: rawDetailsOf((c) => path([`ack-recovery/cluster/${segment(c.hint)}`], { comment: c.f.reason }), (c) => {
      c.need("instance|alias", c.hint)
      c.need("reason", c.f.reason)
    })
  },
  {
    names: ["ack-all-recoveries"],
    help: "Acknowledge every recovery (-r comment)",
    run: rawDetailsOf((c) => path(["ack-all-recoveries"], { comment: c.f.reason }), (c) => c.need("reason", c.f.reason))
  },
  { names: ["disable-global-recoveries"], help: "Stop all automated recoveries", run: rawDetailsOf(() => "disable-global-recoveries") },
  { names: ["enable-global-recoveries"], help: "Allow automated recoveries", run: rawDetailsOf(() => "enable-global-recoveries") },
  { names: ["check-global-recoveries"], help: "Whether automated recoveries are enabled", run: rawDetailsOf(() => "check-global-recoveries") },
  {
    names: ["replication-analysis"],
    help: "Problems found in all topologies",
    run: async (c) => {
      const { details } = await c.api("replication-analysis")
      for (const a of each(details)) {
        const k = field(a, "AnalyzedInstanceKey")
        const what = field(a, "Analysis") === "NoProblem" ? each(field(a, "StructureAnalysis"))[0] ?? null : field(a, "Analysis")
        const line = add(
          field(k, "Hostname"),
          ":",
          tostring(field(k, "Port")),
          " (cluster ",
          field(field(a, "ClusterDetails"), "ClusterName"),
          "): ",
          what
        )
        if (line !== undefined) c.out(line)
      }
    }
  },
  {
    names: ["raft-leader"],
    help: "Raft address of the leader",
    run: async (c) => {
      await raftLeaderFirst(c)
      const { response } = await c.api("raft-leader")
      c.out(raw(response))
    }
  },
  {
    names: ["raft-health"],
    help: "Whether the node is part of a healthy raft group",
    run: async (c) => {
      const { response } = await c.api("raft-health")
      c.out(raw(response))
    }
  },
  {
    names: ["raft-leader-hostname"],
    help: "Hostname of the raft leader",
    run: async (c) => {
      await raftLeaderFirst(c)
      const { details } = await c.api("status")
      c.out(raw(field(details, "Hostname")))
    }
  },
  {
    names: ["raft-elect-leader"],
    help: "Ask the raft group to elect the node named by -H",
    run: async (c) => {
      c.need("hostname", c.f.hostname)
      await raftLeaderFirst(c)
      const { details } = await c.api(`raft-yield-hint/${segment(c.f.hostname)}`)
      c.out(raw(details))
    }
  }
]

const byName = new Map(commands.flatMap((d) => d.names.map((n) => [n, d] as const)))

export const helpText = (): string => {
  const width = Math.max(...commands.flatMap((d) => d.names.map((n) => n.length)))
  const lines = commands.flatMap((d) => d.names.map((n) => `  ${n.padEnd(width)}  ${d.help}`))
  return `Usage: orchestrator-client -c <command> [flags...]
Example: orchestrator-client -c which-master -i some.replica

Flags:
  -c, --command <command>        the command to run (listed below)
  -i <instance>                  host[:port] (default port: -D, 3306); default $ORCHESTRATOR_INSTANCE
  -d, -s <instance>              destination instance of relocations and takeovers
  -a, --alias <alias>            cluster alias (or name)
  -o, --owner <owner>            downtime/maintenance owner (default: current user)
  -r, --reason <reason>          downtime/maintenance reason, acknowledgement comment
  -u, --duration <duration>      downtime duration (default 10m)
  -R, --promotion-rule <rule>    prefer, neutral, prefer_not or must_not
  -t, --tag <tag>                tag name or name=value
  -l, --pool <pool>              pool name
  -H, --hostname <hostname>      hostname for hostname-unresolve and raft commands
  -D <port>                      default MySQL port (3306)
  -U, --api <url>                orchestrator API (default $ORCHESTRATOR_API, http://localhost:3000)
  -P, --path <path>              the API path of -c api
  -q, --query <query>            the query of restart-replica-statements
  -b, --auth <user:password>     basic auth (default $ORCHESTRATOR_AUTH_USER:$ORCHESTRATOR_AUTH_PASSWORD)
  -e, --headers-auth <h:value>   auth header (default $ORCHESTRATOR_AUTH_USER_HEADER)
  -n, --binlog <binlog>          binary log of purge-binary-logs
  -S, --seconds <seconds>        seconds of delay-replication
  --json                         print the raw JSON response instead of the formatted output
  -h, --help                     this help

Commands:
${lines.join("\n")}
`
}

/** orchestrator-client's `to_hostport`: `host:port` → `host/port`, `host` → `host/<default port>`. */
const hostport = (text: string, defaultPort: string): string => {
  if (text === "") return ""
  const i = text.lastIndexOf(":")
  return i < 0 ? `${segment(text)}/${segment(defaultPort)}` : `${segment(text.slice(0, i))}/${segment(text.slice(i + 1))}`
}

export const runCli = async (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo,
  deps: CliDeps
): Promise<number> => {
  const f = parseFlags(argv, (m) => io.stderr(`${myname}: ${m}\n`))
  const out = (line: string) => io.stdout(`${line}\n`)
  const fail = (message: string): never => {
    io.stderr(`${myname}[${deps.pid}]: ${message}\n`)
    throw new Exit(1)
  }
  const command = f.help ? "help" : f.command.replace("slave", "replica")
  try {
    if (command === "help") {
      io.stdout(helpText())
      return 0
    }
    if (command === "") {
      fail(`No command given. Use ${myname} -c <command> [...] or ${myname} --command <command> [...] to do something useful`)
    }
    const def = byName.get(command)
    const apiText = f.api ?? env["ORCHESTRATOR_API"] ?? "http://localhost:3000"
    const basic = f.auth ?? `${env["ORCHESTRATOR_AUTH_USER"] ?? ""}:${env["ORCHESTRATOR_AUTH_PASSWORD"] ?? ""}`
    const headerLine = f.headersAuth ?? env["ORCHESTRATOR_AUTH_USER_HEADER"] ?? ""
    const headers: Record<string, string> = {}
    let auth: { user: string; password: string } | undefined
    if (headerLine !== "") {
      // orchestrator-client sends this instead of basic auth (`curl -H "<header>"`).
      const i = headerLine.indexOf(":")
      if (i > 0) headers[headerLine.slice(0, i).trim()] = headerLine.slice(i + 1).trim()
    } else if (basic !== ":") {
      const i = basic.indexOf(":")
      auth = i < 0 ? { user: basic, password: "" } : { user: basic.slice(0, i), password: basic.slice(i + 1) }
    }
    const client = Effect.runSync(
      make({ api: apiText, auth, headers, fetch: deps.fetch, timeoutMillis: deps.timeoutMillis ?? 600_000 })
    )
    const cannotAccess = (api: string) =>
      fail(`Cannot access orchestrator at ${api}.  Check ORCHESTRATOR_API is configured correctly and orchestrator is running`)

    const leader = await Effect.runPromise(Effect.either(client.leader))
    if (Either.isLeft(leader)) {
      if (leader.left._tag === "ApiError") cannotAccess(apiText)
      fail(`Cannot determine leader from ${apiText}`)
    }
    let leaderApi = Either.getOrThrow(leader)
    if (def === undefined) return fail(`Unsupported command ${command}`)

    const api = async (p: string, rawOutput = false) => {
      const r = await Effect.runPromise(Effect.either(client.request(p)))
      // The node that answered (or failed last), as it may differ after a retry. Not `client.leader`:
      // after a failure the client has forgotten the leader, and asking would discover it again.
      if (Either.isRight(r)) leaderApi = r.right.api
      else if (r.left._tag !== "NoLeader") {
        const failed = r.left.url
        leaderApi = client.apis.find((a) => failed.startsWith(`${a}/`)) ?? leaderApi
      }
      if (Either.isLeft(r)) {
        const e: ClientError = r.left
        if (e._tag === "ApiError" && e.status !== 401) {
          const envelope = { Code: "ERROR", Message: e.message, Details: e.details }
          if (rawOutput || f.json) out(rawOutput ? collapse(pretty(envelope)) : JSON.stringify(envelope))
          else {
            // `jq -r .Message | tr -d "'" | xargs echo`
            io.stderr(`${collapse(e.message.replace(/'/g, "").replace(/"/g, ""))}\n`)
            if (e.details !== null && e.details !== undefined) out(collapse(pretty(e.details)))
          }
          throw new Exit(1)
        }
        if (e._tag === "NoLeader") fail(`Cannot determine leader from ${apiText}`)
        return cannotAccess(leaderApi)
      }
      const response = r.right.json
      if (f.json) out(JSON.stringify(response))
      return { response, details: hasCode(response) ? response["Details"] : undefined }
    }

    const ctx: Ctx = {
      f,
      command,
      instance: f.instance ?? env["ORCHESTRATOR_INSTANCE"] ?? "",
      instanceHostport: hostport(f.instance ?? env["ORCHESTRATOR_INSTANCE"] ?? "", f.defaultPort),
      destinationHostport: hostport(f.destination, f.defaultPort),
      owner: f.owner ?? deps.user,
      hint: f.alias !== "" ? f.alias : f.instance ?? env["ORCHESTRATOR_INSTANCE"] ?? "",
      api,
      out: f.json ? () => {} : out,
      fail,
      need: (name, value) => {
        if (value === "") fail(`${name} must be provided`)
      },
      leaderApi: () => leaderApi
    }
    if (f.json && command === "which-api") out(leaderApi)
    await def.run(ctx)
    return 0
  } catch (e) {
    if (e instanceof Exit) return e.code
    io.stderr(`${myname}[${deps.pid}]: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}
