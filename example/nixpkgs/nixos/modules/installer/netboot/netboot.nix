# Imitates nixos/modules/installer/netboot/netboot.nix (NixOS 25.05): a system that
# boots from a kernel and an initrd alone. Its root is a tmpfs, its store an overlay over
# the squashfs the initrd carries (/nix-store.squashfs, mounted through a loop device
# from "../nix-store.squashfs", relative to the initrd's root). Declares
# netboot.squashfsCompression and netboot.storeContents as upstream; sets the
# fileSystems at mkImageMediaOverride, the initrd modules, boot.loader (grub off,
# timeout 10), and system.build.squashfsStore (make-squashfs) and
# system.build.netbootRamdisk (makeInitrdNG: the stage-1 initrd, then the squashfs).
# Left out: kexecScript, kexecTree, netbootIpxeScript and kexecTarball, and the
# registration load in boot.postBootCommands (the stand-in has no nix-store; the
# example's stage 2 reports the registration it finds instead).
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types mkImageMediaOverride;
in
{
  options.netboot = {
    squashfsCompression = mkOption {
      type = types.str;
      default = "zstd -Xcompression-level 19";
      description = "mksquashfs compression arguments for the store.";
    };
    storeContents = mkOption {
      example = lib.literalExpression "[ pkgs.stdenv ]";
      description = "Store paths whose closure is put in the squashfs.";
    };
  };

  config = {
    boot.loader.grub.enable = false;
    boot.loader.timeout = 10;

    fileSystems."/" = mkImageMediaOverride {
      fsType = "tmpfs";
      options = [ "mode=0755" ];
    };
    fileSystems."/nix/.ro-store" = mkImageMediaOverride {
      fsType = "squashfs";
      device = "../nix-store.squashfs";
      options = [ "loop" ] ++ lib.optional (config.boot.kernelPackages.kernel.kernelAtLeast "6.2") "threads=multi";
      neededForBoot = true;
    };
    fileSystems."/nix/.rw-store" = mkImageMediaOverride {
      fsType = "tmpfs";
      options = [ "mode=0755" ];
      neededForBoot = true;
    };
    fileSystems."/nix/store" = mkImageMediaOverride {
      overlay = {
        lowerdir = [ "/nix/.ro-store" ];
        upperdir = "/nix/.rw-store/store";
        workdir = "/nix/.rw-store/work";
      };
      neededForBoot = true;
    };

    boot.initrd.availableKernelModules = [ "squashfs" "overlay" ];
    boot.initrd.kernelModules = [ "loop" "overlay" ];

    netboot.storeContents = [ config.system.build.toplevel ];

    system.build.squashfsStore = pkgs.callPackage ../../../lib/make-squashfs.nix {
      storeContents = config.netboot.storeContents;
      comp = config.netboot.squashfsCompression;
    };

    system.build.netbootRamdisk = pkgs.makeInitrdNG {
      inherit (config.boot.initrd) compressor;
      prepend = [ "${config.system.build.initialRamdisk}/initrd" ];
      contents = [
        {
          source = config.system.build.squashfsStore;
          target = "/nix-store.squashfs";
        }
      ];
    };
  };
}
