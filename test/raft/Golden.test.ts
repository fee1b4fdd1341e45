/**
 * Golden scenario scripts (etcd-io/raft testdata/*.txt + interaction_env): each file in testdata/ is a
 * list of `command args` blocks, each followed by `----` and the output the command produced. The test
 * re-runs the commands, rewrites the outputs and compares the whole file; `vitest -u` rewrites it, and the
 * diff is reviewed like code. Lines starting with `#` are comments and are kept.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { Message } from "../../core/raft/Message.js"
import * as Raft from "../../core/raft/Raft.js"
import { Cluster } from "./Harness.js"

const dir = join(import.meta.dirname, "testdata")

const show = (m: Message): string => {
  const head = `${m.from}->${m.to} ${m._tag} term=${m.term}`
  switch (m._tag) {
    case "AppendEntries":
      return `${head} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} entries=[${m.entries.map((e) => `${e.index}/${e.term}${e.type === "normal" ? ` ${e.data}` : ` ${e.type}`}`).join(", ")}]`
    case "AppendEntriesResp":
      return `${head} ${m.success ? "ok" : "reject"} index=${m.index}${m.success ? "" : ` hint=${m.hintIndex}/${m.hintTerm}`}`
    case "RequestVote":
    case "PreVote":
      return `${head} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? " transfer" : ""}`
    case "RequestVoteResp":
    case "PreVoteResp":
      return `${head} ${m.granted ? "granted" : "rejected"}`
    case "Heartbeat":
      return `${head} commit=${m.commit}`
    case "InstallSnapshot":
      return `${head} snapshot=${m.snapshot.index}/${m.snapshot.term} offset=${m.offset} len=${m.data.length}${m.done ? " done" : ""}`
    case "InstallSnapshotResp":
      return `${head} snapshot=${m.snapshotIndex} next=${m.nextOffset}${m.installed ? " installed" : ""}`
    default:
      return head
  }
}

const status = (c: Cluster): Array<string> =>
  c.ids.map((id) => {
    const s = c.state(id)
    const lease = Raft.isLeaderWithLease(s, s.now) ? " lease" : ""
    return `${id}: ${s.role} term=${s.term} lead=${s.lead || "-"} commit=${s.log.committed} last=${s.log.offset + s.log.length} voters=${s.log.conf.voters.join(",")}${lease}`
  })

/** Runs one command against the cluster and returns its output lines. */
const run = (c: Cluster, line: string): Array<string> => {
  const [cmd, ...args] = line.trim().split(/\s+/)
  const mark = c.outputs.length
  const events = () =>
    c.outputs.slice(mark).flatMap((o) =>
      o.output.events.map((e) => `${o.id} event ${JSON.stringify(e)}`)
    )
  switch (cmd) {
    case "tick": {
      const [who, n] = [args[0]!, Number(args[1] ?? "1")]
      for (let i = 0; i < n; i++) {
        if (who === "all") c.tickAll()
        else c.tick(who)
      }
      return [...events(), ...c.outbox.map((m) => `queued ${show(m)}`)]
    }
    case "deliver": {
      const lines: Array<string> = []
      for (let round = 0; round < 50 && c.outbox.length > 0; round++) {
        const batch = c.outbox
        c.outbox = []
        for (const m of batch) {
          const dropped = c.cut.has(`${m.from}>${m.to}`)
          lines.push(`${dropped ? "dropped" : "deliver"} ${show(m)}`)
          if (!dropped) c.step(m.to, { _tag: "Receive", message: m })
        }
      }
      return [...lines, ...events()]
    }
    case "timeout": {
      // Ticks the node until its election timer fires (it becomes a pre-candidate).
      const id = args[0]!
      const role = c.state(id).role
      for (let i = 0; i < 100 && c.state(id).role === role; i++) c.tick(id)
      return [...events(), ...c.outbox.map((m) => `queued ${show(m)}`)]
    }
    case "forget-leaders":
      c.forgetLeaders()
      return []
    case "isolate":
      c.isolate(args[0]!)
      return []
    case "heal":
      c.heal()
      return []
    case "propose": {
      const out = c.propose(args[0]!, args[1]!)
      return out.proposals.map((p) => JSON.stringify(p))
    }
    case "transfer":
      c.step(args[0]!, { _tag: "TransferLeadership", target: args[1]! })
      return [...events(), ...c.outbox.map((m) => `queued ${show(m)}`)]
    case "status":
      return status(c)
    default:
      throw new Error(`unknown command ${cmd}`)
  }
}

/** Parses `# comments`, `command` lines and `----` output sections; returns the file rewritten with outputs. */
const replay = (text: string): string => {
  const header = /^cluster (.+)$/m.exec(text)
  if (header === null) throw new Error("a script starts with `cluster <ids…>`")
  const c = new Cluster(header[1]!.trim().split(/\s+/))
  const out: Array<string> = []
  let inOutput = false
  for (const line of text.split("\n")) {
    if (line.startsWith("----")) {
      inOutput = true
      continue
    }
    if (inOutput && line.trim() !== "") continue
    inOutput = false
    out.push(line)
    if (line.trim() === "" || line.startsWith("#") || line.startsWith("cluster ")) continue
    out.push("----", ...run(c, line))
  }
  return out.join("\n")
}

describe("golden scenarios (test/raft/testdata)", () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    it(file, async () => {
      const text = readFileSync(join(dir, file), "utf8")
      await expect(replay(text)).toMatchFileSnapshot(join(dir, file))
    })
  }
})
