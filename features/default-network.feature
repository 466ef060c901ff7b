@default-network @core
Feature: Choosing and extending the default network
  A pod may replace the cluster network with another one, the cluster may attach networks to every pod
  without the pods asking, and the cluster network may be named by the path of its conflist file.

  Conformance @core: multi-network spec v1.3 §6 (every pod is attached to the cluster-wide default network;
  "the implementation is free to define how the cluster-wide default network is configured and
  referenced", so the forms below are upstream Multus's documented ones:
  https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/configuration.md#using-clusternetwork
  for "clusterNetwork" and "defaultNetworks", and
  https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/docs/configuration.md#specify-default-cluster-network-in-pod-annotations
  for the v1.multus-cni.io/default-network annotation); teardown: CNI spec 1.1.0 §DEL and multi-network
  spec v1.3 §7.2.

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
    Upstream documents "defaultNetworks" as part of the "clusterNetwork" form ("Set clusterNetwork and if
    this is set, optionally set the defaultNetworks"), so when the installed configuration has the cluster
    network inline under "delegates", the step also gives it as "clusterNetwork" (a directory path).
    Given a macvlan network "always-on" in the Multus namespace on master eth1 with subnet 198.18.41.0/24
    And every node's Multus configuration adds "always-on" to its default networks
    When pod "a" starts on node-1 with no additional networks
    Then pod "a" has interface net1 with an IP in 198.18.41.0/24
    And the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
      | net1      | always-on         | no      |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind

  Scenario: A cluster network given as a file path is deleted cleanly
    Upstream's docs/configuration.md lists, among the values "clusterNetwork" may take, "Absolute file path
    for CNI config file". Whatever shape the run installed (inline "delegates" or a path), this scenario
    gives the cluster network as the path of its .conflist, so the DEL of a cluster network loaded from a
    file is always checked (CNI spec 1.1.0 §DEL; multi-network spec v1.3 §7.2). Upstream Multus v4.2.2
    fails it: expectations/multus-v4.2.2.md#cluster-network-del.
    Given every node's Multus configuration names its cluster network by the path of its conflist file
    When pod "a" starts on node-1 with no additional networks
    Then the network-status of pod "a" lists, in order, with the addresses the kernel shows:
      | interface | network           | default |
      | eth0      | (cluster network) | yes     |
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
