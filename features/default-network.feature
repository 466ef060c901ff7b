@default-network
Feature: Choosing and extending the default network
  A pod may replace the cluster network with another one, and the cluster may attach networks to
  every pod without the pods asking.

  Scenario: A pod replaces its cluster network
    Given a macvlan network "own-default" on master eth1 with subnet 198.18.40.0/24
    When pod "a" starts on node-1 with "own-default" as its default network
    Then pod "a" has interface eth0 with an IP in 198.18.40.0/24
    And pod "a" has no interface net1
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network     | default |
      | eth0      | own-default | yes     |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: Networks in the Multus configuration's defaultNetworks are attached to every pod
    Given a macvlan network "always-on" in the Multus namespace on master eth1 with subnet 198.18.41.0/24
    And every node's Multus configuration adds "always-on" to its default networks
    When pod "a" starts on node-1 with no additional networks
    Then pod "a" has interface net1 with an IP in 198.18.41.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | always-on         | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
