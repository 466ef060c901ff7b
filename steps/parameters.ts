// Parameter types of the scenario language: nodes, CIDRs, addresses, MACs.
import { defineParameterType } from '@cucumber/cucumber';

defineParameterType({ name: 'node', regexp: /node-\d+/, transformer: (s: string) => s });
defineParameterType({ name: 'cidr', regexp: /\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}/, transformer: (s: string) => s });
defineParameterType({ name: 'ip', regexp: /\d{1,3}(?:\.\d{1,3}){3}/, transformer: (s: string) => s });
defineParameterType({ name: 'mac', regexp: /[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}/, transformer: (s: string) => s.toLowerCase() });
