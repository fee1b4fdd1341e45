/**
 * Recovery, failover, audit and GTID refactoring routes (orchestrator go/http/api.go; spec
 * orchestrator-compat §2.4, §2.6). Manual recoveries and refactorings are writes (leader only); audits are
 * reads. `recovery-peer-analysis` is ours: each node's own analysis of one instance, answered locally (never
 * forwarded to the leader) — the leader's quorum-agreed detection asks every peer through it.
 *
 * Paths of equal length are ordered specific-first (first match wins).
 */
import { HostParam, IdParam, InstanceParams, PortParam, TextParam } from "../Params.js"
import { NoParams, R, route, S, W } from "../RouteDef.js"

const Below = { ...InstanceParams, belowHost: HostParam, belowPort: PortParam }
const Candidate = { ...InstanceParams, candidateHost: HostParam, candidatePort: PortParam }
const Designated = { ...InstanceParams, designatedHost: HostParam, designatedPort: PortParam }
const HintDesignated = { clusterHint: TextParam, designatedHost: HostParam, designatedPort: PortParam }
const Page = { page: IdParam }

export const recoveryRoutes = [
  // Manual recoveries and takeovers
  route("recover", "recover/:host/:port", S(InstanceParams), W),
  route("recoverWithCandidate", "recover/:host/:port/:candidateHost/:candidatePort", S(Candidate), W),
  route("recoverLite", "recover-lite/:host/:port", S(InstanceParams), W),
  route("recoverLiteWithCandidate", "recover-lite/:host/:port/:candidateHost/:candidatePort", S(Candidate), W),
  route("forceMasterFailover", "force-master-failover/:host/:port", S(InstanceParams), W),
  route("forceMasterFailoverByCluster", "force-master-failover/:clusterHint", S({ clusterHint: TextParam }), W),
  route("forceMasterTakeover", "force-master-takeover/:host/:port/:designatedHost/:designatedPort", S(Designated), W),
  route("forceMasterTakeoverByCluster", "force-master-takeover/:clusterHint/:designatedHost/:designatedPort", S(HintDesignated), W),
  route("gracefulMasterTakeover", "graceful-master-takeover/:host/:port", S(InstanceParams), W),
  route("gracefulMasterTakeoverDesignated", "graceful-master-takeover/:host/:port/:designatedHost/:designatedPort", S(Designated), W),
  route("gracefulMasterTakeoverByCluster", "graceful-master-takeover/:clusterHint", S({ clusterHint: TextParam }), W),
  route("gracefulMasterTakeoverByClusterDesignated", "graceful-master-takeover/:clusterHint/:designatedHost/:designatedPort", S(HintDesignated), W),
  route("gracefulMasterTakeoverAuto", "graceful-master-takeover-auto/:host/:port", S(InstanceParams), W),
  route("gracefulMasterTakeoverAutoDesignated", "graceful-master-takeover-auto/:host/:port/:designatedHost/:designatedPort", S(Designated), W),
  route("gracefulMasterTakeoverAutoByCluster", "graceful-master-takeover-auto/:clusterHint", S({ clusterHint: TextParam }), W),
  route("gracefulMasterTakeoverAutoByClusterDesignated", "graceful-master-takeover-auto/:clusterHint/:designatedHost/:designatedPort", S(HintDesignated), W),

  // Audit and state
  route("automatedRecoveryFilters", "automated-recovery-filters", NoParams, R),
  route("auditFailureDetection", "audit-failure-detection", NoParams, R),
  route("auditFailureDetectionById", "audit-failure-detection/id/:id", S({ id: IdParam }), R),
  route("auditFailureDetectionByAlias", "audit-failure-detection/alias/:clusterAlias", S({ clusterAlias: TextParam }), R),
  route("auditFailureDetectionByAliasPage", "audit-failure-detection/alias/:clusterAlias/:page", S({ clusterAlias: TextParam, ...Page }), R),
  route("auditFailureDetectionPage", "audit-failure-detection/:page", S(Page), R),
  route("auditRecovery", "audit-recovery", NoParams, R),
  route("auditRecoveryById", "audit-recovery/id/:id", S({ id: IdParam }), R),
  route("auditRecoveryByUid", "audit-recovery/uid/:uid", S({ uid: TextParam }), R),
  route("auditRecoveryByCluster", "audit-recovery/cluster/:clusterName", S({ clusterName: TextParam }), R),
  route("auditRecoveryByAlias", "audit-recovery/alias/:clusterAlias", S({ clusterAlias: TextParam }), R),
  route("auditRecoveryByClusterPage", "audit-recovery/cluster/:clusterName/:page", S({ clusterName: TextParam, ...Page }), R),
  route("auditRecoveryByAliasPage", "audit-recovery/alias/:clusterAlias/:page", S({ clusterAlias: TextParam, ...Page }), R),
  route("auditRecoveryPage", "audit-recovery/:page", S(Page), R),
  route("auditRecoverySteps", "audit-recovery-steps/:uid", S({ uid: TextParam }), R),
  route("activeClusterRecovery", "active-cluster-recovery/:clusterName", S({ clusterName: TextParam }), R),
  route("recentlyActiveClusterRecovery", "recently-active-cluster-recovery/:clusterName", S({ clusterName: TextParam }), R),
  route("recentlyActiveInstanceRecovery", "recently-active-instance-recovery/:host/:port", S(InstanceParams), R),
  route("blockedRecoveries", "blocked-recoveries", NoParams, R),
  route("blockedRecoveriesByCluster", "blocked-recoveries/cluster/:clusterName", S({ clusterName: TextParam }), R),
  route("recoveryPeerAnalysis", "recovery-peer-analysis/:host/:port", S(InstanceParams), { proxy: false, open: true }),

  // GTID refactoring
  route("relocate", "relocate/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("relocateBelow", "relocate-below/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("relocateReplicas", "relocate-replicas/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("relocateSlaves", "relocate-slaves/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("moveBelowGtid", "move-below-gtid/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("moveReplicasGtid", "move-replicas-gtid/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("moveSlavesGtid", "move-slaves-gtid/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("regroupReplicas", "regroup-replicas/:host/:port", S(InstanceParams), W),
  route("regroupSlaves", "regroup-slaves/:host/:port", S(InstanceParams), W),
  route("regroupReplicasGtid", "regroup-replicas-gtid/:host/:port", S(InstanceParams), W),
  route("regroupSlavesGtid", "regroup-slaves-gtid/:host/:port", S(InstanceParams), W),
  route("repoint", "repoint/:host/:port/:belowHost/:belowPort", S(Below), W),
  route("moveBelow", "move-below/:host/:port/:siblingHost/:siblingPort", S({ ...InstanceParams, siblingHost: HostParam, siblingPort: PortParam }), W),
  route("moveUp", "move-up/:host/:port", S(InstanceParams), W),
  route("moveUpReplicas", "move-up-replicas/:host/:port", S(InstanceParams), W),
  route("moveUpSlaves", "move-up-slaves/:host/:port", S(InstanceParams), W),
  route("repointReplicas", "repoint-replicas/:host/:port", S(InstanceParams), W),
  route("repointSlaves", "repoint-slaves/:host/:port", S(InstanceParams), W),
  route("takeMaster", "take-master/:host/:port", S(InstanceParams), W),
  route("enslaveMaster", "enslave-master/:host/:port", S(InstanceParams), W),
  route("takeSiblings", "take-siblings/:host/:port", S(InstanceParams), W),
  route("enslaveSiblings", "enslave-siblings/:host/:port", S(InstanceParams), W),
  route("makeCoMaster", "make-co-master/:host/:port", S(InstanceParams), W)
] as const
