# Pieces several format modules share.
{
  # The filesystems every make-disk-image format mounts, by the labels the image writes.
  root = {
    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      autoResize = true;
      fsType = "ext4";
    };
  };
  esp = {
    fileSystems."/boot" = {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };
  };

  # GRUB for UEFI only, installed as removable media (EFI/BOOT/BOOTX64.EFI).
  grubEfiRemovable = {
    boot.loader.grub = {
      device = "nodev";
      efiSupport = true;
      efiInstallAsRemovable = true;
    };
  };

  # The VM an OVA or a Vagrant box describes, with nixpkgs' virtualbox-image defaults.
  virtualMachine =
    { config, pkgs }:
    {
      name =
        config.virtualbox.vmName
          or "NixOS ${config.system.nixos.label} (${pkgs.stdenv.hostPlatform.system})";
      memoryMiB = config.virtualbox.memorySize or 1536;
      cpus = 1;
    };
}
