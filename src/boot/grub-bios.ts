/**
 * GRUB for BIOS without grub-install (format-specs §12): boot.img goes into sector 0
 * with the LBA of core.img patched in, and core.img (from the system's grub-mkimage)
 * goes into the MBR gap or the BIOS boot partition with its first blocklist patched to
 * where it really lies. Reed-Solomon parity is left out, as grub-bios-setup
 * --no-rs-codes does; the startup code skips recovery when the redundancy field is 0.
 */
import { ImageError } from '../core/errors.js';

const SECTOR = 512;
/** boot.img: u64 LBA of core.img's first sector. */
const KERNEL_SECTOR = 0x5c;
/** boot.img: the "jmp 3f" over the drive check, replaced by two NOPs for hard disks. */
const DRIVE_CHECK = 0x66;
/** diskboot.img (core.img sector 0): first blocklist record {u64 start, u16 count, u16 segment}. */
const BLOCKLIST = 0x1f4;
const LOAD_SEGMENT = 0x820;

/** The 440 bytes of boot code for sector 0, pointing at core.img at `coreLba`. */
export function bootCode(bootImg: Uint8Array, coreLba: number): Uint8Array {
  if (bootImg.length !== SECTOR) {
    throw new ImageError('grub.bad-boot-img', `Cannot use GRUB's boot.img: it is ${bootImg.length} bytes, not ${SECTOR}`);
  }
  const code = bootImg.slice(0, 440);
  // Bytes 3-0x59 are the BPB area grub-bios-setup copies from the old sector 0: zeros.
  code.fill(0, 0x03, 0x5a);
  new DataView(code.buffer).setBigUint64(KERNEL_SECTOR, BigInt(coreLba), true);
  code[DRIVE_CHECK] = 0x90;
  code[DRIVE_CHECK + 1] = 0x90;
  return code;
}

/** core.img padded to whole sectors, its blocklist pointing at the sectors after `coreLba`. */
export function placedCore(core: Uint8Array, coreLba: number, availableSectors: number): Uint8Array {
  const sectors = Math.ceil(core.length / SECTOR);
  if (sectors > availableSectors) {
    throw new ImageError('grub.core-too-big', `Cannot embed GRUB's core.img: it needs ${sectors} sectors and ${availableSectors} are available`, {
      hint: 'the BIOS boot partition or the gap before the first partition is too small',
    });
  }
  const out = new Uint8Array(sectors * SECTOR);
  out.set(core);
  const view = new DataView(out.buffer);
  const count = view.getUint16(BLOCKLIST + 8, true);
  const segment = view.getUint16(BLOCKLIST + 10, true);
  if (count !== sectors - 1 || segment !== LOAD_SEGMENT) {
    throw new ImageError('grub.bad-core', `Cannot patch GRUB's core.img: its blocklist says ${count} sectors at segment 0x${segment.toString(16)}, expected ${sectors - 1} at 0x820`, {
      hint: 'the GRUB package must be an i386-pc GRUB 2',
    });
  }
  view.setBigUint64(BLOCKLIST, BigInt(coreLba + 1), true);
  return out;
}
