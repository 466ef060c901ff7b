@isolation
Feature: Namespace isolation
  With namespaceIsolation on, a pod may only use networks of its own namespace or of a global one.

  Conformance @extended:namespace-isolation: an optional feature, off unless configured. Multi-network
  spec v1.3 §7.4 leaves restrictions on which NADs a pod may select to the implementation ("If the
  implementation determines that a given Network Attachment Definition selected by the Pod is not allowed
  for that Pod, it must fail the pod network operation"); Multus documents "namespaceIsolation" and
  "globalNamespaces" at https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/configuration.md#namespace-isolation
  and https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/configuration.md#allow-specific-namespaces-to-be-used-across-namespaces-when-using-namespace-isolation.
  That the refusal names the network is @quality, in its own scenario.

  @extended:namespace-isolation
  Scenario: A pod uses a network of its own namespace while isolation is on
    Given every node's Multus configuration isolates namespaces
    And a macvlan network "mine" on master eth1 with subnet 198.18.50.0/24
    When pod "a" starts on node-1 attached to "mine"
    Then pod "a" has interface net1 with an IP in 198.18.50.0/24

  @extended:namespace-isolation
  Scenario: A pod may not use another namespace's network while isolation is on
    Given every node's Multus configuration isolates namespaces
    And a namespace "tenant-b"
    And a macvlan network "private" in namespace "tenant-b" on master eth1 with subnet 198.18.51.0/24
    When pod "a" is created on node-1 attached to "tenant-b/private"
    Then pod "a" does not start
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: A pod may not use another namespace's network while isolation is on: the reason names the network
    Given every node's Multus configuration isolates namespaces
    And a namespace "tenant-b"
    And a macvlan network "private" in namespace "tenant-b" on master eth1 with subnet 198.18.53.0/24
    When pod "a" is created on node-1 attached to "tenant-b/private"
    Then pod "a" does not start, and the reason given names "tenant-b/private"

  @extended:namespace-isolation
  Scenario: A pod may use a network of a global namespace while isolation is on
    Given every node's Multus configuration isolates namespaces
    And a macvlan network "shared-lan" in the global namespace "default" on master eth1 with subnet 198.18.52.0/24
    When pod "a" starts on node-1 attached to "default/shared-lan"
    Then pod "a" has interface net1 with an IP in 198.18.52.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | default/shared-lan | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
