/**
 * The product's Prometheus metrics, as Effect metrics: modules update them where things happen;
 * service/http/MetricsEndpoint.ts renders them (with Node process metrics) at /metrics.
 * Names follow Prometheus conventions: `orchestrator_` prefix, units last, `_total` for counters.
 */
import { Metric, MetricBoundaries } from "effect"

const latencyBuckets = MetricBoundaries.exponential({ start: 0.0005, factor: 2, count: 14 }) // 0.5 ms .. ~4 s

export const raftTerm = Metric.gauge("orchestrator_raft_term", { description: "Current raft term" })
export const raftCommitIndex = Metric.gauge("orchestrator_raft_commit_index", { description: "Raft commit index" })
export const raftAppliedIndex = Metric.gauge("orchestrator_raft_applied_index", {
  description: "Last raft log index applied to the backend"
})
export const raftIsLeader = Metric.gauge("orchestrator_raft_is_leader", {
  description: "1 while this node holds a valid leader lease, else 0"
})
export const raftState = Metric.gauge("orchestrator_raft_state", {
  description: "1 for the raft state this node is in (label state), 0 for the others"
})
export const raftElections = Metric.counter("orchestrator_raft_elections_total", {
  description: "Elections this node started (including pre-votes that won)",
  incremental: true
})
export const raftProposalSeconds = Metric.histogram(
  "orchestrator_raft_proposal_seconds",
  latencyBuckets,
  "Time from proposing a replicated op to its commit"
)
export const probeSeconds = Metric.histogram(
  "orchestrator_probe_seconds",
  latencyBuckets,
  "Duration of one instance probe"
)
export const probesTotal = Metric.counter("orchestrator_probes_total", {
  description: "Instance probes by result (label result: ok, failed)",
  incremental: true
})
export const instances = Metric.gauge("orchestrator_instances", {
  description: "Known instances by state (label state: valid, invalid, downtimed)"
})
export const analyses = Metric.gauge("orchestrator_analyses", {
  description: "Current replication analyses by code (label analysis)"
})
export const recoveries = Metric.counter("orchestrator_recoveries_total", {
  description: "Recoveries run by this node (labels: type, result)",
  incremental: true
})
export const httpRequests = Metric.counter("orchestrator_http_requests_total", {
  description: "HTTP API requests by route and status class",
  incremental: true
})
