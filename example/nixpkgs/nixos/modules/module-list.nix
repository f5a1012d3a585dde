# The modules every configuration evaluated by the stand-in gets.
[
  ./misc/assertions.nix
  ./misc/version.nix
  ./config/networking.nix
  ./config/system-path.nix
  ./system/etc/etc.nix
  ./system/boot/kernel.nix
  ./system/boot/stage-1.nix
  ./system/boot/systemd.nix
  ./system/boot/grow-partition.nix
  ./system/boot/loader/loader.nix
  ./system/boot/loader/grub/grub.nix
  ./system/boot/loader/systemd-boot/systemd-boot.nix
  ./tasks/filesystems.nix
  ./system/activation/top-level.nix
]
