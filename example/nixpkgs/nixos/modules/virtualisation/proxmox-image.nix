# Imitates nixos/modules/virtualisation/proxmox-image.nix (NixOS 25.05), the
# Proxmox VE image module: a raw make-disk-image disk packed with a
# qemu-server.conf into a zstd-compressed VMA backup. It imports
# virtualisation.diskSize (default "auto"; proxmox.qemuConf.diskSize is
# renamed to it since 24.11) and the image.* options, and declares
# proxmox.qemuConf.* (the VM's settings, each one a `name: value' line of
# qemu-server.conf, additionalSpace and bootSize included; additionalSpace is
# the free space of an "auto" disk, bootSize the ESP's size), qemuExtraConf
# (more lines, over qemuConf), partitionTableType (from the BIOS: "legacy" for
# SeaBIOS, "efi" for OVMF), filenameSuffix (names the VMA) and cloudInit.*.
# Set as upstream: the assertions matching partition table, BIOS and boot
# loader; image.baseName "vzdump-qemu-<filenameSuffix>" (mkDefault) and
# image.extension "vma.zst" (no system.nixos.tags); the cloud-init drive line
# in qemuExtraConf, added whether or not cloudInit.enable is set; the
# partition grown on boot, console=ttyS0, GRUB on /dev/vda when the layout
# boots with BIOS (else "nodev") and for EFI as removable media when it has an
# ESP (all three mkDefault), no menu delay, uas, virtio_blk and virtio_pci
# available in the initrd, the root by label `nixos' (ext4, grown on boot),
# the ESP on /boot for the efi and hybrid layouts, the QEMU guest agent.
# Left out, because the stand-in has no such services or options: with
# cloudInit.enable (the default), cloud-init and its network configuration,
# networking.hostName = mkForce "" (cloud-init names the machine) and
# networking.useDHCP = false; services.sshd.enable = mkDefault true (the
# stand-in's sshd module lacks NixOS's services.sshd.enable alias of
# services.openssh.enable); and system.build.VMA / system.build.image
# (make-disk-image + Proxmox's vma tool + zstd); nixos-generate writes the
# image itself.
{ config, lib, ... }:
let
  inherit (lib) mkDefault mkOption types;
  cfg = config.proxmox;
  layout = cfg.partitionTableType;
  hasEsp = layout == "efi" || layout == "hybrid";
  bootsWithBios = layout == "legacy" || layout == "legacy+gpt" || layout == "hybrid";
in
{
  imports = [
    ./disk-size-option.nix
    ../image/file-options.nix
    (lib.mkRenamedOptionModuleWith { sinceRelease = 2411; from = [ "proxmox" "qemuConf" "diskSize" ]; to = [ "virtualisation" "diskSize" ]; })
  ];

  options.proxmox = {
    qemuConf = {
      boot = mkOption {
        type = types.str;
        default = "";
        example = "order=scsi0;net0";
        description = "Boot order of the VM; empty lets Proxmox try its devices in its default order.";
      };
      scsihw = mkOption {
        type = types.str;
        default = "virtio-scsi-single";
        example = "lsi";
        description = "SCSI controller model (one of those Proxmox supports).";
      };
      virtio0 = mkOption {
        type = types.str;
        default = "local-lvm:vm-9999-disk-0";
        example = "ceph:vm-123-disk-0";
        description = "The virtio disk's volume, `<storage>:<volume>'; Proxmox requires it, and its storage hints where to restore the disk.";
      };
      ostype = mkOption {
        type = types.str;
        default = "l26";
        description = "Guest operating system type.";
      };
      cores = mkOption {
        type = types.ints.positive;
        default = 1;
        description = "Number of CPU cores of the VM.";
      };
      memory = mkOption {
        type = types.ints.positive;
        default = 1024;
        description = "Memory of the VM in MiB.";
      };
      bios = mkOption {
        type = types.enum [ "seabios" "ovmf" ];
        default = "seabios";
        description = "Firmware of the VM: SeaBIOS (legacy BIOS) or OVMF (UEFI).";
      };
      name = mkOption {
        type = types.str;
        default = "nixos-${config.system.nixos.label}";
        description = "Name of the VM.";
      };
      additionalSpace = mkOption {
        type = types.str;
        default = "512M";
        example = "2048M";
        description = "Free space added to the disk when virtualisation.diskSize is \"auto\".";
      };
      bootSize = mkOption {
        type = types.str;
        default = "256M";
        example = "512M";
        description = "Size of the EFI system partition (with the efi and hybrid partition tables only).";
      };
      net0 = mkOption {
        type = types.commas;
        default = "virtio=00:00:00:00:00:00,bridge=vmbr0,firewall=1";
        description = "The first network interface (tick `unique' when restoring so that the MAC address is randomised).";
      };
      serial0 = mkOption {
        type = types.str;
        default = "socket";
        example = "/dev/ttyS0";
        description = "The VM's first serial port: a host serial device, or a socket on the host (for `qm terminal').";
      };
      agent = mkOption {
        type = types.bool;
        default = true;
        apply = enabled: if enabled then "1" else "0";
        description = "Whether Proxmox should expect the QEMU guest agent in the VM.";
      };
    };
    qemuExtraConf = mkOption {
      type = types.attrsOf (types.oneOf [ types.str types.int ]);
      default = { };
      example = lib.literalExpression ''{ cpu = "host"; onboot = 1; }'';
      description = "More lines of qemu-server.conf (they override qemuConf's).";
    };
    partitionTableType = mkOption {
      type = types.enum [ "efi" "hybrid" "legacy" "legacy+gpt" ];
      default = if cfg.qemuConf.bios == "seabios" then "legacy" else "efi";
      defaultText = lib.literalExpression ''if config.proxmox.qemuConf.bios == "seabios" then "legacy" else "efi"'';
      example = "hybrid";
      description = "make-disk-image's partition table type (\"hybrid\": GRUB for BIOS and EFI).";
    };
    filenameSuffix = mkOption {
      type = types.str;
      default = cfg.qemuConf.name;
      example = "999-nixos_template";
      description = "The image is vzdump-qemu-<filenameSuffix>.vma.zst, which also names the VM when restored; start it with a number for Proxmox to take the VMA as a backup of that VM id.";
    };
    cloudInit = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether the VM takes cloud-init configuration from Proxmox.";
      };
      defaultStorage = mkOption {
        type = types.str;
        default = "local-lvm";
        example = "tank";
        description = "Storage of the cloud-init drive.";
      };
      device = mkOption {
        type = types.str;
        default = "ide2";
        example = "scsi0";
        description = "Bus and device the cloud-init drive is attached to.";
      };
    };
  };

  config = {
    assertions = [
      { assertion = config.boot.loader.systemd-boot.enable -> cfg.qemuConf.bios == "ovmf"; message = "proxmox: systemd-boot needs proxmox.qemuConf.bios = \"ovmf\""; }
      { assertion = layout == "efi" -> cfg.qemuConf.bios == "ovmf"; message = "proxmox: the partition table type \"efi\" needs proxmox.qemuConf.bios = \"ovmf\""; }
      { assertion = layout == "legacy" -> cfg.qemuConf.bios == "seabios"; message = "proxmox: the partition table type \"legacy\" needs proxmox.qemuConf.bios = \"seabios\""; }
      { assertion = layout == "legacy+gpt" -> cfg.qemuConf.bios == "seabios"; message = "proxmox: the partition table type \"legacy+gpt\" needs proxmox.qemuConf.bios = \"seabios\""; }
    ];

    image.baseName = mkDefault "vzdump-qemu-${cfg.filenameSuffix}";
    image.extension = "vma.zst";

    proxmox.qemuExtraConf.${cfg.cloudInit.device} = "${cfg.cloudInit.defaultStorage}:vm-9999-cloudinit,media=cdrom";

    boot.growPartition = true;
    boot.kernelParams = [ "console=ttyS0" ];
    boot.loader.grub = {
      # The whole disk even with a BIOS boot partition: GRUB will not install to a partition.
      device = mkDefault (if bootsWithBios then "/dev/vda" else "nodev");
      efiSupport = mkDefault hasEsp;
      efiInstallAsRemovable = mkDefault hasEsp;
    };
    boot.loader.timeout = 0;
    boot.initrd.availableKernelModules = [ "uas" "virtio_blk" "virtio_pci" ];

    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      autoResize = true;
      fsType = "ext4";
    };
    fileSystems."/boot" = lib.mkIf hasEsp {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };

    services.qemuGuest.enable = true;
  };
}
