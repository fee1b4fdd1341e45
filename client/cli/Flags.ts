/**
 * orchestrator-client's command line: bash `getopts "c:i:d:s:a:D:U:o:r:u:R:t:l:H:P:q:b:e:n:h:S:"`
 * after its long-option rewrite (`--alias` → `-a`, ...). Like getopts, an option takes the next
 * argument whatever it looks like, the value may be attached (`-cclusters`), parsing stops at the
 * first non-option argument, and an unknown option is reported on stderr and skipped.
 * Additions: `--name=value` forms, `--json`.
 */

export interface Flags {
  readonly command: string
  readonly instance: string | undefined
  readonly destination: string
  readonly alias: string
  readonly owner: string | undefined
  readonly reason: string
  readonly duration: string
  readonly promotionRule: string
  readonly tag: string
  readonly pool: string
  readonly hostname: string
  readonly defaultPort: string
  readonly api: string | undefined
  readonly path: string
  readonly query: string
  readonly auth: string | undefined
  readonly headersAuth: string | undefined
  readonly binlog: string
  readonly seconds: string
  readonly json: boolean
  readonly help: boolean
}

const longToShort: Readonly<Record<string, string>> = {
  command: "c",
  alias: "a",
  owner: "o",
  reason: "r",
  "promotion-rule": "R",
  duration: "u",
  tag: "t",
  pool: "l",
  hostname: "H",
  api: "U",
  path: "P",
  query: "q",
  auth: "b",
  "headers-auth": "e",
  binlog: "n",
  seconds: "S",
  // not long options upstream, accepted for symmetry
  instance: "i",
  destination: "d"
}

const withArgument = new Set("cidsaDUoruRtlHPqbenS".split(""))

export const parseFlags = (argv: ReadonlyArray<string>, warn: (message: string) => void): Flags => {
  const v: Record<string, string> = {}
  let json = false
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") break
    if (arg === "-h" || arg === "-help" || arg === "--help") {
      help = true
      continue
    }
    if (arg === "--json" || arg === "-json") {
      json = true
      continue
    }
    const long = /^--?([a-z][a-z-]+)(?:=([\s\S]*))?$/.exec(arg)
    if (long && longToShort[long[1]!] !== undefined) {
      const value = long[2] ?? argv[++i]
      if (value === undefined) warn(`option requires an argument -- ${long[1]}`)
      else v[longToShort[long[1]!]!] = value
      continue
    }
    if (arg.length < 2 || !arg.startsWith("-")) break
    const letter = arg[1]!
    if (!withArgument.has(letter)) {
      warn(`illegal option -- ${letter}`)
      continue
    }
    const value = arg.length > 2 ? arg.slice(2) : argv[++i]
    if (value === undefined) warn(`option requires an argument -- ${letter}`)
    else v[letter === "s" ? "d" : letter] = value
  }
  return {
    command: v["c"] ?? "",
    instance: v["i"],
    destination: v["d"] ?? "",
    alias: v["a"] ?? "",
    owner: v["o"],
    reason: v["r"] ?? "",
    duration: v["u"] ?? "10m",
    promotionRule: v["R"] ?? "",
    tag: v["t"] ?? "",
    pool: v["l"] ?? "",
    hostname: v["H"] ?? "",
    defaultPort: v["D"] ?? "3306",
    api: v["U"] === "" ? undefined : v["U"],
    path: v["P"] ?? "",
    query: v["q"] ?? "",
    auth: v["b"],
    headersAuth: v["e"],
    binlog: v["n"] ?? "",
    seconds: v["S"] ?? "",
    json,
    help
  }
}
