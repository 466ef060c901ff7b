@ipvlan @core
Feature: Attaching pods to an ipvlan network
  ipvlan slaves share the MAC of the node's eth1; pods on one node reach each other in l2 and l3 mode.
  Needs a kernel with ipvlan: runs on the host when it has it, otherwise in the vm provider.

  Conformance @core: multi-network spec v1.3 §4.1.1 and §3.4.1 (the NAD's config executed per the CNI
  spec), §5 and §5.2 (network-status, with the cluster-wide default network's entry marked default);
  teardown: CNI spec 1.1.0 §DEL and multi-network spec v1.3 §7.2.

  Scenario Outline: Two pods on one node reach each other over ipvlan in <mode> mode
    Given an ipvlan network "ipv-<mode>" in <mode> mode on master eth1 with subnet <subnet>
    When pod "a" starts on node-1 attached to "ipv-<mode>"
    And pod "b" starts on node-1 attached to "ipv-<mode>"
    Then pod "a" has interface net1 with an IP in <subnet>
    And pod "a" can reach pod "b" over net1
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | ipv-<mode>        | no      |
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

    Examples:
      | mode | subnet          |
      | l2   | 198.18.70.0/24  |
      | l3   | 198.18.71.0/24  |
