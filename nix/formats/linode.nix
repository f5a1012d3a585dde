# linode: Linode image, a gzip-compressed bare ext4 (no partition table) whose grub.cfg Linode's own GRUB reads (nixos-generators' linode format).
import ../lib/format.nix {
  upstream = "virtualisation/linode-image.nix";
  essentials =
    { lib, ... }:
    {
      fileSystems."/" = {
        device = "/dev/sda";
        autoResize = true;
        fsType = "ext4";
      };
      boot.kernelParams = [ "console=ttyS0,19200n8" ];
      boot.initrd.availableKernelModules = [ "virtio_pci" "virtio_scsi" "ahci" "sd_mod" ];
      boot.loader.grub = {
        device = "nodev";
        forceInstall = true;
      };
      boot.loader.timeout = lib.mkForce 10;
    };
  settings = {
    boot.growPartition = true;
    boot.loader.grub.fsIdentifier = "label";
    boot.loader.grub.splashImage = null;
    services.qemuGuest.enable = true;
    nixos-generate = {
      format = "linode";
      partitionTableType = "none";
      output = {
        container = "raw";
        fileName = "nixos.img.gz";
        compression = "gzip";
      };
    };
  };
}
