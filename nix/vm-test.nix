# Three orchestrator-ts nodes form a raft cluster; exactly one of them must answer
# /api/leader-check with 200 (the others 404, orchestrator-compat 1.7). Then the leader is stopped
# (SIGTERM, which must end the service cleanly), the two survivors must elect a new leader, and the
# old one must rejoin as a follower.
#
# Run with `nix build --impure .#checks.x86_64-linux.vm` (needs KVM; NPM_REGISTRY, see docs/nix.md).
{
  pkgs,
  # The flake's nixosModules.default (it sets services.orchestrator.package).
  module,
}:

pkgs.testers.runNixOSTest {
  name = "orchestrator-raft";

  defaults =
    { pkgs, ... }:
    {
      imports = [ module ];

      services.orchestrator = {
        enable = true;
        # Node names resolve through the /etc/hosts the test driver writes.
        raftNodes = [
          "orc1:10008"
          "orc2:10008"
          "orc3:10008"
        ];
        # raftAdvertise defaults to "<hostName>:10008", i.e. this node's entry above.
        openFirewall = true;
        # A test-only secret; a real deployment points this at a file outside the store.
        raftSecretFile = "/etc/orchestrator-test/raft-secret";
        settings.InstancePollSeconds = 5;
      };

      environment.etc."orchestrator-test/raft-secret" = {
        text = "vm-test-raft-secret";
        mode = "0400";
      };

      environment.systemPackages = [ pkgs.curl ];
      virtualisation.memorySize = 1024;
    };

  nodes = {
    orc1 = { };
    orc2 = { };
    orc3 = { };
  };

  testScript = ''
    nodes = [orc1, orc2, orc3]


    def leader_check(machine):
        """HTTP status of /api/leader-check on machine ("000" if nothing answers)."""
        status, out = machine.execute(
            "curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:3000/api/leader-check"
        )
        return out.strip()


    def sole_leader(machines):
        """Waits until exactly one of machines answers 200 and the rest 404; returns that one."""
        found = []

        def check(last_try):
            codes = {m.name: leader_check(m) for m in machines}
            if last_try:
                machines[0].log(f"leader-check: {codes}")
            leaders = [m for m in machines if codes[m.name] == "200"]
            others_ok = all(codes[m.name] == "404" for m in machines if m not in leaders)
            found[:] = leaders
            return len(leaders) == 1 and others_ok

        retry(check, timeout=180)
        return found[0]


    start_all()

    with subtest("every node starts and serves HTTP"):
        for m in nodes:
            m.wait_for_unit("orchestrator.service")
            m.wait_for_open_port(3000)
            m.wait_for_open_port(10008)

    with subtest("secrets come from the credentials directory, not the store"):
        config = orc1.succeed(
            "tr '\\0' '\\n' < /proc/$(systemctl show -P MainPID orchestrator.service)/cmdline"
            " | grep -x '/nix/store/.*-orchestrator.conf.json'"
        ).strip()
        orc1.succeed(f"grep -qF /run/credentials/orchestrator.service/raft-secret {config}")
        orc1.fail(f"grep -qF vm-test-raft-secret {config}")

    with subtest("exactly one node is the raft leader"):
        leader = sole_leader(nodes)
        # Still exactly one a little later: no flapping between terms.
        orc1.sleep(5)
        assert sole_leader(nodes) == leader

    with subtest("the nodes reach each other through the opened firewall"):
        for m in nodes:
            for peer in nodes:
                if peer is not m:
                    m.succeed(f"curl -s -o /dev/null --max-time 5 http://{peer.name}:3000/api/leader-check")

    with subtest("stopping the leader with SIGTERM is clean and a new leader is elected"):
        leader.succeed("systemctl stop orchestrator.service")
        leader.succeed("systemctl show -p Result --value orchestrator.service | grep -qx success")
        survivors = [m for m in nodes if m is not leader]
        new_leader = sole_leader(survivors)
        assert new_leader is not leader

    with subtest("the old leader rejoins as a follower"):
        leader.succeed("systemctl start orchestrator.service")
        leader.wait_for_open_port(3000)
        assert sole_leader(nodes) == new_leader
  '';
}
