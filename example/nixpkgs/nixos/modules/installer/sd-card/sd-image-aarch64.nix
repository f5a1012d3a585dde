# Imitates nixos/modules/installer/sd-card/sd-image-aarch64.nix (NixOS 25.05): U-Boot for
# the Raspberry Pi 3 and 4 with the Pi firmware and config.txt on the firmware partition,
# extlinux on the root, the consoles of Tegra, QEMU's virt machine and the screen.
# Different because Debian's packages differ from nixpkgs': the Pi device trees are the
# kernel's (mainline names such as bcm2837-rpi-3-b.dtb, not raspberrypifw's bcm2710-rpi-3-b.dtb),
# and there is no armstub8-gic.bin (Debian has no raspberrypi-armstubs; the Pi 4
# firmware's built-in stub is used, so config.txt has no armstub line).
{ config, lib, pkgs, ... }:
let
  # The settings of NixOS's config.txt (the comments are the stand-in's).
  configTxt = pkgs.writeText "config.txt" ''
    [pi3]
    kernel=u-boot-rpi3.bin
    # a fixed core clock keeps the mini UART's baud rate right
    core_freq=250

    [pi02]
    kernel=u-boot-rpi3.bin

    [pi4]
    kernel=u-boot-rpi4.bin
    enable_gic=1
    disable_overscan=1
    arm_boost=1

    [cm4]
    # USB host mode on the CM4's XHCI controller
    otg_mode=1

    [all]
    arm_64bit=1
    # U-Boot on the Pi needs the UART enabled
    enable_uart=1
    # no firmware warnings drawn over the kernel's framebuffer
    avoid_warnings=1
  '';
in
{
  imports = [
    ../../profiles/base.nix
    ./sd-image.nix
  ];

  boot.loader.grub.enable = false;
  boot.loader.generic-extlinux-compatible.enable = true;

  boot.consoleLogLevel = lib.mkDefault 7;

  # ttyS0: Tegra (Jetson TX1); ttyAMA0: QEMU's virt machine; tty0: the screen.
  boot.kernelParams = [
    "console=ttyS0,115200n8"
    "console=ttyAMA0,115200n8"
    "console=tty0"
  ];

  sdImage = {
    populateFirmwareCommands = ''
      (cd ${pkgs.raspberrypifw}/share/raspberrypi/boot && cp bootcode.bin fixup*.dat start*.elf $NIX_BUILD_TOP/firmware/)

      # config.txt
      cp ${configTxt} firmware/config.txt

      # Pi 3: U-Boot and device trees
      cp ${pkgs.ubootRaspberryPi3_64bit}/u-boot.bin firmware/u-boot-rpi3.bin
      cp ${pkgs.raspberrypifw}/share/raspberrypi/boot/bcm2837-rpi-*.dtb firmware/

      # Pi 4: U-Boot and device trees
      cp ${pkgs.ubootRaspberryPi4_64bit}/u-boot.bin firmware/u-boot-rpi4.bin
      cp ${pkgs.raspberrypifw}/share/raspberrypi/boot/bcm2711-rpi-*.dtb firmware/
    '';
    populateRootCommands = ''
      mkdir -p ./files/boot
      ${config.boot.loader.generic-extlinux-compatible.populateCmd} -c ${config.system.build.toplevel} -d ./files/boot
    '';
  };
}
