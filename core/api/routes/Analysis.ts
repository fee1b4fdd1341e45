/**
 * Failure-analysis routes (orchestrator go/http/api.go: `replication-analysis`,
 * `replication-analysis/:clusterName`, `replication-analysis/instance/:host/:port`). Reads, served by the
 * leader like every client request; each node can compute the same analysis from its own backend.
 *
 * Order matters only among paths of equal length: `replication-analysis/:clusterName` (2 segments) cannot
 * shadow `replication-analysis/instance/:host/:port` (4 segments).
 */
import { InstanceParams, TextParam } from "../Params.js"
import { NoParams, R, route, S } from "../RouteDef.js"

export const analysisRoutes = [
  route("replicationAnalysis", "replication-analysis", NoParams, R),
  route("replicationAnalysisForInstance", "replication-analysis/instance/:host/:port", S(InstanceParams), R),
  route("replicationAnalysisForCluster", "replication-analysis/:clusterName", S({ clusterName: TextParam }), R)
] as const
