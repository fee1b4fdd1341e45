/** The application version, read once from package.json (the single source of truth). */
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const findPackage = (): { version: string } => {
  // Works from both the sources (service/) and the build (dist/service/).
  for (const p of ["../package.json", "../../package.json"]) {
    try {
      const pkg = require(p) as { name?: string; version?: string }
      if (pkg.name === "orchestrator-ts" && typeof pkg.version === "string") return { version: pkg.version }
    } catch {
      // try the next location
    }
  }
  return { version: "0.0.0-unknown" }
}

export const appVersion = findPackage().version
