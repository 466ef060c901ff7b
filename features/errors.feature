@errors
Feature: Bad requests and failing delegates
  When a pod asks for something that cannot be done, it does not start and the node is left exactly as
  it was; the cluster also says why, in words that name the cause.

  Conformance: not starting and leaving nothing behind is @core (each scenario cites its basis). Naming
  the cause is @quality, in separate scenarios ending in "the reason names …": no spec says what an error
  message must contain (CNI spec 1.1.0 §Error only defines its fields), so a build can conform on @core
  while failing these.

  @core
  Scenario: The pod names a network that does not exist
    Multi-network spec v1.3 §3.4.1: with no NAD "config" and no on-disk config of that name "the network
    request must fail"; CNI spec 1.1.0 §Lifecycle & Ordering: "A delete must still be executed even if the
    add fails", and §DEL: a DEL completes "even if some resources are missing".
    When pod "a" is created on node-1 attached to "no-such-net"
    Then pod "a" does not start
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: The pod names a network that does not exist: the reason names the network
    When pod "a" is created on node-1 attached to "no-such-net"
    Then pod "a" does not start, and the reason given names "no-such-net"

  @core
  Scenario: The networks annotation is not valid JSON
    Multi-network spec v1.3 §4.1: the annotation value "shall be specified in one of two possible formats";
    one in neither cannot attach the network it names, and §7.2: "the failure to attach any network
    referenced by a pod's Network Attachment Selection Annotation ... shall immediately fail the pod network
    setup operation". Teardown: CNI spec 1.1.0 §Lifecycle & Ordering and §DEL.
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.60.0/24
    When pod "a" is created on node-1 with this networks annotation:
      """
      [{"name": "data-net", "interface": "net1"
      """
    Then pod "a" does not start
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: The networks annotation is not valid JSON: the reason names the annotation
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.64.0/24
    When pod "a" is created on node-1 with this networks annotation:
      """
      [{"name": "data-net", "interface": "net1"
      """
    Then pod "a" does not start, and the reason given names "k8s.v1.cni.cncf.io/networks"

  @core
  Scenario: The interface name is not a valid Linux interface name
    CNI spec 1.1.0 §Parameters: for CNI_IFNAME, "if the plugin is unable to use this interface name it must
    return an error", and multi-network spec v1.3 §7.2 fails the pod's network setup on any failed
    attachment; teardown of the attachments already made: §7.2 and CNI spec 1.1.0 §DEL. (Multi-network spec
    §4.1.2.1.5 calls an annotation with such a name invalid, to be "ignored"; upstream Multus and the bundled
    plugin both fail the pod instead of starting it without the requested network.)
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.61.0/24
    When pod "a" is created on node-1 with networks:
      | name     | interface                |
      | data-net | this-name-is-far-too-long |
    Then pod "a" does not start
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: The interface name is not a valid Linux interface name: the reason names the interface
    Given a macvlan network "data-net" on master eth1 with subnet 198.18.65.0/24
    When pod "a" is created on node-1 with networks:
      | name     | interface                |
      | data-net | this-name-is-far-too-long |
    Then pod "a" does not start, and the reason given names "this-name-is-far-too-long"

  @core
  Scenario: A delegate fails after an earlier network was attached
    Multi-network spec v1.3 §7.2: a failed attachment "shall immediately fail the pod network setup
    operation", and "all network attachments that were attempted during pod network setup must be torn
    down, and the failure of one shall not prevent teardown of subsequent attachments"; CNI spec 1.1.0
    §Lifecycle & Ordering: "A delete must still be executed even if the add fails".
    Given a bridge network "good-net" with subnet 198.18.62.0/24
    And a macvlan network "broken-net" on master nosuchdev0 with subnet 198.18.63.0/24
    When pod "a" is created on node-1 attached to "good-net, broken-net"
    Then pod "a" does not start
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  @quality
  Scenario: A delegate fails after an earlier network was attached: the reason names the failed network
    Given a bridge network "good-net" with subnet 198.18.66.0/24
    And a macvlan network "broken-net" on master nosuchdev0 with subnet 198.18.67.0/24
    When pod "a" is created on node-1 attached to "good-net, broken-net"
    Then pod "a" does not start, and the reason given names "broken-net"
