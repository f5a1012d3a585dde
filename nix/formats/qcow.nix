# qcow: qcow2, GPT with an ESP and a BIOS boot partition (make-disk-image's hybrid
# table). nixos-generators installs GRUB for BIOS only on x86_64 and leaves the ESP
# unmounted; here GRUB is installed for BIOS and UEFI and the ESP is mounted at /boot,
# so the image boots with either firmware and later generations reach the ESP.
{ lib, modulesPath, ... }:
let
  common = import ../lib/common.nix;
in
{
  imports = [
    ../lib/image-plan.nix
    "${toString modulesPath}/profiles/qemu-guest.nix"
  ];

  config = lib.mkMerge [
    (common.imageBoot lib { partitionTableType = "hybrid"; biosDeviceDefault = true; })
    {
      boot.growPartition = true;
      boot.kernelParams = [ "console=ttyS0" ];
      boot.loader.timeout = lib.mkDefault 0;

      nixos-generate = {
        format = "qcow";
        partitionTableType = "hybrid";
        output = {
          container = "qcow2";
          fileName = "nixos.qcow2";
          compression = "none";
        };
      };
    }
  ];
}
