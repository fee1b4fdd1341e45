# NixOS module: services.orchestrator, one orchestrator-ts node (usually one of a 3- or 5-node
# raft cluster). The flake's `nixosModules.default` imports this file and sets `package`.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  cfg = config.services.orchestrator;

  inherit (lib)
    literalExpression
    literalMD
    mkDefault
    mkEnableOption
    mkIf
    mkOption
    optional
    optionalAttrs
    types
    ;

  format = pkgs.formats.json { };

  stateDir = "/var/lib/orchestrator";
  # systemd exposes LoadCredential= files here (also as $CREDENTIALS_DIRECTORY) to this unit only.
  credentialsDir = "/run/credentials/orchestrator.service";

  # name in $CREDENTIALS_DIRECTORY -> file on the host (read by systemd as root, before the
  # service's own user exists).
  credentials = lib.filterAttrs (_: file: file != null) {
    mysql-password = cfg.mysqlPasswordFile;
    topology-password = cfg.topologyPasswordFile;
    raft-secret = cfg.raftSecretFile;
  };

  # RaftNodes entries without a port get DefaultRaftPort appended (orchestrator-compat 1.6).
  withRaftPort =
    node: if builtins.match ".*:[0-9]+" node != null then node else "${node}:${toString cfg.raftPort}";

  configFile = format.generate "orchestrator.conf.json" cfg.settings;

  # The two passwords are rendered into the config as "${ENV_VAR}", which the service expands from
  # its environment; the values come from the credential files, so they never enter the store.
  passwordEnv = lib.filter (e: e.file != null) [
    {
      var = "ORCHESTRATOR_MYSQL_PASSWORD";
      credential = "mysql-password";
      file = cfg.mysqlPasswordFile;
    }
    {
      var = "ORCHESTRATOR_TOPOLOGY_PASSWORD";
      credential = "topology-password";
      file = cfg.topologyPasswordFile;
    }
  ];

  startScript = pkgs.writeShellScript "orchestrator-start" (
    ''
      set -euo pipefail
    ''
    + lib.concatMapStrings (e: ''
      ${e.var}="$(< "$CREDENTIALS_DIRECTORY/${e.credential}")"
      export ${e.var}
    '') passwordEnv
    + ''
      exec ${
        lib.escapeShellArgs (
          [
            (lib.getExe cfg.package)
            "--config"
            "${configFile}"
          ]
          ++ cfg.extraFlags
          ++ [ "http" ]
        )
      }
    ''
  );

  secretSettingKeys = [
    "MySQLOrchestratorPassword"
    "MySQLTopologyPassword"
  ];
in
{
  options.services.orchestrator = {
    enable = mkEnableOption "orchestrator-ts, the MySQL/MariaDB high-availability and topology manager";

    package = mkOption {
      type = types.package;
      defaultText = literalMD "the flake's `packages.<system>.default`";
      description = "The orchestrator-ts package to run (its `orchestrator` executable).";
    };

    listenAddress = mkOption {
      type = types.str;
      default = "";
      example = "10.0.0.1";
      description = ''
        Address the HTTP API listens on; empty means all addresses. Rendered into `ListenAddress`
        as `<listenAddress>:<httpPort>` (an IPv6 address needs brackets: `[::1]`).
      '';
    };

    httpPort = mkOption {
      type = types.port;
      default = 3000;
      description = "Port of the HTTP API (`ListenAddress`).";
    };

    enableRaft = mkOption {
      type = types.bool;
      default = true;
      description = "Whether this node is part of a raft cluster (`RaftEnabled`).";
    };

    raftPort = mkOption {
      type = types.port;
      default = 10008;
      description = ''
        Raft transport port (`DefaultRaftPort`): used by the defaults of {option}`raftBind` and
        {option}`raftAdvertise`, appended to {option}`raftNodes` entries without a port, and opened
        by {option}`openFirewall`.
      '';
    };

    raftBind = mkOption {
      type = types.str;
      default = "0.0.0.0:${toString cfg.raftPort}";
      defaultText = literalExpression ''"0.0.0.0:''${toString config.services.orchestrator.raftPort}"'';
      description = "`host:port` the raft transport listens on (`RaftBind`).";
    };

    raftAdvertise = mkOption {
      type = types.str;
      default = "${config.networking.fqdnOrHostName}:${toString cfg.raftPort}";
      defaultText = literalExpression ''"''${config.networking.fqdnOrHostName}:''${toString config.services.orchestrator.raftPort}"'';
      example = "orc1.example.org:10008";
      description = ''
        `host:port` the other nodes reach this one at (`RaftAdvertise`). It must be this node's
        entry in {option}`raftNodes`, spelled the same way.
      '';
    };

    raftNodes = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "orc1.example.org:10008"
        "orc2.example.org:10008"
        "orc3.example.org:10008"
      ];
      description = ''
        The static raft membership, this node included (`RaftNodes`); the same list on every node.
      '';
    };

    raftDataDir = mkOption {
      type = types.str;
      default = "${stateDir}/raft";
      description = ''
        Raft log, stable store and snapshots (`RaftDataDir`). The service can only write under
        `${stateDir}` (`ProtectSystem = "strict"`); elsewhere, add the directory to
        `systemd.services.orchestrator.serviceConfig.ReadWritePaths`.
      '';
    };

    backend = mkOption {
      type = types.enum [
        "sqlite"
        "mysql"
      ];
      default = "sqlite";
      description = ''
        Backend database (`BackendDB`). For `mysql`, set `MySQLOrchestratorHost`, `…Port`,
        `…Database` and `…User` in {option}`settings` and the password with
        {option}`mysqlPasswordFile`.
      '';
    };

    sqliteDataFile = mkOption {
      type = types.str;
      default = "${stateDir}/orchestrator.sqlite3";
      description = "SQLite backend file (`SQLite3DataFile`), used when {option}`backend` is `sqlite`.";
    };

    mysqlPasswordFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/orchestrator-backend-password";
      description = ''
        File holding the backend MySQL password (`MySQLOrchestratorPassword`). Read by systemd
        (`LoadCredential`) and passed to the service through its environment; it never enters the
        Nix store. A string, not a Nix path: a path literal would be copied into the store.
      '';
    };

    topologyPasswordFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/orchestrator-topology-password";
      description = ''
        File holding the password orchestrator uses on the managed MySQL servers
        (`MySQLTopologyPassword`; the user is `settings.MySQLTopologyUser`). Handled like
        {option}`mysqlPasswordFile`.
      '';
    };

    raftSecretFile = mkOption {
      type = types.nullOr types.str;
      default = null;
      example = "/run/secrets/orchestrator-raft-secret";
      description = ''
        File holding the shared secret that authenticates the raft transport; the same on every
        node. Loaded with `LoadCredential` and rendered as `RaftAuthSecretFile =
        "${credentialsDir}/raft-secret"`.
      '';
    };

    extraFlags = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--debug" ];
      description = "Global command-line flags, placed between `--config …` and the `http` command.";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open {option}`httpPort` and (with raft) {option}`raftPort` in the firewall.";
    };

    settings = mkOption {
      type = types.submodule { freeformType = format.type; };
      default = { };
      example = literalExpression ''
        {
          InstancePollSeconds = 5;
          DiscoverySeeds = [ "db1.example.org:3306" ];
          MySQLTopologyUser = "orchestrator";
          RecoverMasterClusterFilters = [ "*" ];
        }
      '';
      description = ''
        orchestrator configuration, rendered as JSON and passed with `--config`. Keys and defaults
        are openark/orchestrator's. The typed options above set their keys with `mkDefault`, so a
        value here wins. Secrets do not belong here (this file is in the world-readable Nix
        store): use the `*File` options.
      '';
    };
  };

  config = mkIf cfg.enable {
    services.orchestrator.settings = lib.mapAttrs (_: mkDefault) (
      {
        ListenAddress = "${cfg.listenAddress}:${toString cfg.httpPort}";
        BackendDB = cfg.backend;
        RaftEnabled = cfg.enableRaft;
      }
      // optionalAttrs (cfg.backend == "sqlite") { SQLite3DataFile = cfg.sqliteDataFile; }
      // optionalAttrs cfg.enableRaft {
        RaftDataDir = cfg.raftDataDir;
        RaftBind = cfg.raftBind;
        RaftAdvertise = cfg.raftAdvertise;
        DefaultRaftPort = cfg.raftPort;
        RaftNodes = cfg.raftNodes;
      }
    )
    # Normal priority on purpose: a conflicting plain-text value in `settings` is an error rather
    # than silently winning over the credential.
    // optionalAttrs (cfg.mysqlPasswordFile != null) {
      MySQLOrchestratorPassword = "\${ORCHESTRATOR_MYSQL_PASSWORD}";
    }
    // optionalAttrs (cfg.topologyPasswordFile != null) {
      MySQLTopologyPassword = "\${ORCHESTRATOR_TOPOLOGY_PASSWORD}";
    }
    // optionalAttrs (cfg.raftSecretFile != null) {
      RaftAuthSecretFile = "${credentialsDir}/raft-secret";
    };

    assertions = [
      {
        assertion = cfg.enableRaft -> cfg.raftNodes != [ ];
        message = "services.orchestrator.raftNodes must list the cluster's nodes (this one included) when enableRaft is set.";
      }
    ];

    warnings =
      optional (
        cfg.enableRaft
        && cfg.raftNodes != [ ]
        && !(lib.elem (withRaftPort cfg.raftAdvertise) (map withRaftPort cfg.raftNodes))
      ) "services.orchestrator.raftAdvertise (${cfg.raftAdvertise}) is not one of raftNodes; the node will not recognise itself in the cluster."
      ++ optional (cfg.enableRaft && lib.length cfg.raftNodes > 1 && cfg.raftSecretFile == null)
        "services.orchestrator.raftSecretFile is not set: the raft transport between nodes is not authenticated."
      ++ map (key: "services.orchestrator.settings.${key} holds a literal password, which ends up in the world-readable Nix store; use the matching *PasswordFile option.") (
        lib.filter (
          key:
          cfg.settings ? ${key}
          && !(lib.isString cfg.settings.${key} && builtins.match "\\$\\{[A-Za-z_][A-Za-z0-9_]*}" cfg.settings.${key} != null)
        ) secretSettingKeys
      );

    networking.firewall.allowedTCPPorts = mkIf cfg.openFirewall (
      [ cfg.httpPort ] ++ optional cfg.enableRaft cfg.raftPort
    );

    systemd.services.orchestrator = {
      description = "orchestrator-ts MySQL high-availability manager";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [
        "network-online.target"
      ] ++ optional (cfg.backend == "mysql" && config.services.mysql.enable) "mysql.service";

      # Recovery hooks run through `ProcessesShellCommand` (default "bash").
      path = [ pkgs.bash ];
      # A larger young generation: probing allocates many short-lived objects; at 10,000 instances this took
      # the polling cost from ~690 to ~530 us per probe (docs/discovery.md "Large fleets").
      environment.NODE_OPTIONS = "--max-semi-space-size=64";

      serviceConfig = {
        ExecStart = startScript;
        LoadCredential = lib.mapAttrsToList (name: file: "${name}:${file}") credentials;

        DynamicUser = true;
        StateDirectory = "orchestrator";
        StateDirectoryMode = "0700";
        WorkingDirectory = stateDir;
        UMask = "0077";

        Restart = "on-failure";
        RestartSec = 5;
        # The service drains and exits within 5 s of SIGTERM.
        KillSignal = "SIGTERM";
        TimeoutStopSec = 20;

        # Hardening. No MemoryDenyWriteExecute: V8's JIT needs writable+executable pages.
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectHostname = true;
        ProtectClock = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectProc = "invisible";
        RestrictAddressFamilies = [
          "AF_INET"
          "AF_INET6"
          "AF_UNIX"
          "AF_NETLINK"
        ];
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        RemoveIPC = true;
        DevicePolicy = "closed";
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
      };
    };
  };
}
