@thick @extended:thick
Feature: Thick plugin: pods while the Multus daemon on their node is down
  In thick mode the CNI binary the runtime runs (multus-shim) does no work itself: it hands every call
  over a unix socket to the Multus daemon running on the node, which attaches the networks (upstream
  docs/thick-plugin.md, https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/thick-plugin.md).
  When that daemon is down (its pod restarting, an upgrade, a crash) nothing can be attached or released,
  so every call must fail in a way that makes the runtime come back later, and once the daemon is back
  the node ends up exactly as if it had never been away.

  Conformance @extended:thick (claimed by thick builds): CNI spec 1.1.0 §Error codes: code 11 is "Try
  again later. If the plugin detects some transient condition that should clear up, it can use this code
  to notify the runtime it should re-try the operation later"; §Lifecycle & Ordering: "add is eventually
  followed by a corresponding delete"; §DEL: a plugin should complete a DEL "without error even if some
  resources are missing", which a shim that cannot reach the daemon does not know: nothing was released.
  A kubelet (via containerd) keeps a pod whose sandbox DEL failed and retries the DEL until it succeeds.

  Scenario: A pod created while the daemon is down is refused with "try again", and cleans up once it is back
    CNI spec 1.1.0 §Error codes (11, "Try again later") and §Lifecycle & Ordering ("A delete must still
    be executed even if the add fails").
    Given a bridge network "data-net" with subnet 198.18.80.0/24
    And the Multus daemon on node-1 is stopped
    When pod "a" is created on node-1 attached to "data-net"
    Then pod "a" does not start, and the reason given says to try again (CNI error code 11)
    When the Multus daemon on node-1 is started again
    Then deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: A pod deleted while the daemon is down is released once the daemon is back
    CNI spec 1.1.0 §DEL and §Lifecycle & Ordering ("add is eventually followed by a corresponding
    delete"): a DEL the daemon never received must fail, so the runtime keeps the pod and repeats the DEL.
    Given a bridge network "data-net" with subnet 198.18.81.0/24
    And pod "a" starts on node-1 attached to "data-net"
    When the Multus daemon on node-1 is stopped
    And the deletion of pod "a" is requested
    Then the runtime's DEL for pod "a" fails, and the pod stays, still attached to net1
    When the Multus daemon on node-1 is started again
    Then deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
