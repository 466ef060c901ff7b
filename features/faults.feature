@faults
Feature: Faults: the API server away, a used-up address range, a damaged cache, a node restart
  What breaks multi-network clusters in production are faults, not bad requests: the API server out of
  reach while pods come and go, an address range used up, a cache file damaged, a node that reboots. In
  each, a pod either gets all its networks or none, and whatever it was given is released in the end.

  Conformance: tearing down every attachment of a failed pod is @core (multi-network spec v1.3 §7.2).
  Surviving infrastructure faults is the optional capability @extended:fault-recovery: CNI spec 1.1.0
  §DEL says a plugin "should generally complete a DEL action without error even if some resources are
  missing", e.g. "an IPAM plugin should generally release an IP allocation and return success even if
  the container network namespace no longer exists"; a Multus plugin keeps the delegates it attached to
  a container in its data directory (`cniDir`) and reads them back on DEL, so DEL needs neither the pod
  nor the API server. A damaged cache and naming the cause are what this suite asks beyond the specs
  (@quality).

  @extended:fault-recovery @fault-injection
  Scenario: The API server is down when the runtime tears a pod's networks down
    Given a bridge network "red-net" with subnet 198.18.100.0/24
    And a bridge network "blue-net" with subnet 198.18.101.0/24
    And pod "a" starts on node-1 attached to "red-net, blue-net"
    When the API server is stopped
    And the runtime on node-1 tears down the sandbox of pod "a"
    Then that teardown succeeded and released every address pod "a" held
    When the API server is started again
    Then deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @core
  Scenario: A network has no address left: the pod does not start and its earlier attachment is rolled back
    Multi-network spec v1.3 §7.2: a failed attachment "shall immediately fail the pod network setup
    operation", and "all network attachments that were attempted during pod network setup must be torn
    down"; here the second network's IPAM (host-local) has no free address.
    Given a bridge network "roomy-net" with subnet 198.18.102.0/24
    And a bridge network "full-net" with subnet 198.18.103.0/24 that gives out only 198.18.103.10
    And pod "a" starts on node-1 attached to "full-net"
    When pod "b" is created on node-1 attached to "roomy-net, full-net"
    Then pod "b" does not start
    And nothing pod "b" was given is left on its node
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: A network has no address left: the reason names the network
    Given a bridge network "roomy-net" with subnet 198.18.104.0/24
    And a bridge network "full-net" with subnet 198.18.105.0/24 that gives out only 198.18.105.10
    And pod "a" starts on node-1 attached to "full-net"
    When pod "b" is created on node-1 attached to "roomy-net, full-net"
    Then pod "b" does not start, and the reason given names "full-net"
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: The plugin's cache file of a pod is cut off: deleting the pod still releases everything
    Given a bridge network "red-net" with subnet 198.18.106.0/24
    And pod "a" starts on node-1 attached to "red-net"
    When the plugin's cache file for pod "a" is cut off half-way
    Then deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality @fault-injection
  Scenario: The plugin's cache file of a pod is cut off: the plugin's log names the file
    Given a bridge network "red-net" with subnet 198.18.107.0/24
    And pod "a" starts on node-1 attached to "red-net"
    When the plugin's cache file for pod "a" is cut off half-way
    And the runtime on node-1 tears down the sandbox of pod "a"
    Then the plugin's log for pod "a" names its unreadable cache file
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @extended:fault-recovery @fault-injection
  Scenario: A node restarts: the sandboxes from before are deleted without their network namespaces
    Given a bridge network "red-net" with subnet 198.18.108.0/24
    And a bridge network "blue-net" with subnet 198.18.109.0/24
    And pod "a" starts on node-1 attached to "red-net, blue-net"
    When node-1 restarts
    Then the runtime's DEL of the sandbox pod "a" had before the restart succeeded and released its addresses
    And pod "a" runs again on node-1 with interfaces net1 and net2
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality @plugin-removal
  Scenario: The plugin is uninstalled but its configuration stays: pods fail naming the missing plugin, with nothing half-made
    What happens is the runtime's doing (libcni runs the first configuration in /etc/cni/net.d and finds
    no binary of its type), so any build passes; it states what a stale configuration does to new pods.
    Given a bridge network "red-net" with subnet 198.18.110.0/24
    And the plugin's binary is removed from node-1, its configuration left in /etc/cni/net.d
    When pod "b" is created on node-1 attached to "red-net"
    Then pod "b" does not start, and the reason given names the missing plugin
    And nothing pod "b" was given is left on its node
    When the plugin's binary is put back on node-1
    Then deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind

  @extended:fault-recovery @fault-injection @unfinished-add
  Scenario: A delegate hangs on ADD: the runtime's timeout ends the call, and its DEL releases every network
    A runtime bounds every CNI call (kubelet: --runtime-request-timeout, 2 minutes by default) and kills
    the plugin when the time is up. The pod's sandbox fails, and the DEL that follows must release what
    the networks before the hanging one were given and what the hanging one took (CNI spec 1.1.0 §DEL:
    a plugin "should generally complete a DEL action without error even if some resources are missing").
    Nothing of the abandoned call may keep running.
    Given the runtime gives up on a CNI call after 10 seconds
    And a macvlan network "fast-net" on master eth1 with subnet 198.18.130.0/24
    And a network "stuck-net" whose plugin takes an address from 198.18.131.0/24 and then hangs on ADD
    When pod "b" is created on node-1 attached to "fast-net, stuck-net"
    Then pod "b" does not start, and the reason given says the CNI call timed out
    And no process started for pod "b"'s CNI calls is still running
    And nothing pod "b" was given is left on its node
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind

  @extended:fault-recovery @fault-injection @unfinished-add
  Scenario: The plugin is killed (SIGKILL) mid-ADD after a delegate ran: the DEL releases every network
    Whatever kills it (the OOM killer, a node under pressure), a plugin killed with SIGKILL gets no chance
    to roll back what its delegates did. The runtime then tears the sandbox down, and that DEL must
    release the first network's interface and address and what the second had taken when it was
    interrupted. In thick mode the process killed is the shim, the one binary the runtime executes.
    Given a macvlan network "fast-net" on master eth1 with subnet 198.18.132.0/24
    And a network "stuck-net" whose plugin takes an address from 198.18.133.0/24 and then hangs on ADD
    When pod "b" is created on node-1 attached to "fast-net, stuck-net"
    And the plugin process of pod "b" is killed with SIGKILL while its "stuck-net" delegate hangs
    Then pod "b" does not start
    And no process started for pod "b"'s CNI calls is still running
    And nothing pod "b" was given is left on its node
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind

  @extended:fault-recovery @fault-injection @pod-recovery
  Scenario: The API server is stopped during ADD: the pod gets nothing, and starts once the API server is back
    The plugin cannot read the pod and its networks, so the ADD fails and what it began is torn down
    (multi-network spec v1.3 §7.2); kubelet keeps creating a failed sandbox anew, and once the API
    server serves again the pod gets its networks.
    Given the node agents retry failed sandboxes every 2 seconds, as kubelet does
    And a bridge network "red-net" with subnet 198.18.111.0/24
    And the runtime on node-1 holds each new sandbox just before its CNI ADD
    When pod "b" is created on node-1 attached to "red-net"
    And the runtime on node-1 holds the sandbox of pod "b"
    And the API server is stopped
    And the runtime on node-1 goes on with the sandboxes it holds
    Then the ADD of pod "b" failed
    And nothing pod "b" was given is left on its node
    When the API server is started again
    Then pod "b" is running
    And pod "b" has interface net1 with an IP in 198.18.111.0/24
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind

  @quality @fault-injection @pod-recovery
  Scenario: The API server is stopped during ADD: the error names the Kubernetes API
    Given a bridge network "red-net" with subnet 198.18.113.0/24
    And the runtime on node-1 holds each new sandbox just before its CNI ADD
    When pod "b" is created on node-1 attached to "red-net"
    And the runtime on node-1 holds the sandbox of pod "b"
    And the API server is stopped
    And the runtime on node-1 goes on with the sandboxes it holds
    Then the ADD of pod "b" failed, and the error the runtime reports names the Kubernetes API
    When the API server is started again
    Then deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind

  @extended:fault-recovery @fault-injection @pod-recovery
  Scenario: The plugin's API credentials are revoked: new pods get nothing, a DEL still releases everything, and pods start once they are renewed
    The API server refuses the plugin's service account token (401). A new pod cannot be read, so it
    gets nothing; a DEL needs no API (the plugin's cache holds what it attached); renewed credentials
    (a new token, and a thin plugin's kubeconfig generated again from it) are used from the next call on;
    from then on the runtime retries failed sandboxes, as kubelet does, so a pod started right after the
    renewal is not judged by one call that met an API server still settling.
    Given a bridge network "red-net" with subnet 198.18.112.0/24
    And pod "a" starts on node-1 attached to "red-net"
    When the plugin's API credentials are revoked
    And pod "b" is created on node-1 attached to "red-net"
    Then pod "b" does not start
    And nothing pod "b" was given is left on its node
    When the runtime on node-1 tears down the sandbox of pod "a"
    Then that teardown succeeded and released every address pod "a" held
    When the plugin's API credentials are renewed
    And the node agents retry failed sandboxes every 2 seconds, as kubelet does
    And pod "c" starts on node-1 attached to "red-net"
    Then pod "c" has interface net1 with an IP in 198.18.112.0/24
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "c" leaves no interfaces, addresses or IPAM allocations behind

  @quality @fault-injection @pod-recovery
  Scenario: The plugin's API credentials are revoked: the reason a pod does not start names the rejected credentials
    Given a bridge network "red-net" with subnet 198.18.114.0/24
    When the plugin's API credentials are revoked
    And pod "b" is created on node-1 attached to "red-net"
    Then pod "b" does not start, and the reason given names its rejected credentials
    When the plugin's API credentials are renewed
    Then deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
