# Fill in the `resolved` URL of every package-lock.json entry that lacks one.
#
# The committed lockfile is written with `omit-lockfile-registry-resolved=true`, so its entries
# carry `version` and `integrity` but no `resolved`. Both of nixpkgs' npm fetchers skip such
# entries (`prefetch-npm-deps` filters them out, `importNpmLock` fetches nothing for them), and the
# sandboxed `npm install` then fails with ENOTCACHED. This function rebuilds the URL npm would have
# recorded, `<registry>/<name>/-/<basename>-<version>.tgz`; the tarball is still verified against
# the lockfile's `integrity`, so the registry only has to serve the same bytes.
#
# Builtins only (no nixpkgs), so it can be evaluated offline:
#   nix-instantiate --eval --strict --json nix/add-resolved.nix \
#     --arg lock 'builtins.fromJSON (builtins.readFile ./package-lock.json)' \
#     --argstr registry https://registry.invalid
#
# The registry base URL is an argument on purpose: the repository names no registry host.
{
  # The parsed package-lock.json (lockfileVersion 2 or 3, i.e. with a `packages` attrset).
  lock,
  # Base URL of the npm registry, e.g. the value of `npm config get registry`. A trailing slash
  # is ignored.
  registry,
}:

let
  inherit (builtins)
    head
    mapAttrs
    match
    throw
    ;

  base =
    let
      m = match "(.*[^/])/*" registry;
    in
    if registry == "" || m == null then
      throw "add-resolved.nix: `registry` is empty; pass the npm registry base URL (see docs/nix.md)"
    else
      head m;

  # The package name an entry was installed under: the part of its path after the last
  # `node_modules/` (`node_modules/a/node_modules/@s/b` -> `@s/b`). An npm alias
  # (`"x": "npm:y@1"`) records the real name in `name`, and the tarball is the real package's.
  # Workspace folders have no `node_modules/` in their path and give null.
  nameOf =
    path: entry:
    let
      m = match ".*node_modules/(.+)" path;
    in
    if entry ? name && path != "" then
      entry.name
    else if m == null then
      null
    else
      head m;

  # `@scope/pkg` -> `pkg`; the tarball of a scoped package is `@scope/pkg/-/pkg-1.0.0.tgz`.
  basenameOf =
    name:
    let
      m = match "@[^/]+/(.+)" name;
    in
    if m == null then name else head m;

  addOne =
    path: entry:
    let
      name = nameOf path entry;
      skip =
        path == "" # the root project
        || entry.link or false # a symlink to a workspace folder, nothing to fetch
        || entry.inBundle or false # shipped inside its parent's tarball
        || entry ? resolved # already has a source (registry, git, file:)
        || name == null
        || !(entry ? version);
    in
    if skip then
      entry
    else
      entry // { resolved = "${base}/${name}/-/${basenameOf name}-${entry.version}.tgz"; };
in
if !(lock ? packages) then
  throw "add-resolved.nix: the lockfile has no `packages` (lockfileVersion 1?); regenerate it with npm >= 7"
else
  lock // { packages = mapAttrs addOne lock.packages; }
