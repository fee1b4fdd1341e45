/**
 * orchestrator's configuration filters, pure:
 * - cluster filters (`RecoverMasterClusterFilters`, `RecoverIntermediateMasterClusterFilters`;
 *   go/inst/cluster.go `filtersMatchCluster`);
 * - hostname filters (`RecoveryIgnoreHostnameFilters`: `regexp.MatchString(filter, hostname)` in
 *   analysis_dao.go; `PromotionIgnoreHostnameFilters`: instance_utils.go `FiltersMatchInstanceKey`, exact
 *   for IP literals, else a regexp on `host:port`).
 *
 * Go's regexp is RE2; JavaScript's syntax covers the filters people write. A leading `(?i)` (RE2's inline
 * flag, unknown to Node 20) becomes the `i` flag. An invalid pattern matches nothing, as Go's MatchString
 * error is ignored by orchestrator.
 */

const cache = new Map<string, RegExp | null>()

const compile = (pattern: string): RegExp | null => {
  const hit = cache.get(pattern)
  if (hit !== undefined) return hit
  let re: RegExp | null
  try {
    re = pattern.startsWith("(?i)") ? new RegExp(pattern.slice(4), "i") : new RegExp(pattern)
  } catch {
    re = null
  }
  if (cache.size > 1000) cache.clear()
  cache.set(pattern, re)
  return re
}

/** Go `regexp.MatchString(pattern, text)`: unanchored. */
export const regexpMatch = (pattern: string, text: string): boolean => compile(pattern)?.test(text) ?? false

export interface ClusterRef {
  readonly clusterName: string
  readonly clusterAlias: string
}

/** `filtersMatchCluster`: exact name or alias, `alias=<x>`, `alias~=<regex>`, `*`, or a regex on the name. */
export const filtersMatchCluster = (filters: ReadonlyArray<string>, c: ClusterRef): boolean =>
  filters.some((f) => {
    if (f === c.clusterName || f === c.clusterAlias) return true
    if (f.startsWith("alias=")) return f.slice("alias=".length) === c.clusterAlias
    if (f.startsWith("alias~=")) return regexpMatch(f.slice("alias~=".length), c.clusterAlias)
    if (f === "*") return true
    return f !== "" && regexpMatch(f, c.clusterName)
  })

/** Any filter matches the hostname (RecoveryIgnoreHostnameFilters). */
export const hostnameMatchesAny = (filters: ReadonlyArray<string>, hostname: string): boolean =>
  filters.some((f) => regexpMatch(f, hostname))

const ipv4Re = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/
const ipv6Re = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/

/** Go `net.ParseIP(s) != nil`, closely enough for filters (an IPv4 or IPv6 literal). */
export const isIpLiteral = (s: string): boolean => ipv4Re.test(s) || (s.includes(":") && ipv6Re.test(s) && s.length >= 2)

/** `FiltersMatchInstanceKey`: an IP filter must equal the hostname; other filters are regexps on `host:port`. */
export const filtersMatchInstanceKey = (
  filters: ReadonlyArray<string>,
  key: { readonly hostname: string; readonly port: number }
): boolean =>
  filters.some((f) => (isIpLiteral(f) ? f === key.hostname : regexpMatch(f, `${key.hostname}:${key.port}`)))
