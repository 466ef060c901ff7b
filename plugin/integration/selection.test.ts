// Pod selections end to end: validation leaves nothing behind, capabilities, interface names,
// default-route, namespace isolation, default-network, NAD forms, device IDs from the checkpoint.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { podInterfaces, skipReason, TestBed, TestNode, useTestBed } from './harness.ts';

const reason = skipReason();

describe.skipIf(reason !== undefined)('pod network selection (built plugin, real netns, HTTPS API)', () => {
  const node = new TestNode();
  let bed: TestBed;
  useTestBed(node, (b) => { bed = b; });
  beforeEach(async () => {
    await bed.nad('default', 'mv', bed.macvlan());
  });

  async function expectNothingLeft(): Promise<void> {
    expect(podInterfaces(bed)).toEqual([]);
    expect(bed.cacheFiles()).toEqual([]);
    expect(bed.ipamAllocations()).toEqual([]);
  }

  it.each([
    ['mv,Bad_Name', /invalid annotation "k8s.v1.cni.cncf.io\/networks": element 2 \("Bad_Name"\): network name "Bad_Name" is not a valid DNS-1123 subdomain/],
    ['[{"name":"mv","ips":["198.18.0.999/24"]}]', /element 1 \("mv"\): "ips"\[0\] "198.18.0.999\/24" is not a valid IP address or CIDR/],
    ['[{"name":"mv","mac":"zz:00:00:00:00:01"}]', /"mac" "zz:00:00:00:00:01" is not a valid 6-byte MAC address/],
    ['mv@eth0', /interface name "eth0" is requested by both network me2ep-default and network default\/mv/],
    ['mv@a,mv@a', /interface name "a" is requested by both network default\/mv and network default\/mv/],
    ['mv,nope', /NetworkAttachmentDefinition default\/nope not found/],
    ['[{"name":"mv","ips":["198.18.0.5/24"]}]', /network default\/mv: the pod requests "ips" but no plugin of the network declares the "ips" capability/],
    ['[{"name":"mv","default-route":["198.18.0.1"]},{"name":"mv","default-route":[]}]', /"default-route" is set on 2 elements/],
    ['[{"name":"mv"', /not valid JSON/],
  ])('refuses %s with a clear error and leaves nothing behind', async (annotation, pattern) => {
    const args = await bed.createPod('default', 'bad', { 'k8s.v1.cni.cncf.io/networks': annotation });
    const r = await bed.call('ADD', bed.multusConf(), args);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ cniVersion: '1.0.0', code: 7, msg: expect.stringMatching(pattern) });
    await expectNothingLeft();
    // the runtime's DEL after a failed ADD succeeds
    expect(await bed.call('DEL', bed.multusConf(), args)).toMatchObject({ code: 0, stdout: '' });
    await expectNothingLeft();
  });

  it('passes selection fields to declared capabilities, CNI_ARGS and args.cni', async () => {
    await bed.nad('default', 'rec', bed.recorder({ capabilities: { ips: true, mac: true, portMappings: true, bandwidth: true, infinibandGUID: true }, args: { cni: { keep: 'me', spoofchk: 'off' } } }));
    const sel = {
      name: 'rec',
      interface: 'rec0',
      ips: ['198.18.1.5/24'],
      mac: '02:00:00:00:00:05',
      portMappings: [{ hostPort: 8080, containerPort: 80 }],
      bandwidth: { ingressRate: 1000, ingressBurst: 100 },
      'infiniband-guid': '24:8a:07:03:00:8d:ae:2f',
      'cni-args': { spoofchk: 'on' },
    };
    const args = await bed.createPod('default', 'caps', { 'k8s.v1.cni.cncf.io/networks': JSON.stringify([sel]) });
    const r = await bed.call('ADD', bed.multusConf({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2 }] } }), args);
    expect(r.code, r.stdout).toBe(0);
    const conf = bed.recordedConf('ADD', 'rec0');
    expect(conf['runtimeConfig']).toEqual({
      ips: ['198.18.1.5/24'],
      mac: '02:00:00:00:00:05',
      portMappings: [{ hostPort: 8080, containerPort: 80 }],
      bandwidth: { ingressRate: 1000, ingressBurst: 100 },
      infinibandGUID: '24:8a:07:03:00:8d:ae:2f',
    });
    expect(conf['args']).toEqual({ cni: { keep: 'me', spoofchk: 'on' } });
    expect(conf['name']).toBe('rec');
    expect(conf).not.toHaveProperty('capabilities');
    expect(bed.recordedArgs('ADD', 'rec0')).toMatch(/IgnoreUnknown=true;.*K8S_POD_NAME=caps;.*IP=198\.18\.1\.5\/24;MAC=02:00:00:00:00:05$/);
    expect((await bed.call('DEL', bed.multusConf(), args)).code).toBe(0);
    await expectNothingLeft();
  });

  it('moves the default route to the attachment that asks for it', async () => {
    const o = node.octet;
    const args = await bed.createPod('default', 'gw', {
      'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'mv', 'default-route': [`198.18.${o}.129`] }]),
    });
    expect(bed.pod.defaultRoutes()).toEqual([]);
    const r = await bed.call('ADD', bed.multusConf(), args);
    expect(r.code, r.stdout).toBe(0);
    expect(bed.pod.defaultRoutes().map((x) => [x.dev, x.gateway])).toEqual([['net1', `198.18.${o}.129`]]);
    const status = JSON.parse((await bed.podAnnotations('default', 'gw'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
    expect(status[1]).toMatchObject({ name: 'default/mv', interface: 'net1', 'default-route': [`198.18.${o}.129`] });
    expect(status[0]).not.toHaveProperty('default-route');
    // the cluster network's returned result no longer claims a default route
    expect((r.json?.['routes'] as { dst: string }[] | undefined) ?? []).not.toContainEqual(expect.objectContaining({ dst: '0.0.0.0/0' }));
    expect((await bed.call('DEL', bed.multusConf(), args)).code).toBe(0);
    await expectNothingLeft();
  });

  it('enforces namespaceIsolation except for "default" and globalNamespaces', async () => {
    await bed.namespace('team-a');
    await bed.namespace('shared');
    await bed.nad('shared', 'mv', bed.macvlan());
    const conf = bed.multusConf({ namespaceIsolation: true });
    const args = await bed.createPod('team-a', 'iso', { 'k8s.v1.cni.cncf.io/networks': 'shared/mv' });
    const r = await bed.call('ADD', conf, args);
    expect(r.json).toMatchObject({ code: 7, msg: 'namespace isolation: pod in namespace "team-a" may not use network shared/mv (allowed: its own namespace and default)' });
    await expectNothingLeft();
    await bed.must('DELETE', '/api/v1/namespaces/team-a/pods/iso');
    // "shared" once listed in globalNamespaces, and "default" always (as upstream)
    const ok = await bed.createPod('team-a', 'iso2', { 'k8s.v1.cni.cncf.io/networks': 'shared/mv,default/mv' });
    const r2 = await bed.call('ADD', { ...conf, globalNamespaces: 'shared' }, ok);
    expect(r2.code, r2.stdout).toBe(0);
    expect(podInterfaces(bed)).toEqual(['eth0', 'net1', 'net2']);
    expect((await bed.call('DEL', conf, ok)).code).toBe(0);
    await expectNothingLeft();
  });

  it('replaces the cluster network by v1.multus-cni.io/default-network, resolves NAD forms', async () => {
    // NAD without "name" gets the NAD's name injected; NAD with empty config resolves from confDir
    await bed.nad('kube-system', 'alt', bed.macvlan());
    writeFileSync(join(bed.confDir, 'ondisk.conf'), JSON.stringify({ ...bed.recorder(), name: 'ondisk' }));
    await bed.nad('default', 'ondisk', '');
    const args = await bed.createPod('default', 'alt', { 'v1.multus-cni.io/default-network': 'alt', 'k8s.v1.cni.cncf.io/networks': 'ondisk' });
    const r = await bed.call('ADD', bed.multusConf(), args);
    expect(r.code, r.stdout).toBe(0);
    const eth0 = bed.pod.links().find((l) => l.ifname === 'eth0');
    expect(eth0?.link_type).toBe('ether');
    expect(bed.pod.addresses()['eth0']?.[0]).toMatch(new RegExp(`^198\\.18\\.${node.octet}\\.1[3-9]\\d/26$`));
    expect(bed.recordedConf('ADD', 'net1')['name']).toBe('ondisk');
    const status = JSON.parse((await bed.podAnnotations('default', 'alt'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
    expect(status.map((s) => [s['name'], s['default']])).toEqual([
      ['kube-system/alt', true],
      ['default/ondisk', false],
    ]);
    expect((await bed.call('DEL', bed.multusConf(), args)).code).toBe(0);
    await expectNothingLeft();
  });

  it('injects the next unused device of the NAD resource from the kubelet checkpoint', async () => {
    await bed.nad('default', 'vf', bed.recorder(), { 'k8s.v1.cni.cncf.io/resourceName': 'example.com/vf' });
    const args = await bed.createPod('default', 'sriov', { 'k8s.v1.cni.cncf.io/networks': 'vf,vf' });
    const uid = /K8S_POD_UID=([^;]+)/.exec(args)?.[1];
    const checkpoint = join(bed.dir, 'kubelet_internal_checkpoint');
    writeFileSync(
      checkpoint,
      JSON.stringify({
        Data: {
          PodDeviceEntries: [
            { PodUID: 'someone-else', ContainerName: 'c', ResourceName: 'example.com/vf', DeviceIDs: { '-1': ['vf9'] } },
            { PodUID: uid, ContainerName: 'c', ResourceName: 'example.com/vf', DeviceIDs: { '-1': ['vf1', 'vf2'] } },
          ],
          RegisteredDevices: { 'example.com/vf': ['vf1', 'vf2', 'vf9'] },
        },
        Checksum: 0,
      }),
    );
    const conf = bed.multusConf({ kubeletCheckpointFile: checkpoint });
    const r = await bed.call('ADD', conf, args);
    expect(r.code, r.stdout).toBe(0);
    expect(bed.recordedConf('ADD', 'net1')['deviceID']).toBe('vf1');
    expect(bed.recordedConf('ADD', 'net2')['deviceID']).toBe('vf2');
    const status = JSON.parse((await bed.podAnnotations('default', 'sriov'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
    expect(status[2]?.['device-info']).toEqual({ type: 'pci', version: '1.1.0', pci: { 'pci-address': 'vf2' } });
    expect((await bed.call('DEL', conf, args)).code).toBe(0);
    // a third attachment has no device left: clear error, rolled back
    await bed.must('DELETE', '/api/v1/namespaces/default/pods/sriov');
    const three = await bed.createPod('default', 'sriov3', { 'k8s.v1.cni.cncf.io/networks': 'vf,vf,vf' });
    const r3 = await bed.call('ADD', conf, three);
    expect(r3.json).toMatchObject({ code: 7, msg: expect.stringContaining('no unused example.com/vf device allocated to pod') });
    await expectNothingLeft();
  });

  it('resolves clusterNetwork and defaultNetworks as NADs in multusNamespace, skipping systemNamespaces', async () => {
    await bed.nad('kube-system', 'cluster-nad', { ...bed.clusterNetwork(), name: 'pods-net' });
    await bed.nad('kube-system', 'always', bed.recorder());
    const conf = bed.multusConf({ clusterNetwork: 'cluster-nad', defaultNetworks: ['always'] });
    const args = await bed.createPod('default', 'dn', { 'k8s.v1.cni.cncf.io/networks': 'mv' });
    const r = await bed.call('ADD', conf, args);
    expect(r.code, r.stdout).toBe(0);
    expect(podInterfaces(bed)).toEqual(['eth0', 'net2']);
    expect(bed.recorded()).toEqual([`ADD net1 ${bed.containerId}`]);
    const status = JSON.parse((await bed.podAnnotations('default', 'dn'))['k8s.v1.cni.cncf.io/network-status'] ?? '[]') as Record<string, unknown>[];
    expect(status.map((s) => [s['name'], s['interface'], s['default']])).toEqual([
      ['pods-net', 'eth0', true],
      ['kube-system/always', 'net1', false],
      ['default/mv', 'net2', false],
    ]);
    expect((await bed.call('DEL', conf, args)).code).toBe(0);
    await expectNothingLeft();
    // a pod in a system namespace gets the cluster network only
    const sys = await bed.createPod('kube-system', 'sys');
    expect((await bed.call('ADD', conf, sys)).code).toBe(0);
    expect(podInterfaces(bed)).toEqual(['eth0']);
    expect((await bed.call('DEL', conf, sys)).code).toBe(0);
    await expectNothingLeft();
  });
});
