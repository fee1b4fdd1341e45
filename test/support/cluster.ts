/**
 * A raft cluster of real node processes on loopback (bin/orchestrator.js), each with its own SQLite
 * backend and RaftDataDir in a temp dir. Nodes can be killed (-9), stopped and restarted with their data;
 * optionally each runs under its own uid (ClusterOptions.uids) and gets its own config (perMember).
 */
import Database from "better-sqlite3"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { freePort } from "./ports.js"
import { type NodeProcess, repoRoot, startNode } from "./nodeProcess.js"

export interface ClusterMember {
  readonly name: string
  readonly httpPort: number
  readonly raftPort: number
  readonly raftAddress: string
  readonly url: string
  readonly dir: string
  readonly config: Record<string, unknown>
  process: NodeProcess | undefined
}

export interface Cluster {
  readonly members: ReadonlyArray<ClusterMember>
  start(member: ClusterMember): Promise<void>
  kill9(member: ClusterMember): Promise<void>
  stop(member: ClusterMember): Promise<number | null>
  leaderCheck(member: ClusterMember, code?: number): Promise<number>
  /** Waits until exactly one running member answers leader-check 200. */
  waitForLeader(timeoutMs?: number): Promise<ClusterMember>
  /** Rows of a SQL query on a member's backend file (read-only). */
  query(member: ClusterMember, sql: string): ReadonlyArray<Record<string, unknown>>
  stopAll(): Promise<void>
}

export interface ClusterOptions {
  /** Config of one member on top of `extra`, e.g. ConsensusPeerHttpUris naming the other members. */
  readonly perMember?: (member: ClusterMember, all: ReadonlyArray<ClusterMember>) => Record<string, unknown>
  /**
   * Run member i as uid/gid `uids[i]` (root only): nftables can then match what one node sends
   * (`meta skuid`). The member's directory is chowned to it before every start.
   */
  readonly uids?: ReadonlyArray<number>
}

export const startCluster = async (
  size = 3,
  extra: Record<string, unknown> = {},
  options: ClusterOptions = {}
): Promise<Cluster> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "orc-cluster-"))
  const uidOf = new Map<ClusterMember, number>()
  const members: Array<ClusterMember> = []
  for (let i = 1; i <= size; i++) {
    const httpPort = await freePort()
    const raftPort = await freePort()
    const dir = path.join(root, `node${i}`)
    fs.mkdirSync(dir, { recursive: true })
    members.push({
      name: `node${i}`,
      httpPort,
      raftPort,
      raftAddress: `127.0.0.1:${raftPort}`,
      url: `http://127.0.0.1:${httpPort}`,
      dir,
      config: {},
      process: undefined
    })
  }
  const raftNodes = members.map((m) => m.raftAddress)
  for (const m of members) {
    Object.assign(m.config, {
      ListenAddress: `127.0.0.1:${m.httpPort}`,
      BackendDB: "sqlite",
      SQLite3DataFile: path.join(m.dir, "backend.sqlite3"),
      RaftEnabled: true,
      RaftDataDir: path.join(m.dir, "raft"),
      RaftBind: m.raftAddress,
      RaftNodes: raftNodes,
      RaftAuthSecret: "cluster-test-secret",
      ...extra,
      ...options.perMember?.(m, members)
    })
  }
  members.forEach((m, i) => {
    const uid = options.uids?.[i]
    if (uid !== undefined) uidOf.set(m, uid)
  })
  if (uidOf.size > 0) {
    fs.chmodSync(root, 0o755)
    // Members running as other uids must reach bin/orchestrator.js: every directory above the checkout needs
    // the execute bit for others (a clone under `mktemp -d` is 0700; .ci/run opens them up).
    for (let dir = path.dirname(repoRoot); ; dir = path.dirname(dir)) {
      const mode = fs.statSync(dir).mode
      if ((mode & 0o001) === 0) {
        throw new Error(
          `nodes run as other uids cannot reach ${repoRoot}: ${dir} is not traversable by others ` +
            `(mode ${(mode & 0o777).toString(8)}); run \`chmod o+x ${dir}\` (.ci/run does this)`
        )
      }
      if (dir === path.dirname(dir)) break
    }
  }
  const chownTree = (p: string, uid: number) => {
    if (!fs.existsSync(p)) return
    fs.chownSync(p, uid, uid)
    if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid)
  }
  const cluster: Cluster = {
    members,
    start: async (m) => {
      const uid = uidOf.get(m)
      if (uid !== undefined) chownTree(m.dir, uid)
      m.process = await startNode(m.config, { waitHealthyMillis: 60_000, ...(uid === undefined ? {} : { uid }) })
    },
    kill9: async (m) => {
      await m.process?.stop("SIGKILL")
      m.process = undefined
    },
    stop: async (m) => {
      const r = await m.process?.stop("SIGTERM")
      m.process = undefined
      return r?.code ?? null
    },
    leaderCheck: async (m, code) => {
      try {
        const r = await fetch(`${m.url}/api/leader-check${code ? `/${code}` : ""}`, { signal: AbortSignal.timeout(1000) })
        await r.arrayBuffer()
        return r.status
      } catch {
        return 0
      }
    },
    waitForLeader: async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const running = members.filter((m) => m.process !== undefined)
        const codes = await Promise.all(running.map((m) => cluster.leaderCheck(m)))
        const leaders = running.filter((_, i) => codes[i] === 200)
        if (leaders.length === 1) return leaders[0]!
        if (Date.now() > deadline) throw new Error(`no single leader within ${timeoutMs} ms (leader-check: ${codes.join(",")})`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    query: (m, sql) => {
      const db = new Database(String(m.config.SQLite3DataFile), { readonly: true, fileMustExist: true })
      try {
        return db.prepare(sql).all() as Array<Record<string, unknown>>
      } finally {
        db.close()
      }
    },
    stopAll: async () => {
      await Promise.all(members.map((m) => (m.process ? m.process.stop("SIGKILL") : undefined)))
      for (const m of members) m.process = undefined
      fs.rmSync(root, { recursive: true, force: true })
    }
  }
  await Promise.all(members.map((m) => cluster.start(m)))
  return cluster
}


/** The 1-minute load average, printed beside measured times (they depend on it on a shared 2-core machine). */
export const loadNote = () => `load ${os.loadavg()[0]!.toFixed(1)}`
