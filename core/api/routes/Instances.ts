/** Discovery, instance, cluster and topology routes (orchestrator api.go; spec §2.2, §2.3, §2.7). */
import { InstanceParams, TextParam } from "../Params.js"
import { NoParams, R, route, S, W } from "../RouteDef.js"

const Hint = S({ clusterHint: TextParam })

export const instanceRoutes = [
  // Discovery (probes are local; `discover`/`forget`/`forget-cluster` are also replicated ops)
  route("discover", "discover/:host/:port", S(InstanceParams), W),
  route("asyncDiscover", "async-discover/:host/:port", S(InstanceParams), W),
  route("refresh", "refresh/:host/:port", S(InstanceParams), W),
  route("forget", "forget/:host/:port", S(InstanceParams), W),
  route("forgetCluster", "forget-cluster/:clusterHint", Hint, W),

  // Instances
  route("instance", "instance/:host/:port", S(InstanceParams), R),
  route("instanceReplicas", "instance-replicas/:host/:port", S(InstanceParams), R),
  route("allInstances", "all-instances", NoParams, R),
  route("search", "search", NoParams, R),
  route("searchString", "search/:searchString", S({ searchString: TextParam }), R),

  // Clusters
  route("clusters", "clusters", NoParams, R),
  route("clustersInfo", "clusters-info", NoParams, R),
  route("clusterByAlias", "cluster/alias/:clusterAlias", S({ clusterAlias: TextParam }), R),
  route("clusterByInstance", "cluster/instance/:host/:port", S(InstanceParams), R),
  route("cluster", "cluster/:clusterHint", Hint, R),
  route("clusterInfoByAlias", "cluster-info/alias/:clusterAlias", S({ clusterAlias: TextParam }), R),
  route("clusterInfo", "cluster-info/:clusterHint", Hint, R),
  route("clusterMaster", "master/:clusterHint", Hint, R),
  route("masters", "masters", NoParams, R),
  route("topology", "topology/:clusterHint", Hint, R),
  route("topologyByInstance", "topology/:host/:port", S(InstanceParams), R),
  route("topologyTabulated", "topology-tabulated/:clusterHint", Hint, R),
  route("topologyTabulatedByInstance", "topology-tabulated/:host/:port", S(InstanceParams), R),
  route("problems", "problems", NoParams, R),
  route("problemsByCluster", "problems/:clusterName", S({ clusterName: TextParam }), R),
  route("downtimed", "downtimed", NoParams, R),
  route("downtimedByCluster", "downtimed/:clusterHint", Hint, R)
] as const
