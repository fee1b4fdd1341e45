/**
 * Replication and instance control (orchestrator api.go "Replication, general", "Instance", spec
 * orchestrator-compat §2.5) and the small reads of §2.2, §2.3, §2.8, §2.10 that were missing: OSC replicas,
 * topology with tags, pools, bulk reads, resolve, headers, the hostname cache.
 *
 * Every `*-slave*` path also exists as `*-replica*` (orchestrator's `apiSynonyms`), one route each so that both
 * names reach the same handler. Mutations are W: served by the leader (followers forward them) and refused
 * with orchestrator's "Unauthorized" to read-only users and `ReadOnly: true`. orchestrator also guards some
 * reads with isAuthorizedForAction (bulk-instances, bulk-promotion-rules, the pool reads,
 * restart-slave-statements); they change nothing, so they are R here: open to read-only users, and retried
 * by the SDK as reads (client/sdk/Paths.ts classifies them so). `headers` and the hostname cache are in
 * orchestrator's NoProxy set: answered by the node asked.
 */
import { CountParam, HostParam, IdParam, InstanceParams, PortParam, TextParam } from "../Params.js"
import { NoParams, R, route, S, W } from "../RouteDef.js"

const Instance = S(InstanceParams)
const Below = S({ ...InstanceParams, belowHost: HostParam, belowPort: PortParam })
const Hint = S({ clusterHint: TextParam })

/** `<slave path>` and its `<replica path>` synonym, both to `<name>` handlers of the same shape. */
const both = <const A extends string, const B extends string>(
  slaveName: A,
  replicaName: B,
  slavePath: string,
  access: typeof W | typeof R = W
) =>
  [
    route(slaveName, `${slavePath}/:host/:port`, Instance, access),
    route(replicaName, `${slavePath.replace("slave", "replica")}/:host/:port`, Instance, access)
  ] as const

export const controlRoutes = [
  // Replication threads and the master host (all M, E with Details = the instance re-probed)
  ...both("startSlave", "startReplica", "start-slave"),
  ...both("restartSlave", "restartReplica", "restart-slave"),
  ...both("stopSlave", "stopReplica", "stop-slave"),
  ...both("stopSlaveNice", "stopReplicaNice", "stop-slave-nice"),
  ...both("resetSlave", "resetReplica", "reset-slave"),
  ...both("detachSlave", "detachReplica", "detach-slave"),
  ...both("reattachSlave", "reattachReplica", "reattach-slave"),
  ...both("detachSlaveMasterHost", "detachReplicaMasterHost", "detach-slave-master-host"),
  ...both("reattachSlaveMasterHost", "reattachReplicaMasterHost", "reattach-slave-master-host"),
  // Only reads the server's state: a read here (orchestrator guards it as an action).
  ...both("restartSlaveStatements", "restartReplicaStatements", "restart-slave-statements", R),
  route("skipQuery", "skip-query/:host/:port", Instance, W),
  route("delayReplication", "delay-replication/:host/:port/:seconds", S({ ...InstanceParams, seconds: CountParam }), W),
  route("enableSemiSyncMaster", "enable-semi-sync-master/:host/:port", Instance, W),
  route("disableSemiSyncMaster", "disable-semi-sync-master/:host/:port", Instance, W),
  route("enableSemiSyncReplica", "enable-semi-sync-replica/:host/:port", Instance, W),
  route("disableSemiSyncReplica", "disable-semi-sync-replica/:host/:port", Instance, W),

  // Instance and binary logs
  route("setReadOnly", "set-read-only/:host/:port", Instance, W),
  route("setWriteable", "set-writeable/:host/:port", Instance, W),
  route("killQuery", "kill-query/:host/:port/:process", S({ ...InstanceParams, process: IdParam }), W),
  route("flushBinaryLogs", "flush-binary-logs/:host/:port", Instance, W),
  route("purgeBinaryLogs", "purge-binary-logs/:host/:port/:logFile", S({ ...InstanceParams, logFile: TextParam }), W),

  // GTID
  route("enableGtid", "enable-gtid/:host/:port", Instance, W),
  route("disableGtid", "disable-gtid/:host/:port", Instance, W),
  route("gtidErrantResetMaster", "gtid-errant-reset-master/:host/:port", Instance, W),
  route("gtidErrantInjectEmpty", "gtid-errant-inject-empty/:host/:port", Instance, W),
  route("locateGtidErrant", "locate-gtid-errant/:host/:port", Instance, R),
  route("canReplicateFrom", "can-replicate-from/:host/:port/:belowHost/:belowPort", Below, R),
  route("canReplicateFromGtid", "can-replicate-from-gtid/:host/:port/:belowHost/:belowPort", Below, R),

  // Reads: instances, clusters, pools
  route("resolve", "resolve/:host/:port", Instance, R),
  route("bulkInstances", "bulk-instances", NoParams, R),
  route("bulkPromotionRules", "bulk-promotion-rules", NoParams, R),
  route("clusterOscSlaves", "cluster-osc-slaves/:clusterHint", Hint, R),
  route("clusterOscReplicas", "cluster-osc-replicas/:clusterHint", Hint, R),
  route("topologyTags", "topology-tags/:clusterHint", Hint, R),
  route("topologyTagsByInstance", "topology-tags/:host/:port", Instance, R),
  route("clusterPoolInstances", "cluster-pool-instances/:clusterName", S({ clusterName: TextParam }), R),
  route("clusterPoolInstancesByPool", "cluster-pool-instances/:clusterName/:pool", S({ clusterName: TextParam, pool: TextParam }), R),
  route("heuristicClusterPoolInstances", "heuristic-cluster-pool-instances/:clusterHint", Hint, R),
  route(
    "heuristicClusterPoolInstancesByPool",
    "heuristic-cluster-pool-instances/:clusterHint/:pool",
    S({ clusterHint: TextParam, pool: TextParam }),
    R
  ),
  route("heuristicClusterPoolLag", "heuristic-cluster-pool-lag/:clusterName", S({ clusterName: TextParam }), R),
  route("heuristicClusterPoolLagByPool", "heuristic-cluster-pool-lag/:clusterName/:pool", S({ clusterName: TextParam, pool: TextParam }), R),
  route("reloadClusterAlias", "reload-cluster-alias", NoParams, W),

  // Meta, answered locally
  route("headers", "headers", NoParams, { proxy: false }),
  route("hostnameResolveCache", "hostname-resolve-cache", NoParams, { proxy: false }),
  route("resetHostnameResolveCache", "reset-hostname-resolve-cache", NoParams, { proxy: false, access: "write" })
] as const
