@selection
Feature: Selecting networks with the pod annotation
  The k8s.v1.cni.cncf.io/networks annotation picks the networks, their order, interface names,
  namespaces, addresses and MACs, in both its comma form and its JSON form.

  Conformance: @core for what multi-network spec v1.3 requires of every implementation (§4.1 "must support
  both formats", §4.1.2.1.2 "namespace", §4.1.2.1.3.2 / §4.1.2.1.4.2 / §4.1.2.1.5.1 the CNI Delegating
  Plugin requirements for "ips", "mac" and "interface", §4.2 multiple attachments to the same network,
  §6.2 the cluster network first, §5 network-status; teardown: CNI spec 1.1.0 §DEL, multi-network spec §7.2).
  "default-route" is @extended:default-route: an "optional key" (§4.1.2.1.9) whose routing "is the
  responsibility of the implementation"; upstream Multus documents it at
  https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/how-to-use.md#specifying-a-default-route-for-a-specific-attachment.

  @core
  Scenario: Several networks are attached in the order they are listed
    Given a macvlan network "first" on master eth1 with subnet 198.18.30.0/24
    And a bridge network "second" with subnet 198.18.31.0/24
    When pod "a" starts on node-1 attached to "first, second"
    Then pod "a" has interface net1 with an IP in 198.18.30.0/24
    And pod "a" has interface net2 with an IP in 198.18.31.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | first             | no      |
      | net2      | second            | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @core
  Scenario: The JSON form names the interfaces
    Given a macvlan network "red" on master eth1 with subnet 198.18.32.0/24
    And a bridge network "green" with subnet 198.18.33.0/24
    When pod "a" starts on node-1 with networks:
      | name  | interface |
      | red   | red0      |
      | green | green0    |
    Then pod "a" has interface red0 with an IP in 198.18.32.0/24
    And pod "a" has interface green0 with an IP in 198.18.33.0/24
    And pod "a" has no interface net1
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | red0      | red               | no      |
      | green0    | green             | no      |

  @core
  Scenario: The same network attached twice gives two interfaces with different addresses
    Given a macvlan network "twice" on master eth1 with subnet 198.18.34.0/24
    When pod "a" starts on node-1 attached to "twice, twice"
    Then pod "a" has interface net1 with an IP in 198.18.34.0/24
    And pod "a" has interface net2 with an IP in 198.18.34.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | twice             | no      |
      | net2      | twice             | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @core
  Scenario: A pod uses a network defined in another namespace
    Given a namespace "shared"
    And a macvlan network "corp" in namespace "shared" on master eth1 with subnet 198.18.35.0/24
    When pod "a" starts on node-1 attached to "shared/corp"
    Then pod "a" has interface net1 with an IP in 198.18.35.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | shared/corp       | no      |

  @core
  Scenario: A pod chooses its own address and MAC
    Given a macvlan network "fixed" on master eth1 whose addresses and MAC each pod chooses
    When pod "a" starts on node-1 with networks:
      | name  | ips             | mac               |
      | fixed | 198.18.36.10/24 | 02:00:c6:12:24:0a |
    Then pod "a" has interface net1 with IP 198.18.36.10 and MAC 02:00:c6:12:24:0a
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | fixed             | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @extended:default-route
  Scenario: A pod sends its default traffic through an additional network
    Multi-network spec v1.3 §4.1.2.1.9: "When default-route is set for an attachment other than the
    cluster-wide default network attachment, ... the default route and gateway will be cleared from the
    cluster-wide default network attachment", and the route goes to the listed gateway.
    Given a macvlan network "uplink" on master eth1 with subnet 198.18.37.0/24
    When pod "a" starts on node-1 with networks:
      | name   | default-route |
      | uplink | 198.18.37.1   |
    Then pod "a" sends its default traffic via 198.18.37.1 on net1
    And pod "a" has interface net1 with an IP in 198.18.37.0/24
