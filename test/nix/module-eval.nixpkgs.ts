// Optional checks, outside the default suite (nixpkgs is not reachable on CI machines): run with
// NIXPKGS_LIB=/path/to/nixpkgs/lib npm run check:nixpkgs
// Offline checks of the Nix packaging (flake.nix, nix/**): every .nix file parses, the lockfile
// helper gives every package-lock.json entry a `resolved` URL, and — when a nixpkgs `lib` is at
// hand (NIXPKGS_LIB) — the NixOS module and the flake outputs evaluate against stubs.
// nixpkgs itself is not reachable here, so the package build and the VM test are not run (docs/nix.md).
import { describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { evalJson, Lock, registry, root } from "./nixTools.js"

// Evaluating the module and the flake needs nixpkgs' lib (pure Nix, no store or network): a
// nixpkgs checkout's lib/ directory, given as NIXPKGS_LIB. Without it these are skipped; the
// checks above still run.
const nixpkgsLib = process.env["NIXPKGS_LIB"]
if (nixpkgsLib === undefined) throw new Error("set NIXPKGS_LIB to a nixpkgs checkout's lib/ directory (npm run check:nixpkgs)")

describe("Nix packaging, evaluated with nixpkgs lib (NIXPKGS_LIB)", () => {
  const libArg = ["--arg", "lib", `import ${nixpkgsLib}`]

  interface ModuleEval {
    readonly settings: Record<string, unknown>
    readonly failedAssertions: Array<string>
    readonly warnings: Array<string>
    readonly firewallPorts: Array<number>
    readonly unit: null | {
      readonly wants: Array<string>
      readonly after: Array<string>
      readonly serviceConfig: Record<string, unknown> & { readonly ExecStart: string }
    }
  }

  const evalModule = async (node: string): Promise<ModuleEval> =>
    (await evalJson([join(root, "test/nix/eval-module.nix"), ...libArg, "--arg", "node", node])) as ModuleEval

  it("renders a raft node's config, credentials and unit", async () => {
    const r = await evalModule(`{
      networking.fqdnOrHostName = "orc1";
      services.orchestrator = {
        enable = true;
        raftNodes = [ "orc1:10008" "orc2:10008" "orc3" ];
        openFirewall = true;
        mysqlPasswordFile = "/run/secrets/backend";
        topologyPasswordFile = "/run/secrets/topology";
        raftSecretFile = "/run/secrets/raft";
        settings.InstancePollSeconds = 7;
      };
    }`)
    expect(r.failedAssertions).toEqual([])
    expect(r.warnings).toEqual([])
    expect(r.settings).toEqual({
      ListenAddress: ":3000",
      BackendDB: "sqlite",
      SQLite3DataFile: "/var/lib/orchestrator/orchestrator.sqlite3",
      RaftEnabled: true,
      RaftDataDir: "/var/lib/orchestrator/raft",
      RaftBind: "0.0.0.0:10008",
      RaftAdvertise: "orc1:10008",
      DefaultRaftPort: 10008,
      RaftNodes: ["orc1:10008", "orc2:10008", "orc3"],
      RaftAuthSecretFile: "/run/credentials/orchestrator.service/raft-secret",
      MySQLOrchestratorPassword: "${ORCHESTRATOR_MYSQL_PASSWORD}",
      MySQLTopologyPassword: "${ORCHESTRATOR_TOPOLOGY_PASSWORD}",
      InstancePollSeconds: 7
    })
    expect(JSON.stringify(r.settings)).not.toContain("/run/secrets")
    expect(r.firewallPorts).toEqual([3000, 10008])
    const unit = r.unit!
    expect(unit.serviceConfig["LoadCredential"]).toEqual([
      "mysql-password:/run/secrets/backend",
      "raft-secret:/run/secrets/raft",
      "topology-password:/run/secrets/topology"
    ])
    expect(unit.serviceConfig).toMatchObject({
      DynamicUser: true,
      StateDirectory: "orchestrator",
      Restart: "on-failure",
      KillSignal: "SIGTERM",
      ProtectSystem: "strict",
      PrivateTmp: true,
      NoNewPrivileges: true
    })
    expect(unit.serviceConfig["MemoryDenyWriteExecute"]).toBeUndefined()
    expect(unit.serviceConfig.ExecStart).toContain(
      `ORCHESTRATOR_MYSQL_PASSWORD="$(< "$CREDENTIALS_DIRECTORY/mysql-password")"`
    )
    expect(unit.serviceConfig.ExecStart).toMatch(
      /\nexec \/nix\/store\/\S+-orchestrator-ts-0\.1\.0\/bin\/orchestrator --config \/nix\/store\/\S+-orchestrator\.conf\.json http\n$/
    )
  })

  it("lets settings override the typed defaults, and checks the raft basics", async () => {
    const overridden = await evalModule(`{
      services.orchestrator = {
        enable = true;
        enableRaft = false;
        backend = "mysql";
        httpPort = 3001;
        openFirewall = true;
        settings.ListenAddress = "127.0.0.1:3002";
        settings.MySQLTopologyPassword = "hunter2";
      };
    }`)
    expect(overridden.settings).toEqual({
      ListenAddress: "127.0.0.1:3002",
      BackendDB: "mysql",
      RaftEnabled: false,
      MySQLTopologyPassword: "hunter2"
    })
    expect(overridden.firewallPorts).toEqual([3001])
    expect(overridden.warnings).toEqual([expect.stringContaining("MySQLTopologyPassword holds a literal password")])

    const noNodes = await evalModule(`{ services.orchestrator.enable = true; }`)
    expect(noNodes.failedAssertions).toEqual([expect.stringContaining("raftNodes must list")])

    const stranger = await evalModule(`{
      networking.fqdnOrHostName = "orc9";
      services.orchestrator = { enable = true; raftNodes = [ "orc1" "orc2" "orc3" ]; raftSecretFile = "/s"; };
    }`)
    expect(stranger.warnings).toEqual([expect.stringContaining("is not one of raftNodes")])

    const disabled = await evalModule(`{ services.orchestrator.raftNodes = [ "orc1" ]; }`)
    expect(disabled.unit).toBeNull()
    expect(disabled.firewallPorts).toEqual([])
  })

  it("refuses a plain-text password next to its credential file", async () => {
    await expect(
      evalModule(`{
        services.orchestrator = {
          enable = true;
          raftNodes = [ "nixos" ];
          mysqlPasswordFile = "/run/secrets/backend";
          settings.MySQLOrchestratorPassword = "hunter2";
        };
      }`)
    ).rejects.toThrow(/MySQLOrchestratorPassword/)
  })

  it("wires the flake outputs (builders stubbed)", async () => {
    const r = (await evalJson([join(root, "test/nix/eval-flake.nix"), ...libArg], {
      NPM_REGISTRY: registry
    })) as Record<string, unknown> & { readonly package: Record<string, unknown> }
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as Lock
    const entries = Object.keys(lock.packages).length - 1
    expect(r["systems"]).toEqual(["aarch64-linux", "x86_64-linux"])
    expect(r.package).toMatchObject({
      pname: "orchestrator-ts",
      version: "0.1.0",
      nodejs: "nodejs-20",
      npmConfigHookNodejs: "nodejs-20",
      npmBuildScript: "build",
      nativeBuildInputs: ["python3"],
      mainProgram: "orchestrator",
      lockEntries: entries,
      resolvedEntries: entries,
      srcKeeps: {
        "package.json": true,
        "package-lock.json": true,
        "tsconfig.build.json": true,
        node_modules: false,
        dist: false,
        nix: false,
        "flake.nix": false,
        result: false
      }
    })
    expect(r["checkDoCheck"]).toBe(true)
    expect(r["vmTestNodes"]).toEqual(["orc1", "orc2", "orc3"])
    expect(r["devShellPackages"]).toEqual(["nodejs-20", "mariadb", "sqlite", "python3", "nftables"])
    expect(r["formatter"]).toBe("nixfmt")
    expect(r["hasModule"]).toBe(true)
  })
})
