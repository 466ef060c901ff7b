@bridge @core
Feature: Attaching pods to a bridge network
  Pods on one node that share a bridge network talk to each other over it, and a deleted pod takes its
  veth and its address with it.

  Conformance @core: multi-network spec v1.3 §4.1.1 (the comma-delimited selection annotation, which
  implementations "must support") and §3.4.1 (a NetworkAttachmentDefinition's "config" is executed per the
  CNI spec); what a deleted pod leaves behind: CNI spec 1.1.0 §DEL and §Lifecycle & Ordering ("add is
  eventually followed by a corresponding delete") and multi-network spec v1.3 §7.2 ("all network
  attachments that were attempted during pod network setup must be torn down").

  Scenario: Two pods on one node reach each other over net1
    Given a bridge network "blue" with subnet 198.18.20.0/24
    When pod "a" starts on node-1 attached to "blue"
    And pod "b" starts on node-1 attached to "blue"
    Then pod "a" has interface net1 with an IP in 198.18.20.0/24
    And pod "a" can reach pod "b" over net1
    And pod "b" can reach pod "a" over net1
    And deleting pod "b" leaves no interfaces, addresses or IPAM allocations behind
    And deleting pod "a" leaves no interfaces, addresses or IPAM allocations behind
