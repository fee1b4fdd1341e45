/**
 * Routes whose effect is a replicated op: downtime, maintenance, candidates, tags, pools, cluster
 * alias overrides, hostname unresolve, the global recovery switch and acknowledgements. Each
 * mutation builds the op on this (leader) node — timestamps included — proposes it, and answers
 * only after commit. Reads come from this node's backend. Messages follow orchestrator's api.go.
 */
import { Clock, Effect, Either } from "effect"
import { ok } from "../../core/api/Envelope.js"
import { simpleTimeToSeconds } from "../../core/api/SimpleTime.js"
import { type HostPort, Repository, type RepositoryError } from "../../core/backend/Repository.js"
import { AppConfig } from "../../core/config/AppConfig.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import { CommandLog, type CommandLogError } from "../../core/ops/CommandLog.js"
import type { Op } from "../../core/ops/Op.js"
import { fail, type RequestContext } from "./Api.js"
import { sqlTimestamp } from "./MetaHandlers.js"
import { envelope, json } from "./Reply.js"

type InstanceParams = { readonly host: string; readonly port: number }

export const keyOf = (p: InstanceParams): HostPort => ({ hostname: p.host, port: p.port })
export const keyJson = (k: HostPort) => ({ Hostname: k.hostname, Port: k.port })
export const keyString = (k: HostPort) => `${k.hostname}:${k.port}`

/** Proposes and waits for commit; failures become orchestrator-style error envelopes. */
export const propose = (op: Op) =>
  Effect.flatMap(CommandLog, (log) => log.propose(op)).pipe(
    Effect.catchAll((e: CommandLogError) => fail(e.message, null, e._tag === "NotLeader" ? 503 : 500))
  )

const backend = <A>(effect: Effect.Effect<A, RepositoryError, Repository>) =>
  effect.pipe(Effect.catchTag("RepositoryError", (e) => fail(e.message)))

const withRepo = <A>(f: (repo: Repository["Type"]) => Effect.Effect<A, RepositoryError>) => backend(Effect.flatMap(Repository, f))

/** `tag` query parameter `name=value` (value optional), or path params (orchestrator's getTag). */
const tagFrom = (ctx: RequestContext, p: { readonly tagName?: string; readonly tagValue?: string }) => {
  if (p.tagName !== undefined) return Effect.succeed({ name: p.tagName, value: p.tagValue ?? "" })
  const raw = ctx.url.searchParams.get("tag") ?? ""
  if (raw === "") return fail("tag: expected a tag, as ?tag=name or ?tag=name=value", null, 400)
  const i = raw.indexOf("=")
  return Effect.succeed(i < 0 ? { name: raw, value: "" } : { name: raw.slice(0, i), value: raw.slice(i + 1) })
}

const comment = (ctx: RequestContext) => {
  const c = ctx.url.searchParams.get("comment") ?? ""
  return c === "" ? fail("No acknowledge comment given") : Effect.succeed(c)
}

/** The acknowledging user: the authenticated user, else this node's hostname (orchestrator's rule). */
const acknowledger = (ctx: RequestContext) =>
  Effect.map(NodeIdentity, (id) => (ctx.auth.user !== "" ? ctx.auth.user : id.hostname))

const beginDowntime = (p: InstanceParams & { owner: string; reason: string; duration?: string }) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    let seconds = 0
    if (p.duration !== undefined) {
      const parsed = simpleTimeToSeconds(p.duration)
      if (Either.isLeft(parsed)) return yield* fail(`duration: ${parsed.left}`, null, 400)
      seconds = parsed.right
    }
    // orchestrator: a zero duration means the default, MaintenanceExpireMinutes (10).
    if (seconds === 0) seconds = config.MaintenanceExpireMinutes * 60
    const now = yield* Clock.currentTimeMillis
    const key = keyOf(p)
    yield* propose({
      _tag: "begin-downtime",
      key,
      owner: p.owner,
      reason: p.reason,
      beginTimestamp: now,
      endTimestamp: now + seconds * 1000
    })
    return envelope(ok(`Downtime begun: ${keyString(key)}`, keyJson(key)))
  })

const ack = (filter: Extract<Op, { _tag: "ack-recovery" }>["filter"], ctx: RequestContext, what: string) =>
  Effect.gen(function*() {
    const text = yield* comment(ctx)
    const by = yield* acknowledger(ctx)
    const at = yield* Clock.currentTimeMillis
    yield* propose({ _tag: "ack-recovery", filter, by, comment: text, at })
    return envelope(ok(`Acknowledged ${what}`, null))
  })

const clusterByAlias = (alias: string) =>
  withRepo((repo) => repo.readClusterAliases).pipe(
    Effect.flatMap((aliases) => {
      const found = aliases.find((a) => a.alias === alias)
      return found ? Effect.succeed(found.clusterName) : fail(`Unable to determine cluster name for alias ${alias}`)
    })
  )

export const replicatedHandlers = {
  beginDowntime,
  beginDowntimeFor: beginDowntime,
  endDowntime: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = keyOf(p)
      yield* propose({ _tag: "end-downtime", key })
      return envelope(ok(`Downtime ended: ${keyString(key)}`, keyJson(key)))
    }),

  beginMaintenance: (p: InstanceParams & { owner: string; reason: string }, _ctx: RequestContext) =>
    Effect.gen(function*() {
      const key = keyOf(p)
      const config = yield* AppConfig
      const id = yield* NodeIdentity
      const now = yield* Clock.currentTimeMillis
      const repo = yield* Repository
      const active = yield* backend(repo.readActiveMaintenance(now))
      if (active.some((m) => m.key.hostname === key.hostname && m.key.port === key.port)) {
        return yield* fail(`Cannot begin maintenance: instance ${keyString(key)} is already under maintenance`, keyJson(key))
      }
      yield* propose({
        _tag: "begin-maintenance",
        key,
        owner: p.owner,
        reason: p.reason,
        beginTimestamp: now,
        endTimestamp: now + config.MaintenanceExpireMinutes * 60_000,
        processingNodeHostname: id.hostname,
        processingNodeToken: id.token,
        explicitlyBounded: false
      })
      return envelope(ok(`Maintenance begun: ${keyString(key)}`, keyJson(key)))
    }),
  endMaintenance: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = keyOf(p)
      yield* propose({ _tag: "end-maintenance", key, maintenanceId: null })
      return envelope(ok(`Maintenance ended: ${keyString(key)}`, keyJson(key)))
    }),
  endMaintenanceByKey: (p: { maintenanceKey: number }) =>
    Effect.gen(function*() {
      yield* propose({ _tag: "end-maintenance", key: null, maintenanceId: p.maintenanceKey })
      return envelope(ok(`Maintenance ended: ${p.maintenanceKey}`, p.maintenanceKey))
    }),
  inMaintenance: (p: InstanceParams) =>
    Effect.gen(function*() {
      const key = keyOf(p)
      const now = yield* Clock.currentTimeMillis
      const active = yield* withRepo((repo) => repo.readActiveMaintenance(now))
      const inMaintenance = active.some((m) => m.key.hostname === key.hostname && m.key.port === key.port)
      return envelope(ok(String(inMaintenance), inMaintenance ? keyString(key) : ""))
    }),
  maintenance: () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const active = yield* withRepo((repo) => repo.readActiveMaintenance(now))
      return json(active.map((m) => ({
        MaintenanceId: m.id,
        Key: keyJson(m.key),
        BeginTimestamp: sqlTimestamp(m.beginTimestamp),
        SecondsElapsed: Math.floor((now - m.beginTimestamp) / 1000),
        IsActive: true,
        Owner: m.owner,
        Reason: m.reason
      })))
    }),

  registerCandidate: (p: InstanceParams & { promotionRule: "prefer" | "neutral" | "prefer_not" | "must_not" }) =>
    Effect.gen(function*() {
      const key = keyOf(p)
      const now = yield* Clock.currentTimeMillis
      yield* propose({ _tag: "register-candidate", key, promotionRule: p.promotionRule, lastSuggested: now, priority: 1 })
      return envelope(ok("Registered candidate", keyJson(key)))
    }),

  tagByQuery: (p: InstanceParams, ctx: RequestContext) => tagHandler(p, ctx, {}),
  tag: (p: InstanceParams & { tagName: string; tagValue: string }, ctx: RequestContext) => tagHandler(p, ctx, p),
  tags: (p: InstanceParams) =>
    Effect.map(withRepo((repo) => repo.readTags(keyOf(p))), (tags) => json(tags.map((t) => `${t.tagName}=${t.tagValue}`))),
  tagValueByQuery: (p: InstanceParams, ctx: RequestContext) => tagValueHandler(p, ctx, {}),
  tagValue: (p: InstanceParams & { tagName: string }, ctx: RequestContext) => tagValueHandler(p, ctx, p),
  tagged: (_p: object, ctx: RequestContext) =>
    Effect.gen(function*() {
      const tag = yield* tagFrom(ctx, {})
      const tagged = yield* withRepo((repo) => repo.readTagged(tag.name, tag.value === "" ? undefined : tag.value))
      return json(tagged.map((t) => keyJson(t.key)))
    }),
  untagByQuery: (p: InstanceParams, ctx: RequestContext) => untagHandler(p, ctx, {}),
  untag: (p: InstanceParams & { tagName: string }, ctx: RequestContext) => untagHandler(p, ctx, p),
  untagAllByQuery: (_p: object, ctx: RequestContext) => untagAllHandler(ctx, {}),
  untagAll: (p: { tagName: string; tagValue: string }, ctx: RequestContext) => untagAllHandler(ctx, p),

  submitPoolInstances: (p: { pool: string }, ctx: RequestContext) =>
    Effect.gen(function*() {
      const raw = ctx.url.searchParams.get("instances") ?? ""
      const keys: Array<HostPort> = []
      for (const item of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
        const m = /^([^:\s]+):([0-9]{1,5})$/.exec(item)
        const port = m ? Number(m[2]) : 0
        if (!m || port < 1 || port > 65535) return yield* fail(`instances: expected host:port,host:port..., got ${JSON.stringify(item)}`, null, 400)
        keys.push({ hostname: m[1]!, port })
      }
      const at = yield* Clock.currentTimeMillis
      yield* propose({ _tag: "submit-pool-instances", pool: p.pool, keys, at })
      return envelope(ok(`Applied ${p.pool} pool instances`, p.pool))
    }),
  setClusterAlias: (p: { clusterName: string }, ctx: RequestContext) =>
    Effect.gen(function*() {
      const alias = ctx.url.searchParams.get("alias") ?? ""
      yield* propose({ _tag: "set-cluster-alias-manual-override", clusterName: p.clusterName, alias })
      return envelope(ok(`Cluster ${p.clusterName} now has alias '${alias}'`))
    }),
  registerHostnameUnresolve: (p: InstanceParams & { virtualname: string }) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      yield* propose({ _tag: "register-hostname-unresolve", hostname: p.host, unresolvedHostname: p.virtualname, at })
      return envelope(ok("Hostname register unresolve completed", keyJson(keyOf(p))))
    }),
  deregisterHostnameUnresolve: (p: InstanceParams) =>
    Effect.gen(function*() {
      yield* propose({ _tag: "deregister-hostname-unresolve", hostname: p.host })
      return envelope(ok("Hostname deregister unresolve completed", keyJson(keyOf(p))))
    }),

  disableGlobalRecoveries: () =>
    Effect.as(propose({ _tag: "disable-global-recoveries" }), envelope(ok("Globally disabled recoveries", "disabled"))),
  enableGlobalRecoveries: () =>
    Effect.as(propose({ _tag: "enable-global-recoveries" }), envelope(ok("Globally enabled recoveries", "enabled"))),
  checkGlobalRecoveries: () =>
    Effect.map(withRepo((repo) => repo.isGlobalRecoveriesDisabled), (disabled) =>
      disabled
        ? envelope(ok("Global recoveries disabled", "disabled"))
        : envelope(ok("Global recoveries enabled", "enabled"))),
  ackAllRecoveries: (_p: object, ctx: RequestContext) => ack({ _tag: "All" }, ctx, "all recoveries"),
  ackRecoveryByUid: (p: { uid: string }, ctx: RequestContext) => ack({ _tag: "Uid", uid: p.uid }, ctx, `recovery ${p.uid}`),
  ackRecoveryById: (p: { recoveryId: number }, ctx: RequestContext) =>
    ack({ _tag: "Id", id: p.recoveryId }, ctx, `recovery ${p.recoveryId}`),
  ackRecoveryByCluster: (p: { clusterHint: string }, ctx: RequestContext) =>
    Effect.gen(function*() {
      // The hint is a cluster name or an alias.
      const aliases = yield* withRepo((repo) => repo.readClusterAliases)
      const clusterName = aliases.find((a) => a.alias === p.clusterHint)?.clusterName ?? p.clusterHint
      return yield* ack({ _tag: "Cluster", clusterName }, ctx, `cluster ${clusterName} recoveries`)
    }),
  ackRecoveryByClusterAlias: (p: { clusterAlias: string }, ctx: RequestContext) =>
    Effect.flatMap(clusterByAlias(p.clusterAlias), (clusterName) =>
      ack({ _tag: "Cluster", clusterName }, ctx, `cluster ${clusterName} recoveries`)),
  ackRecoveryByInstance: (p: InstanceParams, ctx: RequestContext) =>
    ack({ _tag: "Instance", key: keyOf(p) }, ctx, `instance ${keyString(keyOf(p))} recoveries`)
}

function tagHandler(p: InstanceParams, ctx: RequestContext, path: { tagName?: string; tagValue?: string }) {
  return Effect.gen(function*() {
    const key = keyOf(p)
    const tag = yield* tagFrom(ctx, path)
    yield* propose({ _tag: "put-instance-tag", key, tagName: tag.name, tagValue: tag.value })
    return envelope(ok(`${keyString(key)} tagged with ${tag.name}=${tag.value}`, keyJson(key)))
  })
}

function tagValueHandler(p: InstanceParams, ctx: RequestContext, path: { tagName?: string }) {
  return Effect.gen(function*() {
    const key = keyOf(p)
    const tag = yield* tagFrom(ctx, path)
    const tags = yield* withRepo((repo) => repo.readTags(key))
    const found = tags.find((t) => t.tagName === tag.name)
    return found ? json(found.tagValue) : yield* fail(`tag ${tag.name} not found for ${keyString(key)}`)
  })
}

function untagHandler(p: InstanceParams, ctx: RequestContext, path: { tagName?: string }) {
  return Effect.gen(function*() {
    const key = keyOf(p)
    const tag = yield* tagFrom(ctx, path)
    const had = (yield* withRepo((repo) => repo.readTags(key))).some((t) => t.tagName === tag.name)
    if (had) yield* propose({ _tag: "delete-instance-tag", key, tagName: tag.name })
    return envelope(ok(`${tag.name} removed from ${had ? 1 : 0} instances`, had ? [keyJson(key)] : []))
  })
}

function untagAllHandler(ctx: RequestContext, path: { tagName?: string; tagValue?: string }) {
  return Effect.gen(function*() {
    const tag = yield* tagFrom(ctx, path)
    const tagged = yield* withRepo((repo) => repo.readTagged(tag.name, tag.value === "" ? undefined : tag.value))
    for (const t of tagged) yield* propose({ _tag: "delete-instance-tag", key: t.key, tagName: tag.name })
    return envelope(ok(`${tag.name} removed from ${tagged.length} instances`, tagged.map((t) => keyJson(t.key))))
  })
}
