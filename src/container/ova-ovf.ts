/**
 * The OVF 1.0 descriptor of a VirtualBox appliance (format-specs §6.2), with what
 * VirtualBox's OVF reader needs to import it (ovfreader.cpp): an Envelope in the OVF 1.0
 * namespace, References/File (href, size), a DiskSection Disk with diskId, fileRef,
 * capacity and the streamOptimized format URL, a NetworkSection, and one VirtualSystem with
 * an OperatingSystemSection (numeric CIM id) and a VirtualHardwareSection whose Items have
 * unique InstanceIDs: CPU (3), memory (4, MegaBytes), the disk controller (20/AHCI or
 * 5/PIIX4), the disk (17, Parent = controller, HostResource /disk/<diskId>) and a NAT
 * network adapter (10). rasd elements are in alphabetical order, as the OVF schema wants.
 * A vbox:Machine section is added only for EFI firmware, which plain OVF cannot express.
 */
import { deriveBytes, deriveUuid } from '../core/reproducible.js';
import { UsageError } from '../core/errors.js';

export type OvfController = 'sata' | 'ide';
export type OvfNic = 'virtio' | 'e1000' | 'pcnet';
export type OvfFirmware = 'bios' | 'efi';

export interface OvfMachine {
  /** VM name shown by VirtualBox. */
  readonly vmName: string;
  /** MiB; nixpkgs' virtualbox.memorySize default is 1536. */
  readonly memoryMiB: number;
  /** Virtual CPUs; nixpkgs leaves VirtualBox's default, 1. */
  readonly cpus: number;
  /** nixpkgs' default storage controller is SATA (AHCI, 4 ports, bootable, host I/O cache). */
  readonly controller: OvfController;
  /** nixpkgs' default NIC is nic1=nat, nictype1=virtio. */
  readonly nic: OvfNic;
  readonly firmware: OvfFirmware;
  /** 12 hex digits; only the vbox:Machine section (EFI) carries it. */
  readonly macAddress: string;
  /** Derives the disk and machine UUIDs. */
  readonly seed: string;
}

export interface OvfDisk {
  readonly href: string;
  /** Bytes of the VMDK file; undefined while unknown. */
  readonly fileSize: number | undefined;
  /** Virtual size in bytes. */
  readonly capacity: number;
}

export const STREAM_OPTIMIZED_URL = 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized';
/** CIM_OperatingSystem "Linux 2.6.x 64-Bit", what VirtualBox maps Linux26_64 to. */
export const CIM_OS_LINUX_64 = 101;
export const VBOX_OS_TYPE = 'Linux26_64';
/** Digits reserved for ovf:size, so the document's length does not depend on it. */
export const SIZE_DIGITS = 20;

/** VirtualBox's import accepts these ResourceSubType values (ApplianceImplImport.cpp). */
const NIC_SUBTYPE: Record<OvfNic, string> = { virtio: 'virtio-net', e1000: 'E1000', pcnet: 'PCNet32' };
const NIC_VBOX_TYPE: Record<OvfNic, string> = { virtio: 'virtio', e1000: '82540EM', pcnet: 'Am79C973' };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function validateMachine(machine: OvfMachine): void {
  if (typeof machine.vmName !== 'string' || machine.vmName === '' || /[\0-\x1f]/.test(machine.vmName)) {
    throw new UsageError('ovf.vm-name', `Cannot use the VM name "${String(machine.vmName)}": expected a non-empty name without control characters`);
  }
  if (!Number.isInteger(machine.memoryMiB) || machine.memoryMiB < 4 || machine.memoryMiB > 2097152) {
    throw new UsageError('ovf.memory', `Cannot give the VM ${String(machine.memoryMiB)} MiB of memory: expected a whole number of MiB from 4 to 2097152`);
  }
  if (!Number.isInteger(machine.cpus) || machine.cpus < 1 || machine.cpus > 64) {
    throw new UsageError('ovf.cpus', `Cannot give the VM ${String(machine.cpus)} CPUs: expected a whole number from 1 to 64`);
  }
  if (machine.controller !== 'sata' && machine.controller !== 'ide') {
    throw new UsageError('ovf.controller', `Cannot use the disk controller "${String(machine.controller)}": expected sata or ide`);
  }
  if (!(machine.nic in NIC_SUBTYPE)) {
    throw new UsageError('ovf.nic', `Cannot use the network adapter "${String(machine.nic)}": expected virtio, e1000 or pcnet`);
  }
  if (machine.firmware !== 'bios' && machine.firmware !== 'efi') {
    throw new UsageError('ovf.firmware', `Cannot use the firmware "${String(machine.firmware)}": expected bios or efi`);
  }
  if (!/^[0-9A-F]{12}$/.test(machine.macAddress)) {
    throw new UsageError('ovf.mac', `Cannot use the MAC address "${String(machine.macAddress)}": expected 12 upper-case hex digits, as in 0800275F0936`);
  }
}

/** A VirtualBox-range MAC (08:00:27) derived from the seed. */
export function derivedMac(seed: string): string {
  const b = deriveBytes(seed, 'ovf.mac', 3);
  return `080027${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`.toUpperCase();
}

/**
 * Renders the descriptor. With `fileSize` undefined, ovf:size holds zeros' worth of room:
 * the File element is padded with spaces to the same length it has with any size of up to
 * 20 digits, so a placeholder can later be overwritten in place.
 */
export function renderOvf(machine: OvfMachine, disk: OvfDisk): string {
  validateMachine(machine);
  const name = escapeXml(machine.vmName);
  const diskUuid = deriveUuid(machine.seed, 'ovf.disk').toLowerCase();
  const machineUuid = deriveUuid(machine.seed, 'ovf.machine').toLowerCase();
  const sizeText = String(disk.fileSize ?? 0);
  const sizePad = ' '.repeat(SIZE_DIGITS - sizeText.length);
  const controllerItem = machine.controller === 'sata'
    ? item({ Address: '0', Caption: 'sataController0', Description: 'SATA Controller', ElementName: 'sataController0', InstanceID: '3', ResourceSubType: 'AHCI', ResourceType: '20' })
    : item({ Address: '0', Caption: 'ideController0', Description: 'IDE Controller', ElementName: 'ideController0', InstanceID: '3', ResourceSubType: 'PIIX4', ResourceType: '5' });
  const lines = [
    '<?xml version="1.0"?>',
    '<Envelope ovf:version="1.0" xml:lang="en-US" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:vbox="http://www.virtualbox.org/ovf/machine">',
    '  <References>',
    `    <File ovf:href="${escapeXml(disk.href)}" ovf:id="file1" ovf:size="${sizeText}"${sizePad}/>`,
    '  </References>',
    '  <DiskSection>',
    '    <Info>List of the virtual disks used in the package</Info>',
    `    <Disk ovf:capacity="${disk.capacity}" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="${STREAM_OPTIMIZED_URL}" vbox:uuid="${diskUuid}"/>`,
    '  </DiskSection>',
    '  <NetworkSection>',
    '    <Info>Logical networks used in the package</Info>',
    '    <Network ovf:name="NAT">',
    '      <Description>Logical network used by this appliance.</Description>',
    '    </Network>',
    '  </NetworkSection>',
    `  <VirtualSystem ovf:id="${name}">`,
    '    <Info>A virtual machine</Info>',
    `    <OperatingSystemSection ovf:id="${CIM_OS_LINUX_64}">`,
    '      <Info>The kind of installed guest operating system</Info>',
    `      <Description>${VBOX_OS_TYPE}</Description>`,
    `      <vbox:OSType ovf:required="false">${VBOX_OS_TYPE}</vbox:OSType>`,
    '    </OperatingSystemSection>',
    '    <VirtualHardwareSection>',
    '      <Info>Virtual hardware requirements for a virtual machine</Info>',
    '      <System>',
    '        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>',
    '        <vssd:InstanceID>0</vssd:InstanceID>',
    `        <vssd:VirtualSystemIdentifier>${name}</vssd:VirtualSystemIdentifier>`,
    '        <vssd:VirtualSystemType>virtualbox-2.2</vssd:VirtualSystemType>',
    '      </System>',
    item({
      Caption: `${machine.cpus} virtual CPU`, Description: 'Number of virtual CPUs', ElementName: `${machine.cpus} virtual CPU`,
      InstanceID: '1', ResourceType: '3', VirtualQuantity: String(machine.cpus),
    }),
    item({
      AllocationUnits: 'MegaBytes', Caption: `${machine.memoryMiB} MB of memory`, Description: 'Memory Size',
      ElementName: `${machine.memoryMiB} MB of memory`, InstanceID: '2', ResourceType: '4', VirtualQuantity: String(machine.memoryMiB),
    }),
    controllerItem,
    item({
      AddressOnParent: '0', Caption: 'disk1', Description: 'Disk Image', ElementName: 'disk1',
      HostResource: '/disk/vmdisk1', InstanceID: '4', Parent: '3', ResourceType: '17',
    }),
    item({
      AutomaticAllocation: 'true', Caption: "Ethernet adapter on 'NAT'", Connection: 'NAT', ElementName: "Ethernet adapter on 'NAT'",
      InstanceID: '5', ResourceSubType: NIC_SUBTYPE[machine.nic], ResourceType: '10',
    }),
    '    </VirtualHardwareSection>',
    ...(machine.firmware === 'efi' ? vboxMachine(machine, name, machineUuid, diskUuid) : []),
    '  </VirtualSystem>',
    '</Envelope>',
    '',
  ];
  return lines.join('\n');
}

function item(fields: Record<string, string>): string {
  const children = Object.keys(fields).sort().map((k) => `        <rasd:${k}>${escapeXml(fields[k]!)}</rasd:${k}>`);
  return ['      <Item>', ...children, '      </Item>'].join('\n');
}

/** The VirtualBox settings fragment that carries what OVF cannot: EFI firmware. */
function vboxMachine(machine: OvfMachine, name: string, machineUuid: string, diskUuid: string): string[] {
  const controller = machine.controller === 'sata'
    ? '          <StorageController name="SATA" type="AHCI" PortCount="4" useHostIOCache="true" Bootable="true">'
    : '          <StorageController name="IDE" type="PIIX4" PortCount="2" useHostIOCache="true" Bootable="true">';
  return [
    `    <vbox:Machine ovf:required="false" version="1.19-linux" uuid="{${machineUuid}}" name="${name}" OSType="${VBOX_OS_TYPE}" snapshotFolder="Snapshots">`,
    '      <ovf:Info>Complete VirtualBox machine configuration in VirtualBox format</ovf:Info>',
    '      <Hardware>',
    `        <CPU count="${machine.cpus}">`,
    '          <PAE enabled="true"/>',
    '          <LongMode enabled="true"/>',
    '        </CPU>',
    `        <Memory RAMSize="${machine.memoryMiB}"/>`,
    '        <Firmware type="EFI"/>',
    '        <Boot>',
    '          <Order position="1" device="HardDisk"/>',
    '        </Boot>',
    '        <Display controller="VMSVGA" VRAMSize="32"/>',
    '        <BIOS>',
    '          <IOAPIC enabled="true"/>',
    '        </BIOS>',
    '        <Network>',
    `          <Adapter slot="0" enabled="true" MACAddress="${machine.macAddress}" type="${NIC_VBOX_TYPE[machine.nic]}">`,
    '            <NAT/>',
    '          </Adapter>',
    '        </Network>',
    '        <RTC localOrUTC="UTC"/>',
    '        <StorageControllers>',
    controller,
    '            <AttachedDevice type="HardDisk" hotpluggable="false" port="0" device="0">',
    `              <Image uuid="{${diskUuid}}"/>`,
    '            </AttachedDevice>',
    '          </StorageController>',
    '        </StorageControllers>',
    '      </Hardware>',
    '    </vbox:Machine>',
  ];
}

/** A manifest line as DSP0243 and ovftool write it (VirtualBox reads this form too). */
export function manifestLine(fileName: string, sha256Hex: string): string {
  return `SHA256(${fileName})= ${sha256Hex}\n`;
}
