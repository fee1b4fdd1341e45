# Evaluates flake.nix's outputs against nixpkgs' `lib` and a stubbed `legacyPackages` in which
# builders return their arguments: checks what the flake passes to buildNpmPackage, importNpmLock,
# mkShell and runNixOSTest without a nixpkgs checkout, store or network. Used by
# nix-parse.test.ts when NIXPKGS_LIB points at a nixpkgs `lib` directory. The flake reads the
# registry from the environment:
#
#   NPM_REGISTRY=https://registry.invalid nix-instantiate --eval --strict --json test/nix/eval-flake.nix --arg lib 'import /path/to/nixpkgs/lib'
{
  lib,
  system ? "x86_64-linux",
}:

let
  stubDrv = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };

  pkgsFor =
    system:
    let
      self = {
        inherit lib;
        stdenv.hostPlatform.system = system;
        nodejs_20 = stubDrv "nodejs-20";
        python3 = stubDrv "python3";
        mariadb = stubDrv "mariadb";
        sqlite = stubDrv "sqlite";
        nftables = stubDrv "nftables";
        nixfmt-rfc-style = stubDrv "nixfmt";
        buildNpmPackage =
          args:
          args
          // {
            overrideAttrs = over: args // over;
          };
        importNpmLock = {
          __functor = _: args: { importNpmLockArgs = args; };
          npmConfigHook.override = args: { npmConfigHookNodejs = args.nodejs.name; };
        };
        mkShell = args: args;
        testers.runNixOSTest = test: test;
        callPackage = f: args: import f (builtins.intersectAttrs (builtins.functionArgs (import f)) self // args);
      };
    in
    self;

  flake = import ../../flake.nix;
  outputs = flake.outputs {
    self = outputs;
    nixpkgs = {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] pkgsFor;
    };
  };

  pkg = outputs.packages.${system}.default;
  lock = pkg.npmDeps.importNpmLockArgs.packageLock;
  root = toString ../..;
in
{
  systems = builtins.attrNames outputs.packages;
  package = {
    inherit (pkg)
      pname
      version
      npmBuildScript
      npmPackFlags
      doCheck
      ;
    nodejs = pkg.nodejs.name;
    npmConfigHookNodejs = pkg.npmConfigHook.npmConfigHookNodejs;
    nativeBuildInputs = map (d: d.name) pkg.nativeBuildInputs;
    mainProgram = pkg.meta.mainProgram;
    lockEntries = builtins.length (builtins.attrNames lock.packages) - 1;
    resolvedEntries = builtins.length (
      lib.filter (e: e ? resolved) (lib.attrValues (removeAttrs lock.packages [ "" ]))
    );
    firstResolved = lock.packages."node_modules/effect".resolved or null;
    # What the source filter keeps.
    srcKeeps = lib.genAttrs [ "package.json" "package-lock.json" "tsconfig.build.json" "node_modules" "dist" "nix" "flake.nix" "result" ] (
      rel: pkg.src.filter "${root}/${rel}" (if lib.hasSuffix ".json" rel || rel == "flake.nix" || rel == "result" then "regular" else "directory")
    );
  };
  checkDoCheck = outputs.checks.${system}.package.doCheck;
  vmTestName = outputs.checks.${system}.vm.name;
  vmTestNodes = builtins.attrNames outputs.checks.${system}.vm.nodes;
  devShellPackages = map (d: d.name) outputs.devShells.${system}.default.packages;
  formatter = outputs.formatter.${system}.name;
  hasModule = builtins.isFunction outputs.nixosModules.default;
  overlay = builtins.isFunction outputs.overlays.default;
}
