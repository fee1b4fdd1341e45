/**
 * The leader loop's raft-facing rules, without MySQL (service/Recovery.ts): which peers quorum-agreed detection
 * asks and how many must agree (a node never counts its own answer twice); a new leader resuming what its
 * predecessor left unfinished only once everything committed before its term is applied here; a recovery in
 * flight survives a flapping lease but not the loss of the raft role.
 */
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { Repository } from "../../core/backend/Repository.js"
import { defaults, type OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { TopologySql } from "../../core/discovery/TopologySql.js"
import { Leadership, layerSingleNode, type RaftState } from "../../core/node/Leadership.js"
import { CommandLog } from "../../core/ops/CommandLog.js"
import { planMessage } from "../../core/recovery/Executor.js"
import type { Plan } from "../../core/recovery/Step.js"
import type { Instance } from "../../core/topology/Instance.js"
import { toRecord } from "../../core/topology/InstanceRecord.js"
import * as RecoveryService from "../../service/Recovery.js"
import { dead, master, replica } from "../analysis/fixtures.js"
import { recoveryLayer, waitFor } from "./support.js"

const base: OrchestratorConfig = {
  ...defaults,
  BackendDB: "sqlite",
  SQLite3DataFile: ":memory:",
  RaftEnabled: true,
  ListenAddress: "127.0.0.1:3001",
  RaftNodes: ["127.0.0.1:10001", "127.0.0.1:10002", "127.0.0.1:10003"],
  RecoverMasterClusterFilters: ["*"]
}
const self = { nodeId: "127.0.0.1:10001", httpUri: "http://127.0.0.1:3001" }

describe("quorum-agreed detection: peers and voters", () => {
  it("nodes sharing a host: the derived URIs name this node, which is not asked again and not counted twice", () => {
    // RaftNodes host + this node's listen port = this node's own URI for both peers.
    expect(RecoveryService.peerUris(base, self.nodeId, new Map())).toEqual(["http://127.0.0.1:3001", "http://127.0.0.1:3001"])
    expect(RecoveryService.quorumPeers(base, self, new Map())).toEqual({ peers: [], voters: 3 })
  })

  it("announced leader URIs and ConsensusPeerHttpUris are used; this node's own entry and duplicates are dropped", () => {
    const announced = new Map([["127.0.0.1:10002", "http://127.0.0.1:3002"]])
    expect(RecoveryService.quorumPeers(base, self, announced)).toEqual({ peers: ["http://127.0.0.1:3002"], voters: 3 })
    const listed = { ...base, ConsensusPeerHttpUris: ["http://127.0.0.1:3001/", "http://127.0.0.1:3002", "http://127.0.0.1:3003/", "http://127.0.0.1:3003"] }
    expect(RecoveryService.quorumPeers(listed, self, new Map())).toEqual({ peers: ["http://127.0.0.1:3002", "http://127.0.0.1:3003"], voters: 3 })
  })

  it("nodes on their own hosts: every other voter is asked", () => {
    const c = { ...base, ListenAddress: ":3000", RaftNodes: ["10.0.0.1:10008", "10.0.0.2:10008", "10.0.0.3:10008"] }
    expect(RecoveryService.quorumPeers(c, { nodeId: "10.0.0.1:10008", httpUri: "http://10.0.0.1:3000" }, new Map())).toEqual({
      peers: ["http://10.0.0.2:3000", "http://10.0.0.3:3000"],
      voters: 3
    })
  })
})

describe("the leadership watcher", () => {
  it("starts the loop on a leased leadership, stops it only when the raft role changes", () => {
    expect(RecoveryService.watcherStep(false, "Leader", true)).toBe("start")
    expect(RecoveryService.watcherStep(false, "Leader", false)).toBe("keep")
    expect(RecoveryService.watcherStep(false, "Follower", false)).toBe("keep")
    // A lease that lapses under load while the node stays leader does not interrupt running recoveries.
    expect(RecoveryService.watcherStep(true, "Leader", false)).toBe("keep")
    expect(RecoveryService.watcherStep(true, "Follower", false)).toBe("stop")
    expect(RecoveryService.watcherStep(true, "Candidate", false)).toBe("stop")
  })
})

/** A raft leader whose earlier-term entries are applied only when `applied` is set (ReadIndex confirms then). */
const lateApplyingLeader = () => {
  const state = { applied: false, confirms: 0 }
  const layer = Layer.succeed(Leadership, {
    raftEnabled: true,
    isLeader: Effect.succeed(true),
    canServe: Effect.succeed(true),
    state: Effect.succeed("Leader" as const),
    leader: Effect.succeed({ raftAddress: self.nodeId, httpUri: self.httpUri }),
    confirm: Effect.sync(() => {
      state.confirms++
      return state.applied
    })
  })
  return { state, layer }
}

const unfinished = (uid: string, clusterName: string, startedAt: number) => ({
  _tag: "write-recovery" as const,
  record: {
    uid,
    key: { hostname: "10.0.0.9", port: 3306 },
    analysis: "DeadMaster",
    clusterName,
    clusterAlias: clusterName,
    recoveryType: "MasterRecovery",
    inActivePeriod: true,
    startActivePeriod: startedAt,
    endActivePeriodUnixtime: startedAt + 3_600_000,
    processingNodeHostname: "previous-leader",
    processingNodeToken: "previous-token",
    successorKey: null,
    successorAlias: "",
    isSuccessful: false,
    lostReplicas: "",
    participatingInstances: "",
    allErrors: "",
    lastDetectionId: 0,
    relatedRecoveryId: 0,
    analysisEntry: "{}"
  }
})

describe("a new leader and its predecessor's unfinished recoveries", () => {
  it.scopedLive("are read only once earlier terms are applied here; two of one cluster are both resolved", () =>
    Effect.gen(function*() {
      const leader = lateApplyingLeader()
      const ctx = yield* Layer.build(RecoveryService.layer.pipe(Layer.provideMerge(leader.layer), Layer.provideMerge(recoveryLayer(base))))
      const repo = Context.get(ctx, Repository)
      const log = Context.get(ctx, CommandLog)
      // The loop started as leader, but the entries of the previous term are not applied yet.
      yield* Effect.sleep("500 millis")
      // They arrive: two recoveries of one cluster the previous leader lost before planning.
      const now = Date.now()
      yield* log.propose(unfinished("uid-1", "c1:3306", now - 2000))
      yield* log.propose(unfinished("uid-2", "c1:3306", now - 1000))
      leader.state.applied = true
      const resolved = yield* waitFor("both recoveries resolved", Effect.map(repo.readRecoveries(10, 0), (rs) =>
        rs.length === 2 && rs.every((r) => r.endRecovery !== null) ? rs : undefined), 10_000)
      for (const r of resolved) {
        expect(r.isSuccessful).toBe(false)
        expect(r.allErrors).toBe("leader lost before planning")
        // Acknowledged: it does not block the cluster; the next pass may start a fresh recovery.
        expect(r.acknowledged).toBe(true)
        const steps = yield* repo.readRecoverySteps(r.uid)
        expect(steps.map((s) => s.message)).toEqual([
          "abandoned before planning by previous-leader (token previous-token); resolved by test-node (token test-token)"
        ])
      }
      expect((yield* Context.get(ctx, RecoveryService.Recoveries).running)).toEqual([])
    }), 30_000)
})

/** A leader whose lease flaps (every other check fails, as on a loaded machine) and whose role the test sets. */
const flappingLeader = () => {
  const state = { role: "Leader" as RaftState, checks: 0 }
  const layer = Layer.succeed(Leadership, {
    raftEnabled: true,
    isLeader: Effect.sync(() => state.role === "Leader" && state.checks++ % 2 === 0),
    canServe: Effect.sync(() => state.role === "Leader"),
    state: Effect.sync(() => state.role),
    leader: Effect.succeed({ raftAddress: self.nodeId, httpUri: self.httpUri }),
    confirm: Effect.sync(() => state.role === "Leader")
  })
  return { state, layer }
}

/** A recovery left at its first step: a one-step plan (the PreFailover hook) in the audit, nothing done. */
const leftAtPreFailover = (log: CommandLog["Type"], uid: string) =>
  Effect.gen(function*() {
    yield* log.propose(unfinished(uid, "c2:3306", Date.now() - 1000))
    const plan: Plan = {
      kind: "DeadMaster",
      target: { hostname: "10.0.0.9", port: 3306 },
      clusterName: "c2:3306",
      gtid: "mariadb",
      dialects: {},
      successor: null,
      lost: [],
      steps: [{ step: { _tag: "RunHooks", hook: "PreFailover", abortOnFailure: true }, critical: true, why: "test" }],
      rollback: [],
      notes: []
    }
    yield* log.propose({ _tag: "write-recovery-step", recoveryUid: uid, message: planMessage(plan, 0), auditAt: Date.now() })
  })

describe("a recovery in flight and the leader's lease", () => {
  it.scopedLive("a flapping lease does not interrupt it; losing the raft role does, and the next term resumes it", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-leaderloop-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const c: OrchestratorConfig = { ...base, PreFailoverProcesses: [`echo run >> ${dir}/runs; sleep 1.5`] }
      const leader = flappingLeader()
      // The record and its plan are in the backend before this node leads.
      leader.state.role = "Follower"
      const ctx = yield* Layer.build(RecoveryService.layer.pipe(Layer.provideMerge(leader.layer), Layer.provideMerge(recoveryLayer(c))))
      const repo = Context.get(ctx, Repository)
      yield* leftAtPreFailover(Context.get(ctx, CommandLog), "uid-3")
      const steps = () => Effect.map(repo.readRecoverySteps("uid-3"), (ss) => ss.map((x) => x.message))
      const runs = () => (fs.existsSync(path.join(dir, "runs")) ? fs.readFileSync(path.join(dir, "runs"), "utf8").trim().split("\n").length : 0)

      // 1. Leader with a flapping lease: the hook (1.5 s, many lease lapses) runs once, to the end.
      leader.state.role = "Leader"
      const done = yield* waitFor("the recovery resolved", Effect.map(repo.readRecoveryByUid("uid-3"), (r) => (r?.endRecovery != null ? r : undefined)), 15_000)
      expect(done.isSuccessful).toBe(true)
      const audit = yield* steps()
      expect(audit.filter((m) => m.startsWith("resumed by"))).toHaveLength(1)
      expect(audit.filter((m) => m === "step 1/1 done")).toHaveLength(1)
      expect(runs()).toBe(1)

      // 2. Another one; the node loses the raft role while its hook runs: interrupted, nothing recorded as done.
      yield* Effect.promise(() => fs.promises.rm(path.join(dir, "runs"), { force: true }))
      leader.state.role = "Follower"
      yield* Effect.sleep("300 millis")
      yield* leftAtPreFailover(Context.get(ctx, CommandLog), "uid-4")
      leader.state.role = "Leader"
      yield* waitFor("the hook running", Effect.sync(() => (runs() === 1 ? true : undefined)), 10_000)
      leader.state.role = "Follower"
      yield* Effect.sleep("2500 millis")
      expect((yield* repo.readRecoveryByUid("uid-4"))?.endRecovery).toBeNull()
      expect((yield* Effect.map(repo.readRecoverySteps("uid-4"), (ss) => ss.map((x) => x.message))).filter((m) => m === "step 1/1 done")).toEqual([])
      // Leading again (a new term): resumed from the step that was not done, and finished.
      leader.state.role = "Leader"
      const again = yield* waitFor("uid-4 resolved", Effect.map(repo.readRecoveryByUid("uid-4"), (r) => (r?.endRecovery != null ? r : undefined)), 15_000)
      expect(again.isSuccessful).toBe(true)
      expect((yield* Effect.map(repo.readRecoverySteps("uid-4"), (ss) => ss.map((x) => x.message))).filter((m) => m.startsWith("resumed by"))).toHaveLength(2)
      expect(runs()).toBe(2)
    }), 60_000)
})

/** A peer answering `recovery-peer-analysis` with `code` (or never, when `code` is undefined); counts requests. */
const fakePeer = (code: string | undefined) =>
  Effect.acquireRelease(
    Effect.async<{ readonly uri: string; readonly requests: () => number; readonly server: http.Server }>((resume) => {
      let requests = 0
      const server = http.createServer((_req, res) => {
        requests++
        if (code === undefined) return // hangs
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ Code: "OK", Message: "Analysis", Details: { Analysis: code } }))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as { readonly port: number }).port
        resume(Effect.succeed({ uri: `http://127.0.0.1:${port}`, requests: () => requests, server }))
      })
    }),
    ({ server }) => Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
  )

describe("the quorum round", () => {
  it.scopedLive("ends once a majority agrees (a peer that never answers does not hold it); a recent agreement is not asked again", () =>
    Effect.gen(function*() {
      const agrees = yield* fakePeer("DeadMasterAndSomeReplicas")
      const hangs = yield* fakePeer(undefined)
      const unreachable = yield* fakePeer("UnreachableMaster")
      const c: OrchestratorConfig = { ...base, ConsensusPeerHttpUris: [hangs.uri, agrees.uri] }
      const leader = lateApplyingLeader()
      leader.state.applied = true
      const ctx = yield* Layer.build(RecoveryService.layer.pipe(Layer.provideMerge(leader.layer), Layer.provideMerge(recoveryLayer(c))))
      const recoveries = Context.get(ctx, RecoveryService.Recoveries)
      const k = { hostname: "10.0.0.9", port: 3306 }
      const first = yield* recoveries.agreement(k, "DeadMaster")
      expect(first).toMatchObject({ agreeing: 1, needed: 1, asked: 2, voters: 3 })
      // The hanging peer's answer was not waited for.
      expect(first.votes).toEqual([{ uri: agrees.uri, agrees: true, seen: "DeadMasterAndSomeReplicas" }])
      expect(agrees.requests()).toBe(1)
      // Within VOTE_TTL_MS the agreeing peer counts without a new request.
      const second = yield* recoveries.agreement(k, "DeadMaster")
      expect(second.votes).toEqual([{ uri: agrees.uri, agrees: true, seen: "agreed recently" }])
      expect(agrees.requests()).toBe(1)
      // A peer that reaches the master does not agree; its answer is named in the votes.
      const c2: OrchestratorConfig = { ...base, ConsensusPeerHttpUris: [unreachable.uri] }
      const ctx2 = yield* Layer.build(RecoveryService.layer.pipe(Layer.provideMerge(leader.layer), Layer.provideMerge(recoveryLayer(c2))))
      const third = yield* Context.get(ctx2, RecoveryService.Recoveries).agreement(k, "DeadMaster")
      expect(third).toMatchObject({ agreeing: 0, needed: 1, asked: 1, voters: 3 })
      expect(third.votes).toEqual([{ uri: unreachable.uri, agrees: false, seen: "UnreachableMaster" }])
    }), 30_000)
})

describe("emergent operations", () => {
  it.scopedLive("UnreachableMasterWithLaggingReplicas: the leader restarts the IO threads of its replicas, except MariaDB GTID ones", () =>
    Effect.gen(function*() {
      const statements: Array<string> = []
      const recording = Layer.succeed(TopologySql, {
        execute: (k, s) => Effect.sync(() => {
          statements.push(`${k.hostname}:${k.port} ${s.text}`)
          return []
        })
      })
      const mysql8 = { flavor: "MySQL", version: "8.0.36", versionComment: "MySQL Community Server - GPL" } as const
      const m = master("10.9.0.1", mysql8)
      // MySQL replicas with auto-position (no Using_Gtid column: null).
      const mysqlReplica = (host: string, lag: number): Instance => {
        const r = replica(host, m, { lag }, { ...mysql8 })
        return { ...r, replication: { ...r.replication!, usingGtid: null, autoPosition: true } }
      }
      const r1 = mysqlReplica("10.9.0.2", 60)
      const r2 = mysqlReplica("10.9.0.3", 45)
      const r3 = replica("10.9.0.4", m, { lag: 50, usingGtid: "Slave_Pos" })
      const c: OrchestratorConfig = { ...base, RaftEnabled: false, RaftNodes: [], InstancePollSeconds: 60 }
      const layer = RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3001" })),
        Layer.provideMerge(recoveryLayer(c, recording))
      )
      const ctx = yield* Layer.build(layer)
      const repo = Context.get(ctx, Repository)
      yield* repo.writeInstances([dead(m), r1, r2, r3].map((i) => toRecord({ ...i, clusterName: "10.9.0.1:3306" })))
      yield* waitFor("the restarts", Effect.sync(() => (statements.length >= 2 ? true : undefined)), 10_000)
      yield* Effect.sleep("500 millis")
      expect([...statements].sort()).toEqual([
        "10.9.0.2:3306 STOP REPLICA IO_THREAD; START REPLICA IO_THREAD",
        "10.9.0.3:3306 STOP REPLICA IO_THREAD; START REPLICA IO_THREAD"
      ])
    }), 30_000)
})
