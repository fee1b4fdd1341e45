import { defineConfig } from "vitest/config"

// Optional Nix evaluation checks that need a nixpkgs lib/ (NIXPKGS_LIB); not part of `npm test`.
export default defineConfig({ test: { include: ["test/nix/*.nixpkgs.ts"], testTimeout: 60_000 } })
