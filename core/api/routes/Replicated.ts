/** Routes whose mutations are replicated ops (downtime, maintenance, tags, acks, ...). */
import { HostParam, IdParam, InstanceParams, PortParam, PromotionRuleParam, TextParam } from "../Params.js"
import { NoParams, R, route, S, W } from "../RouteDef.js"

export const replicatedRoutes = [
  // Downtime and maintenance (replicated ops)
  route("beginDowntime", "begin-downtime/:host/:port/:owner/:reason", S({ ...InstanceParams, owner: TextParam, reason: TextParam }), W),
  route(
    "beginDowntimeFor",
    "begin-downtime/:host/:port/:owner/:reason/:duration",
    S({ ...InstanceParams, owner: TextParam, reason: TextParam, duration: TextParam }),
    W
  ),
  route("endDowntime", "end-downtime/:host/:port", S(InstanceParams), W),
  route("beginMaintenance", "begin-maintenance/:host/:port/:owner/:reason", S({ ...InstanceParams, owner: TextParam, reason: TextParam }), W),
  route("endMaintenance", "end-maintenance/:host/:port", S(InstanceParams), W),
  route("endMaintenanceByKey", "end-maintenance/:maintenanceKey", S({ maintenanceKey: IdParam }), W),
  route("inMaintenance", "in-maintenance/:host/:port", S(InstanceParams), R),
  route("maintenance", "maintenance", NoParams, R),

  // Candidates, tags, pools, aliases, hostname unresolve (replicated ops)
  route("registerCandidate", "register-candidate/:host/:port/:promotionRule", S({ ...InstanceParams, promotionRule: PromotionRuleParam }), W),
  route("tagByQuery", "tag/:host/:port", S(InstanceParams), W),
  route("tag", "tag/:host/:port/:tagName/:tagValue", S({ ...InstanceParams, tagName: TextParam, tagValue: TextParam }), W),
  route("tags", "tags/:host/:port", S(InstanceParams), R),
  route("tagValueByQuery", "tag-value/:host/:port", S(InstanceParams), R),
  route("tagValue", "tag-value/:host/:port/:tagName", S({ ...InstanceParams, tagName: TextParam }), R),
  route("tagged", "tagged", NoParams, R),
  route("untagByQuery", "untag/:host/:port", S(InstanceParams), W),
  route("untag", "untag/:host/:port/:tagName", S({ ...InstanceParams, tagName: TextParam }), W),
  route("untagAllByQuery", "untag-all", NoParams, W),
  route("untagAll", "untag-all/:tagName/:tagValue", S({ tagName: TextParam, tagValue: TextParam }), W),
  route("submitPoolInstances", "submit-pool-instances/:pool", S({ pool: TextParam }), W),
  route("setClusterAlias", "set-cluster-alias/:clusterName", S({ clusterName: TextParam }), W),
  route(
    "registerHostnameUnresolve",
    "register-hostname-unresolve/:host/:port/:virtualname",
    S({ host: HostParam, port: PortParam, virtualname: HostParam }),
    W
  ),
  route("deregisterHostnameUnresolve", "deregister-hostname-unresolve/:host/:port", S(InstanceParams), W),

  // Global recovery switch and acknowledgements (replicated ops)
  route("disableGlobalRecoveries", "disable-global-recoveries", NoParams, W),
  route("enableGlobalRecoveries", "enable-global-recoveries", NoParams, W),
  route("checkGlobalRecoveries", "check-global-recoveries", NoParams, R),
  route("ackAllRecoveries", "ack-all-recoveries", NoParams, W),
  route("ackRecoveryByUid", "ack-recovery/uid/:uid", S({ uid: TextParam }), W),
  route("ackRecoveryByClusterAlias", "ack-recovery/cluster/alias/:clusterAlias", S({ clusterAlias: TextParam }), W),
  route("ackRecoveryByCluster", "ack-recovery/cluster/:clusterHint", S({ clusterHint: TextParam }), W),
  route("ackRecoveryByInstance", "ack-recovery/instance/:host/:port", S(InstanceParams), W),
  route("ackRecoveryById", "ack-recovery/:recoveryId", S({ recoveryId: IdParam }), W)
] as const
