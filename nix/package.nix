# orchestrator-ts, built from the committed package-lock.json.
#
# Use through the flake (`nix build .#default`, see docs/nix.md) or with
# `pkgs.callPackage ./nix/package.nix { npmRegistry = "https://…"; }`.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_20,
  python3,
  mariadb,
  sqlite,

  # Base URL of the npm registry the lockfile's tarballs are fetched from. The lockfile records no
  # `resolved` URLs and the repository names no registry host, so it has to come from outside:
  # the flake reads it from $NPM_REGISTRY (with --impure); callers can `.override` it.
  npmRegistry ? "",
}:

let
  packageJSON = lib.importJSON ../package.json;

  # Everything git would track, minus what the build regenerates and the packaging itself (so
  # editing a .nix file does not rebuild the package).
  src = lib.cleanSourceWith {
    name = "orchestrator-ts-source";
    src = lib.cleanSource ../.;
    filter =
      path: type:
      let
        rel = lib.removePrefix (toString ../. + "/") (toString path);
      in
      !(
        lib.elem rel [
          "node_modules"
          "dist"
          "nix"
          "flake.nix"
          "flake.lock"
          ".direnv"
        ]
        || lib.hasPrefix "result" rel
      );
  };

  packageLock =
    if npmRegistry == "" then
      throw ''
        orchestrator-ts: no npm registry given. package-lock.json has no `resolved` URLs, so the
        registry base URL must be supplied at evaluation time, e.g.
          NPM_REGISTRY="$(npm config get registry)" nix build --impure .#default
        or, from Nix, `packages.<system>.default.override { npmRegistry = "https://…"; }`.
        See docs/nix.md.
      ''
    else
      import ./add-resolved.nix {
        lock = lib.importJSON ../package-lock.json;
        registry = npmRegistry;
      };
in
buildNpmPackage {
  pname = packageJSON.name;
  inherit (packageJSON) version;
  inherit src;

  nodejs = nodejs_20;

  # One fetchurl per lockfile entry, each checked against its `integrity`: no npmDepsHash to keep
  # in step with the lockfile.
  npmDeps = importNpmLock {
    package = packageJSON;
    inherit packageLock;
  };
  # The hook compiles native modules against the headers of the nodejs it was built with
  # (`npm_config_nodedir`); the default is nixpkgs' `nodejs`, whose ABI differs from node 20's,
  # and better-sqlite3 would then fail to load at run time.
  npmConfigHook = importNpmLock.npmConfigHook.override { nodejs = nodejs_20; };

  # node-gyp builds better-sqlite3 from source: there is no prebuilt download in the sandbox.
  nativeBuildInputs = [ python3 ];

  npmBuildScript = "build";

  # `npm pack --dry-run` (which npmInstallHook uses to list the files to install) would otherwise
  # run the `prepare` script, i.e. tsc a second time.
  npmPackFlags = [ "--ignore-scripts" ];

  # package.json has no "files" list, so `npm pack` falls back to .gitignore, which lists dist/:
  # the compiled output would not be installed. A .npmignore, written only inside the build tree,
  # takes precedence over .gitignore.
  preInstall = ''
    cat > .npmignore <<'NPMIGNORE'
    /test/
    /bench/
    /docs/
    *.tsbuildinfo
    /tsconfig*.json
    /vitest.config.ts
    NPMIGNORE
  '';

  # The unit and integration suites (some start mariadbd) run in `checks.<system>.package`
  # (`nix flake check`), not on every `nix build`. test/nix needs nix-instantiate and is excluded.
  doCheck = false;
  nativeCheckInputs = [
    mariadb
    sqlite
  ];
  checkPhase = ''
    runHook preCheck
    node_modules/.bin/vitest run --exclude 'test/nix/**'
    runHook postCheck
  '';

  passthru = {
    inherit npmRegistry;
  };

  meta = {
    description = packageJSON.description;
    license = lib.licenses.asl20;
    mainProgram = "orchestrator";
    platforms = lib.platforms.linux;
  };
}
