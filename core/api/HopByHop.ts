/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy proxy-connection): a forwarder never relays
 * them. Shared by the node's leader gate and orchestrator-proxy; each adds the few headers its own
 * HTTP client sets itself.
 */
export const hopByHopHeaders: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])
