@vlan @core
Feature: Attaching pods to an 802.1Q VLAN
  The vlan plugin gives a pod a tagged sub-interface of the node's eth1. Needs a kernel with 8021q:
  runs on the host when it has it, otherwise in the vm provider.

  Conformance @core: multi-network spec v1.3 §4.1.1 and §3.4.1 (the NAD's config executed per the CNI
  spec), §5 and §5.2 (network-status); teardown: CNI spec 1.1.0 §DEL and multi-network spec v1.3 §7.2.

  # host-local hands out addresses on each node on its own, so two nodes may give two pods the same one:
  # the pods choose distinct addresses here.
  Scenario: Pods on different nodes reach each other over VLAN 100
    Given a vlan network "tagged" with VLAN id 100 on master eth1 whose addresses each pod chooses
    When pod "a" starts on node-1 with networks:
      | name   | ips             |
      | tagged | 198.18.72.10/24 |
    And pod "b" starts on node-2 with networks:
      | name   | ips             |
      | tagged | 198.18.72.11/24 |
    Then pod "a" has interface net1 with an IP in 198.18.72.0/24
    And pod "a" can reach pod "b" over net1
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | tagged            | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
