/**
 * One repository suite, run against every backend (a SQLite file, MariaDB): the same behaviour is
 * required of both, so the suite is written once and handed a layer.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import { Repository, type RepositoryError } from "../../core/backend/Repository.js"
import type { BackendError } from "../../adapters/backend/Backend.js"

const k1 = { hostname: "db1.example", port: 3306 }
const k2 = { hostname: "db2.example", port: 3307 }
const k3 = { hostname: "db3.example", port: 3306 }

export const repositorySuite = (
  name: string,
  makeLayer: () => Layer.Layer<Repository, BackendError | RepositoryError>
) =>
  describe(`Repository on ${name}`, () => {
    const run = <A, E>(body: (repo: Repository["Type"]) => Effect.Effect<A, E>) =>
      Effect.gen(function*() {
        const repo = yield* Repository
        return yield* body(repo)
      }).pipe(Effect.provide(makeLayer()))

    it.effect("migrates an empty backend and answers a ping", () => run((repo) => repo.ping))

    it.effect("node health upserts by hostname+token and expires old rows", () =>
      run((repo) =>
        Effect.gen(function*() {
          const base = {
            hostname: "orc1",
            token: "t1",
            firstSeenActive: 1000,
            extraInfo: "",
            command: "http",
            appVersion: "0.1.0",
            dbBackend: repo.dialect,
            incrementingIndicator: 1
          }
          yield* repo.upsertNodeHealth({ ...base, lastSeenActive: 1000 })
          yield* repo.upsertNodeHealth({ ...base, lastSeenActive: 2000, incrementingIndicator: 2 })
          yield* repo.upsertNodeHealth({ ...base, token: "t2", lastSeenActive: 500 })
          const rows = yield* repo.readNodeHealth
          assert.strictEqual(rows.length, 2)
          const t1 = rows.find((r) => r.token === "t1")!
          assert.strictEqual(t1.lastSeenActive, 2000)
          assert.strictEqual(t1.incrementingIndicator, 2)
          assert.strictEqual(t1.firstSeenActive, 1000)
          assert.strictEqual(yield* repo.expireNodeHealth(1000), 1)
          assert.deepStrictEqual((yield* repo.readNodeHealth).map((r) => r.token), ["t1"])
        })
      ))

    it.effect("instances: batched upsert, read by key and cluster, failed checks, forget", () =>
      run((repo) =>
        Effect.gen(function*() {
          // 1,200 rows: more than one batch, so chunking is exercised.
          const many = Array.from({ length: 1200 }, (_, i) => ({
            key: { hostname: `h${i}.example`, port: 3306 },
            lastChecked: 10,
            lastAttemptedCheck: 10,
            lastSeen: 10,
            lastCheckPartialSuccess: true,
            clusterName: i < 600 ? "c1:3306" : "c2:3306",
            masterKey: i === 0 ? null : { hostname: "h0.example", port: 3306 },
            data: JSON.stringify({ i })
          }))
          yield* repo.writeInstances(many)
          assert.strictEqual((yield* repo.readInstances).length, 1200)
          assert.strictEqual((yield* repo.readClusterInstances("c1:3306")).length, 600)
          yield* repo.writeInstances([{ ...many[5]!, lastSeen: 99, lastChecked: 99, data: "{\"i\":\"updated\"}" }])
          const five = yield* repo.readInstance(many[5]!.key)
          assert.strictEqual(five?.lastSeen, 99)
          assert.strictEqual(five?.data, "{\"i\":\"updated\"}")
          assert.deepStrictEqual(five?.masterKey, { hostname: "h0.example", port: 3306 })
          assert.strictEqual((yield* repo.readInstance(many[0]!.key))?.masterKey, null)
          yield* repo.markAttemptedCheck(many[5]!.key, 150)
          yield* repo.markFailedCheck(many[5]!.key, 160)
          const failed = yield* repo.readInstance(many[5]!.key)
          assert.strictEqual(failed?.lastAttemptedCheck, 150)
          assert.strictEqual(failed?.lastChecked, 160)
          assert.strictEqual(failed?.lastSeen, 99)
          assert.strictEqual(yield* repo.forgetInstance(many[5]!.key), true)
          assert.strictEqual(yield* repo.forgetInstance(many[5]!.key), false)
          assert.strictEqual(yield* repo.readInstance(many[5]!.key), undefined)
          assert.strictEqual(yield* repo.forgetCluster("c2:3306"), 600)
          assert.strictEqual((yield* repo.readInstances).length, 599)
        })
      ))

    it.effect("downtime: begin replaces, end reports whether it existed, expiry by end time", () =>
      run((repo) =>
        Effect.gen(function*() {
          yield* repo.beginDowntime({ key: k1, owner: "ops", reason: "upgrade", beginTimestamp: 100, endTimestamp: 1000 })
          yield* repo.beginDowntime({ key: k1, owner: "ops2", reason: "again", beginTimestamp: 200, endTimestamp: 2000 })
          yield* repo.beginDowntime({ key: k2, owner: "ops", reason: "short", beginTimestamp: 100, endTimestamp: 300 })
          const active = yield* repo.readActiveDowntimes(500)
          assert.deepStrictEqual(active.map((d) => [d.key.hostname, d.owner, d.endTimestamp]), [["db1.example", "ops2", 2000]])
          assert.strictEqual(yield* repo.expireDowntimes(500), 1)
          assert.strictEqual(yield* repo.endDowntime(k1), true)
          assert.strictEqual(yield* repo.endDowntime(k1), false)
          assert.strictEqual((yield* repo.readActiveDowntimes(0)).length, 0)
        })
      ))

    it.effect("maintenance: one active per instance, ended by key or id, expired ones do not block", () =>
      run((repo) =>
        Effect.gen(function*() {
          const m = {
            key: k1,
            owner: "ops",
            reason: "r",
            beginTimestamp: 100,
            endTimestamp: 1000,
            processingNodeHostname: "orc1",
            processingNodeToken: "t",
            explicitlyBounded: false
          }
          const id = yield* repo.beginMaintenance(m)
          assert.isNumber(id)
          assert.strictEqual(yield* repo.beginMaintenance(m), undefined)
          assert.strictEqual((yield* repo.readActiveMaintenance(500)).length, 1)
          assert.strictEqual(yield* repo.endMaintenanceById(id!), true)
          assert.strictEqual(yield* repo.endMaintenance(k1), false)
          const id2 = yield* repo.beginMaintenance({ ...m, beginTimestamp: 1100, endTimestamp: 1200 })
          assert.isNumber(id2)
          // Expired at 1200: a new maintenance at 1300 is allowed.
          const id3 = yield* repo.beginMaintenance({ ...m, beginTimestamp: 1300, endTimestamp: 1400 })
          assert.isNumber(id3)
          assert.notStrictEqual(id3, id2)
          assert.strictEqual(yield* repo.endMaintenance(k1), true)
        })
      ))

    it.effect("candidates, tags, pools, KV, aliases, unresolve, global recovery switch", () =>
      run((repo) =>
        Effect.gen(function*() {
          yield* repo.registerCandidate({ key: k1, promotionRule: "prefer", lastSuggested: 100, priority: 1 })
          yield* repo.registerCandidate({ key: k1, promotionRule: "must_not", lastSuggested: 200, priority: 1 })
          yield* repo.registerCandidate({ key: k2, promotionRule: "neutral", lastSuggested: 50, priority: 1 })
          assert.deepStrictEqual((yield* repo.readCandidates(100)).map((c) => c.promotionRule), ["must_not"])

          yield* repo.putTag({ key: k1, tagName: "role", tagValue: "olap" })
          yield* repo.putTag({ key: k1, tagName: "role", tagValue: "oltp" })
          yield* repo.putTag({ key: k1, tagName: "dc", tagValue: "east" })
          yield* repo.putTag({ key: k2, tagName: "role", tagValue: "olap" })
          assert.deepStrictEqual((yield* repo.readTags(k1)).map((t) => `${t.tagName}=${t.tagValue}`), ["dc=east", "role=oltp"])
          assert.strictEqual((yield* repo.readTagged("role", undefined)).length, 2)
          assert.deepStrictEqual((yield* repo.readTagged("role", "olap")).map((t) => t.key.hostname), ["db2.example"])
          assert.strictEqual(yield* repo.deleteTag(k1, "dc"), 1)
          assert.strictEqual(yield* repo.deleteTag(k1, undefined), 1)

          yield* repo.submitPool("reporting", [k1, k2], 10)
          yield* repo.submitPool("reporting", [k3], 20)
          assert.deepStrictEqual(yield* repo.readPool("reporting"), [k3])
          yield* repo.submitPool("api", [k2, k1], 30)
          assert.deepStrictEqual(yield* repo.readPoolMembers, [
            { pool: "api", key: k1 },
            { pool: "api", key: k2 },
            { pool: "reporting", key: k3 }
          ])

          yield* repo.putKV({ key: "mysql/master/c1", value: "db1:3306" }, 10)
          yield* repo.putKV({ key: "mysql/master/c1", value: "db2:3307" }, 20)
          assert.strictEqual(yield* repo.getKV("mysql/master/c1"), "db2:3307")
          assert.strictEqual(yield* repo.getKV("nope"), undefined)
          assert.strictEqual((yield* repo.readKV).length, 1)

          yield* repo.setClusterAlias("db1.example:3306", "detected", 10)
          yield* repo.setClusterAlias("db9.example:3306", "other", 10)
          yield* repo.setClusterAliasOverride("db1.example:3306", "manual")
          assert.deepStrictEqual(
            (yield* repo.readClusterAliases).map((a) => [a.clusterName, a.alias, a.manual]),
            [["db1.example:3306", "manual", true], ["db9.example:3306", "other", false]]
          )

          yield* repo.registerHostnameUnresolve("db1.example", "vip1", 10)
          assert.strictEqual(yield* repo.deregisterHostnameUnresolve("db1.example"), true)
          assert.strictEqual(yield* repo.deregisterHostnameUnresolve("db1.example"), false)

          assert.strictEqual(yield* repo.isGlobalRecoveriesDisabled, false)
          yield* repo.setGlobalRecoveriesDisabled(true)
          yield* repo.setGlobalRecoveriesDisabled(true)
          assert.strictEqual(yield* repo.isGlobalRecoveriesDisabled, true)
          yield* repo.setGlobalRecoveriesDisabled(false)
          assert.strictEqual(yield* repo.isGlobalRecoveriesDisabled, false)
        })
      ))

    it.effect("failure detections register once per active period; recoveries resolve and acknowledge", () =>
      run((repo) =>
        Effect.gen(function*() {
          const detection = {
            key: k1,
            analysis: "DeadMaster",
            clusterName: "db1.example:3306",
            clusterAlias: "c1",
            isActionable: true,
            inActivePeriod: true,
            startActivePeriod: 100,
            endActivePeriodUnixtime: 0,
            processingNodeHostname: "orc1",
            processingNodeToken: "t",
            countAffectedReplicas: 2,
            replicaHosts: "db2.example:3307,db3.example:3306",
            analysisEntry: "{}"
          }
          const id = yield* repo.registerFailureDetection(detection)
          assert.isNumber(id)
          assert.strictEqual(yield* repo.registerFailureDetection({ ...detection, startActivePeriod: 200 }), undefined)
          assert.strictEqual((yield* repo.readFailureDetections(10, 0)).length, 1)

          const recovery = {
            uid: "uid-1",
            key: k1,
            analysis: "DeadMaster",
            clusterName: "db1.example:3306",
            clusterAlias: "c1",
            recoveryType: "MasterRecovery",
            inActivePeriod: true,
            startActivePeriod: 100,
            endActivePeriodUnixtime: 0,
            processingNodeHostname: "orc1",
            processingNodeToken: "t",
            successorKey: null,
            successorAlias: "",
            isSuccessful: false,
            lostReplicas: "",
            participatingInstances: "",
            allErrors: "",
            lastDetectionId: id!,
            relatedRecoveryId: 0,
            analysisEntry: "{}"
          }
          assert.isNumber(yield* repo.insertRecovery(recovery))
          // A second recovery of the same instance in the same active period is refused (anti-flapping).
          assert.strictEqual(yield* repo.insertRecovery({ ...recovery, uid: "uid-2" }), undefined)
          assert.strictEqual(
            yield* repo.resolveRecovery("uid-1", {
              isSuccessful: true,
              successorKey: k2,
              successorAlias: "db2",
              lostReplicas: "",
              participatingInstances: "db2.example:3307",
              allErrors: "",
              endRecovery: 300
            }),
            true
          )
          yield* repo.writeRecoveryStep({ recoveryUid: "uid-1", auditAt: 101, message: "will recover" })
          yield* repo.writeRecoveryStep({ recoveryUid: "uid-1", auditAt: 102, message: "promoted db2" })
          assert.deepStrictEqual((yield* repo.readRecoverySteps("uid-1")).map((s) => s.message), ["will recover", "promoted db2"])
          const r = yield* repo.readRecoveryByUid("uid-1")
          assert.deepStrictEqual(r?.successorKey, k2)
          assert.strictEqual(r?.isSuccessful, true)
          assert.strictEqual(r?.endRecovery, 300)
          assert.strictEqual(
            yield* repo.acknowledgeRecoveries({ _tag: "Cluster", clusterName: "db1.example:3306" }, { by: "ops", comment: "ok", at: 400 }),
            1
          )
          assert.strictEqual(yield* repo.acknowledgeRecoveries({ _tag: "All" }, { by: "ops", comment: "again", at: 500 }), 0)
          const acked = yield* repo.readRecoveryByUid("uid-1")
          assert.strictEqual(acked?.acknowledged, true)
          assert.strictEqual(acked?.inActivePeriod, false)
          assert.strictEqual(acked?.acknowledgedComment, "ok")
          // After the acknowledgement ended the active period, a new recovery may register.
          assert.isNumber(yield* repo.insertRecovery({ ...recovery, uid: "uid-3" }))
          assert.strictEqual((yield* repo.readRecoveries(10, 0)).length, 2)
        })
      ))

    it.effect("applied index, metadata and transactions roll back on failure", () =>
      run((repo) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* repo.readAppliedIndex, { index: 0, term: 0 })
          yield* repo.writeAppliedIndex(7, 2)
          assert.deepStrictEqual(yield* repo.readAppliedIndex, { index: 7, term: 2 })
          yield* repo.putMeta("leader-uri", "http://a:3000")
          assert.strictEqual(yield* repo.getMeta("leader-uri"), "http://a:3000")
          const failed = yield* repo.transaction(
            Effect.zipRight(repo.writeAppliedIndex(8, 2), Effect.fail("boom" as const))
          ).pipe(Effect.flip)
          assert.strictEqual(failed, "boom")
          assert.deepStrictEqual(yield* repo.readAppliedIndex, { index: 7, term: 2 })
          yield* repo.transaction(Effect.zipRight(repo.writeAppliedIndex(9, 3), repo.putMeta("x", "y")))
          assert.deepStrictEqual(yield* repo.readAppliedIndex, { index: 9, term: 3 })
        })
      ))
  })
