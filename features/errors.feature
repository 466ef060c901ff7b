@errors
Feature: Bad requests and failing delegates
  When a pod asks for something that cannot be done, it does not start, the cluster says why in words
  that name the cause, and the node is left exactly as it was.

  Scenario: The pod names a network that does not exist
    When pod "a" is created on node-1 attached to "no-such-net"
    Then pod "a" does not start, and the reason given names "no-such-net"
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: The networks annotation is not valid JSON
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.60.0/24
    When pod "a" is created on node-1 with this networks annotation:
      """
      [{"name": "data-net", "interface": "net1"
      """
    Then pod "a" does not start, and the reason given names "k8s.v1.cni.cncf.io/networks"
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: The interface name is not a valid Linux interface name
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.61.0/24
    When pod "a" is created on node-1 with networks:
      | name     | interface                |
      | data-net | this-name-is-far-too-long |
    Then pod "a" does not start, and the reason given names "this-name-is-far-too-long"
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: A delegate fails after an earlier network was attached
    Given a bridge network "good-net" with subnet 198.18.62.0/24
    And a macvlan network "broken-net" on master nosuchdev0 with subnet 198.18.63.0/24
    When pod "a" is created on node-1 attached to "good-net, broken-net"
    Then pod "a" does not start, and the reason given names "broken-net"
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
