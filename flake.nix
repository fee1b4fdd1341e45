{
  description = "orchestrator-ts: MySQL/MariaDB high-availability and replication-topology manager (raft deployment)";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # package-lock.json records no `resolved` URLs and the repository names no registry host, so
      # the npm registry base URL is read at evaluation time (needs --impure; see docs/nix.md):
      #   NPM_REGISTRY="$(npm config get registry)" nix build --impure
      # npm's own `npm_config_registry` is accepted too. Left empty, evaluating the package throws
      # a message saying this; everything else (devShell, module, formatter) still evaluates.
      npmRegistry =
        let
          fromEnv = builtins.getEnv "NPM_REGISTRY";
        in
        if fromEnv != "" then fromEnv else builtins.getEnv "npm_config_registry";

      orchestratorFor = pkgs: pkgs.callPackage ./nix/package.nix { inherit npmRegistry; };
    in
    {
      packages = forAllSystems (pkgs: rec {
        orchestrator-ts = orchestratorFor pkgs;
        default = orchestrator-ts;
      });

      overlays.default = final: _prev: { orchestrator-ts = orchestratorFor final; };

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.orchestrator.package =
            lib.mkDefault
              self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = with pkgs; [
            nodejs_20
            mariadb
            sqlite
            python3 # node-gyp (better-sqlite3)
            nftables # fault injection (nft drop/reject) in tests
          ];
        };
      });

      checks = forAllSystems (pkgs: {
        # The build plus the vitest suites (doCheck is off in the package itself).
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.default.overrideAttrs { doCheck = true; };
        vm = import ./nix/vm-test.nix {
          inherit pkgs;
          module = self.nixosModules.default;
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);
    };
}
