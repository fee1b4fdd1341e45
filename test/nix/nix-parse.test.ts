// Offline checks of the Nix packaging (flake.nix, nix/**): every .nix file parses, the lockfile
// helper gives every package-lock.json entry a `resolved` URL, and the helper refuses an empty registry. The module and flake evaluations
// against nixpkgs lib live in module-eval.nixpkgs.ts (npm run check:nixpkgs).
// nixpkgs itself is not reachable here, so the package build and the VM test are not run (docs/nix.md).
import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { evalJson, hasNixInstantiate, INSTALL_HINT, Lock, nixFiles, nixInstantiate, registry, root } from "./nixTools.js"


describe("Nix packaging", () => {
  it("has nix-instantiate available", async () => {
    if (!(await hasNixInstantiate())) expect.fail(INSTALL_HINT)
  })

  it("parses every .nix file in the repository", async () => {
    if (!(await hasNixInstantiate())) expect.fail(INSTALL_HINT)
    const files = nixFiles(root)
    const rel = files.map((f) => relative(root, f))
    expect(rel).toEqual(
      expect.arrayContaining([
        "flake.nix",
        "nix/add-resolved.nix",
        "nix/module.nix",
        "nix/package.nix",
        "nix/vm-test.nix"
      ])
    )
    await Promise.all(files.map((f) => nixInstantiate(["--parse", f])))
  })

  it("add-resolved.nix gives every non-root lockfile entry its registry tarball URL", async () => {
    if (!(await hasNixInstantiate())) expect.fail(INSTALL_HINT)
    const lockPath = join(root, "package-lock.json")
    const original = JSON.parse(readFileSync(lockPath, "utf8")) as Lock
    const result = (await evalJson([
      join(root, "nix/add-resolved.nix"),
      "--arg",
      "lock",
      `builtins.fromJSON (builtins.readFile ${lockPath})`,
      "--argstr",
      "registry",
      `${registry}/`
    ])) as Lock

    const entries = Object.entries(original.packages).filter(([path]) => path !== "")
    expect(entries.length).toBeGreaterThan(0)
    expect(Object.keys(result.packages).sort()).toEqual(Object.keys(original.packages).sort())
    expect(result.packages[""]).toEqual(original.packages[""])
    for (const [path, entry] of entries) {
      const got = result.packages[path]
      if (entry.link === true || entry.inBundle === true || entry.resolved !== undefined) {
        expect(got, path).toEqual(entry)
        continue
      }
      const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)
      const basename = name.startsWith("@") ? name.slice(name.indexOf("/") + 1) : name
      expect(got, path).toEqual({ ...entry, resolved: `${registry}/${name}/-/${basename}-${entry.version}.tgz` })
    }
  })

  it("add-resolved.nix refuses an empty registry", async () => {
    if (!(await hasNixInstantiate())) expect.fail(INSTALL_HINT)
    await expect(
      evalJson([
        join(root, "nix/add-resolved.nix"),
        "--arg",
        "lock",
        `{ packages."node_modules/a".version = "1.0.0"; }`,
        "--argstr",
        "registry",
        ""
      ])
    ).rejects.toThrow(/registry.*is empty/)
  })
})

