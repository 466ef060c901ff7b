@macvlan @core
Feature: Attaching pods to a macvlan network
  A pod that asks for a macvlan network gets a second interface on the node's eth1 segment, with an
  address from the network's range, and the cluster reports exactly what the kernel configured.

  Conformance @core: multi-network spec v1.3 §4.1.1 (comma-delimited selection), §3.4.1 (the NAD's config
  executed per the CNI spec, or an on-disk config whose "name" matches when the NAD has none), §3.2.2 and
  §7.1 (a configlist NAD runs its plugins as a CNI configlist), §5 and §5.2 (network-status, the cluster
  network's entry marked default); teardown: CNI spec 1.1.0 §DEL and multi-network spec v1.3 §7.2.

  Scenario: A pod gets net1 with an address in the network's subnet
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.10.0/24
    When pod "a" starts on node-1 attached to "data-net"
    Then pod "a" has interface net1 with an IP in 198.18.10.0/24
    And pod "a" has a route to 198.18.10.0/24 on net1
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | data-net          | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  # host-local hands out addresses on each node on its own, so two nodes may give two pods the same one
  # (and a pod pinging its own address proves nothing): the pods choose distinct addresses here.
  Scenario: Pods on different nodes reach each other over the fabric
    Given a macvlan network "fabric-net" on master eth1 whose addresses and MAC each pod chooses
    When pod "a" starts on node-1 with networks:
      | name       | ips             |
      | fabric-net | 198.18.11.10/24 |
    And pod "b" starts on node-2 with networks:
      | name       | ips             |
      | fabric-net | 198.18.11.11/24 |
    Then pod "a" can reach pod "b" over net1
    And pod "b" can reach pod "a" over net1

  Scenario: A conflist network chains macvlan with tuning
    Given a macvlan network "tuned-net" on master eth1 with subnet 198.18.12.0/24, tuned to MTU 1400
    When pod "a" starts on node-1 attached to "tuned-net"
    Then pod "a" has interface net1 with an IP in 198.18.12.0/24
    And pod "a" has interface net1 with MTU 1400
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: A network with no config in its definition is resolved from the node's Multus config directory
    Given every node has a macvlan network "node-local-net" on master eth1 with subnet 198.18.13.0/24 in its Multus config directory
    And a network "node-local-net" whose configuration comes from the nodes
    When pod "a" starts on node-1 attached to "node-local-net"
    Then pod "a" has interface net1 with an IP in 198.18.13.0/24
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
