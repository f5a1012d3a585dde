/**
 * Reads an OVF descriptor with xmllint (well-formed) and Python's xml.etree (structure) and
 * returns what VirtualBox's OVF reader looks at (ovfreader.cpp, ApplianceImplImport.cpp).
 * The unprefixed children of vbox:Machine are in the default (OVF) namespace, as in the
 * files VirtualBox exports.
 */
import assert from 'node:assert/strict';
import { runOk } from '../helpers/run.js';

export interface OvfItem {
  readonly [field: string]: string;
}

export interface OvfSummary {
  readonly envelopeNamespace: string;
  readonly version: string;
  readonly files: { id: string; href: string; size: string | null }[];
  readonly disks: { diskId: string; fileRef: string; capacity: string; format: string; vboxUuid: string | null }[];
  readonly networks: string[];
  readonly systemId: string;
  readonly osId: string;
  readonly vboxOsType: string | null;
  readonly systemType: string;
  readonly items: OvfItem[];
  /** For each Item, its rasd child names in document order. */
  readonly itemOrder: string[][];
  readonly vboxMachine: { firmware: string | null; imageUuids: string[]; ramSize: string | null; cpuCount: string | null } | null;
}

const SCRIPT = String.raw`
import json, sys
import xml.etree.ElementTree as ET
OVF = 'http://schemas.dmtf.org/ovf/envelope/1'
RASD = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData'
VSSD = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData'
VBOX = 'http://www.virtualbox.org/ovf/machine'
root = ET.parse(sys.argv[1]).getroot()
a = lambda e, n: e.get('{%s}%s' % (OVF, n))
q = lambda ns, n: '{%s}%s' % (ns, n)
vs = root.find(q(OVF, 'VirtualSystem'))
os_ = vs.find(q(OVF, 'OperatingSystemSection'))
hw = vs.find(q(OVF, 'VirtualHardwareSection'))
items = hw.findall(q(OVF, 'Item'))
m = vs.find(q(VBOX, 'Machine'))
print(json.dumps({
  'envelopeNamespace': root.tag.split('}')[0][1:],
  'version': a(root, 'version'),
  'files': [{'id': a(f, 'id'), 'href': a(f, 'href'), 'size': a(f, 'size')} for f in root.find(q(OVF, 'References')).findall(q(OVF, 'File'))],
  'disks': [{'diskId': a(d, 'diskId'), 'fileRef': a(d, 'fileRef'), 'capacity': a(d, 'capacity'), 'format': a(d, 'format'), 'vboxUuid': d.get(q(VBOX, 'uuid'))}
            for d in root.find(q(OVF, 'DiskSection')).findall(q(OVF, 'Disk'))],
  'networks': [a(n, 'name') for n in root.find(q(OVF, 'NetworkSection')).findall(q(OVF, 'Network'))],
  'systemId': a(vs, 'id'),
  'osId': a(os_, 'id'),
  'vboxOsType': (os_.findtext(q(VBOX, 'OSType'))),
  'systemType': hw.find(q(OVF, 'System')).findtext(q(VSSD, 'VirtualSystemType')),
  'items': [{c.tag.split('}')[1]: (c.text or '') for c in i} for i in items],
  'itemOrder': [[c.tag.split('}')[1] for c in i] for i in items],
  'vboxMachine': None if m is None else {
    'firmware': (m.find(q(OVF, 'Hardware') + '/' + q(OVF, 'Firmware')).get('type') if m.find(q(OVF, 'Hardware') + '/' + q(OVF, 'Firmware')) is not None else None),
    'imageUuids': [img.get('uuid') for img in m.iter(q(OVF, 'Image'))],
    'ramSize': m.find(q(OVF, 'Hardware') + '/' + q(OVF, 'Memory')).get('RAMSize'),
    'cpuCount': m.find(q(OVF, 'Hardware') + '/' + q(OVF, 'CPU')).get('count'),
  },
}))
`;

export function readOvf(path: string): OvfSummary {
  runOk('xmllint', ['--noout', path]);
  return JSON.parse(runOk('python3', ['-c', SCRIPT, path]).stdout) as OvfSummary;
}

export interface Expected {
  readonly vmdkName: string;
  readonly vmdkSize: number;
  readonly capacity: number;
  readonly vmName: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly controller: 'sata' | 'ide';
  readonly nicSubtype: string;
}

/**
 * The elements VirtualBox needs to import an appliance (format-specs §6.2, checked against
 * VirtualBox's ovfreader.cpp and ApplianceImplImport.cpp):
 * - Envelope in the OVF 1.0 namespace (ovf:version 1.0);
 * - References/File with ovf:id, ovf:href (required) and ovf:size;
 * - DiskSection/Disk with ovf:diskId, ovf:format (streamOptimized URL), ovf:capacity (bytes)
 *   and ovf:fileRef naming an existing File;
 * - NetworkSection/Network naming every NIC's Connection;
 * - VirtualSystem with ovf:id (the VM name), an OperatingSystemSection with a numeric ovf:id,
 *   a VirtualHardwareSection whose System has a VirtualSystemType;
 * - Items with unique InstanceIDs: CPU (3), memory (4, MegaBytes), a controller (20 AHCI or
 *   5 PIIX4), the disk (17) whose Parent is the controller and HostResource /disk/<diskId>,
 *   and an Ethernet adapter (10) with a subtype VirtualBox's import recognises;
 * - rasd elements in alphabetical order within each Item (the OVF schema's sequence).
 */
export function assertVirtualBoxOvf(ovf: OvfSummary, expected: Expected): void {
  assert.equal(ovf.envelopeNamespace, 'http://schemas.dmtf.org/ovf/envelope/1');
  assert.equal(ovf.version, '1.0');
  assert.deepEqual(ovf.files, [{ id: 'file1', href: expected.vmdkName, size: String(expected.vmdkSize) }]);
  assert.equal(ovf.disks.length, 1);
  const disk = ovf.disks[0]!;
  assert.equal(disk.fileRef, ovf.files[0]!.id);
  assert.equal(disk.capacity, String(expected.capacity));
  assert.equal(disk.format, 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized');
  assert.match(disk.vboxUuid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(ovf.networks, ['NAT']);
  assert.equal(ovf.systemId, expected.vmName);
  assert.equal(ovf.osId, '101');
  assert.equal(ovf.vboxOsType, 'Linux26_64');
  assert.equal(ovf.systemType, 'virtualbox-2.2');

  const ids = ovf.items.map((i) => i['InstanceID']);
  assert.equal(new Set(ids).size, ids.length, 'unique InstanceIDs');
  for (const order of ovf.itemOrder) assert.deepEqual(order, [...order].sort(), 'rasd elements in alphabetical order');
  const byType = (type: string): OvfItem[] => ovf.items.filter((i) => i['ResourceType'] === type);
  const [cpu] = byType('3');
  assert.equal(cpu?.['VirtualQuantity'], String(expected.cpus));
  const [memory] = byType('4');
  assert.equal(memory?.['AllocationUnits'], 'MegaBytes');
  assert.equal(memory?.['VirtualQuantity'], String(expected.memoryMiB));
  const controllers = expected.controller === 'sata' ? byType('20') : byType('5');
  assert.equal(controllers.length, 1);
  assert.equal(controllers[0]!['ResourceSubType'], expected.controller === 'sata' ? 'AHCI' : 'PIIX4');
  const [diskItem] = byType('17');
  assert.equal(diskItem?.['Parent'], controllers[0]!['InstanceID']);
  assert.equal(diskItem?.['HostResource'], `/disk/${disk.diskId}`);
  assert.equal(diskItem?.['AddressOnParent'], '0');
  const [nic] = byType('10');
  assert.ok(ovf.networks.includes(nic?.['Connection'] ?? ''), 'the NIC is on a declared network');
  assert.equal(nic?.['ResourceSubType'], expected.nicSubtype);
  assert.equal(nic?.['AutomaticAllocation'], 'true');
}
