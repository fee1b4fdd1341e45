/**
 * How an Instance is stored in the backend (`database_instance`): the queried columns plus the
 * whole Instance as JSON. The check timestamps live in columns (a failed probe updates only them,
 * orchestrator's rule), so reading overlays the columns on the JSON snapshot.
 */
import { Either, Schema } from "effect"
import type { InstanceRecord } from "../backend/Repository.js"
import { Instance } from "./Instance.js"

const InstanceJson = Schema.parseJson(Instance)
const encode = Schema.encodeSync(InstanceJson)
const decode = Schema.decodeUnknownEither(InstanceJson)

/** The row of `i` with `data` as its JSON text (the columns are the same whatever produced the text). */
export const recordWithData = (i: Instance, data: string): InstanceRecord => ({
  key: { hostname: i.key.hostname, port: i.key.port },
  lastChecked: i.lastCheckedAt,
  lastAttemptedCheck: i.lastAttemptedCheckAt,
  lastSeen: i.lastSeenAt,
  lastCheckPartialSuccess: i.lastCheckPartialSuccess,
  clusterName: i.clusterName,
  masterKey: i.replication?.masterKey
    ? { hostname: i.replication.masterKey.hostname, port: i.replication.masterKey.port }
    : null,
  data
})

export const toRecord = (i: Instance): InstanceRecord => recordWithData(i, encode(i))

/**
 * The Instance of a stored row, with the columns' check times. `lastCheckValid` follows
 * orchestrator: last_checked <= last_seen (a failed probe moves last_checked past last_seen).
 */
export const fromRecord = (r: InstanceRecord): Either.Either<Instance, string> =>
  Either.mapBoth(decode(r.data), {
    onLeft: (e) => `stored instance ${r.key.hostname}:${r.key.port} cannot be decoded: ${e.message}`,
    onRight: (i) => ({
      ...i,
      lastCheckedAt: r.lastChecked,
      lastSeenAt: r.lastSeen,
      lastAttemptedCheckAt: r.lastAttemptedCheck,
      lastCheckPartialSuccess: r.lastCheckPartialSuccess,
      lastCheckValid: r.lastChecked !== null && r.lastSeen !== null && r.lastChecked <= r.lastSeen
    })
  })
