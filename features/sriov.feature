@netdevsim @extended:device-info
Feature: Emulated SR-IOV VFs on netdevsim
  Each node has a netdevsim NIC in switchdev mode standing in for an SR-IOV NIC. The node offers its
  VFs as the extended resource netdevsim.io/vf, the plugin injects the VF allocated to the pod as the
  delegate's deviceID, and the emulated SR-IOV delegate moves that VF into the pod with the network's
  VF settings applied on the PF.

  Conformance @extended:device-info: passing a device plugin's allocation to the delegate ("deviceID", from
  the NAD's k8s.v1.cni.cncf.io/resourceName annotation) is optional; upstream Multus documents it at
  https://github.com/k8snetworkplumbingwg/multus-cni/blob/v4.2.2/examples/README.md#passing-down-device-information,
  and multi-network spec v1.3 §5.3.7 defines the optional "device-info" key of network-status.

  Background:
    Given every node offers 4 emulated SR-IOV VFs as netdevsim.io/vf

  Scenario: A pod gets net1 on its allocated VF, configured as the network says, and gives it back
    Given an emulated SR-IOV network "sriov-net" with subnet 198.18.40.0/24, vlan 100, mac 02:00:00:00:40:01, spoofchk off and trust on
    When pod "a" starts on node-1 with 1 VF attached to "sriov-net"
    Then pod "a" has interface net1 on an allocated VF of node-1
    And pod "a" has interface net1 with an IP in 198.18.40.0/24
    And the PF on node-1 shows the VF of pod "a" with vlan 100, mac 02:00:00:00:40:01, spoofchk off and trust on
    And the network-status of pod "a" carries the device-info of its VF
    When pod "a" is deleted
    Then the VF of pod "a" is reset and back in node-1's pool

  Scenario: A pod asking for more VFs than any node has stays Pending with the reason
    Given an emulated SR-IOV network "sriov-net" with subnet 198.18.41.0/24
    When pod "greedy" is created asking for 5 VFs attached to "sriov-net"
    Then pod "greedy" stays Pending because no node has enough netdevsim.io/vf
