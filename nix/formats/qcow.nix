# qcow: qcow2, GPT with an ESP and a BIOS boot partition (make-disk-image's hybrid
# table). nixos-generators installs GRUB for BIOS only on x86_64 and leaves the ESP
# unmounted; here GRUB is installed for BIOS and UEFI and the ESP is mounted at /boot,
# so the image boots with either firmware and later generations reach the ESP.
{
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  common = import ../lib/common.nix;
  qemuGuest = "${toString modulesPath}/profiles/qemu-guest.nix";
  x86 = pkgs.stdenv.hostPlatform.system == "x86_64-linux";
in
{
  imports = [
    ../lib/image-plan.nix
    common.root
    common.esp
  ]
  ++ lib.optional (builtins.pathExists qemuGuest) qemuGuest;

  boot.growPartition = true;
  boot.kernelParams = [ "console=ttyS0" ];
  boot.loader.grub = {
    device = if x86 then lib.mkDefault "/dev/vda" else lib.mkDefault "nodev";
    efiSupport = lib.mkDefault true;
    efiInstallAsRemovable = lib.mkDefault true;
  };
  boot.loader.timeout = 0;

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
