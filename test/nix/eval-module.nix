# Evaluates nix/module.nix with nixpkgs' `lib` alone: the NixOS options the module writes to
# (systemd.services, networking.firewall, assertions, …) and the few `pkgs` functions it calls are
# stubbed, so no nixpkgs checkout, store or network is needed. Used by nix-parse.test.ts when
# NIXPKGS_LIB points at a nixpkgs `lib` directory.
#
#   nix-instantiate --eval --strict --json test/nix/eval-module.nix --arg lib 'import /path/to/nixpkgs/lib'
{
  lib,
  # Extra module(s) with the node's configuration.
  node ? { },
}:

let
  inherit (lib) mkOption types;

  # pkgs.formats.json's type, as in nixpkgs' pkgs/pkgs-lib/formats.nix.
  jsonValue =
    with types;
    let
      valueType =
        nullOr (oneOf [
          bool
          int
          float
          str
          path
          (attrsOf valueType)
          (listOf valueType)
        ])
        // {
          description = "JSON value";
        };
    in
    valueType;

  # Stand-ins for derivations: an outPath to interpolate, plus what they would contain.
  pkgs = {
    formats.json =
      { }:
      {
        type = jsonValue;
        generate = name: value: {
          outPath = "/nix/store/00000000000000000000000000000000-${name}";
          json = value;
        };
      };
    writeShellScript = name: text: {
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
      inherit text;
    };
    bash = {
      type = "derivation";
      name = "bash";
      outPath = "/nix/store/00000000000000000000000000000000-bash";
    };
  };

  package = {
    type = "derivation";
    name = "orchestrator-ts-0.1.0";
    outPath = "/nix/store/00000000000000000000000000000000-orchestrator-ts-0.1.0";
    meta.mainProgram = "orchestrator";
  };

  nixosStubs = {
    options = {
      assertions = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
      warnings = mkOption {
        type = types.listOf types.str;
        default = [ ];
      };
      networking.hostName = mkOption {
        type = types.str;
        default = "nixos";
      };
      networking.fqdnOrHostName = mkOption {
        type = types.str;
        default = "nixos";
      };
      networking.firewall.allowedTCPPorts = mkOption {
        type = types.listOf types.port;
        default = [ ];
      };
      services.mysql.enable = mkOption {
        type = types.bool;
        default = false;
      };
      systemd.services = mkOption {
        type = types.attrsOf (types.attrsOf types.anything);
        default = { };
      };
    };
  };

  eval = lib.evalModules {
    specialArgs = { inherit pkgs; };
    modules = [
      nixosStubs
      ../../nix/module.nix
      { services.orchestrator.package = package; }
      node
    ];
  };

  inherit (eval) config;
  unit = config.systemd.services.orchestrator or null;
in
{
  settings = config.services.orchestrator.settings;
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  inherit (config) warnings;
  firewallPorts = config.networking.firewall.allowedTCPPorts;
  unit =
    if unit == null then
      null
    else
      unit
      // {
        serviceConfig = unit.serviceConfig // {
          ExecStart = unit.serviceConfig.ExecStart.text;
        };
        path = map toString unit.path;
      };
}
