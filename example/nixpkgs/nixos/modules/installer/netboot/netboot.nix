# Imitates nixos/modules/installer/netboot/netboot.nix (NixOS 25.05): a system that
# boots from a kernel and an initrd alone. Its root is a tmpfs, its store an overlay over
# the squashfs the initrd carries (/nix-store.squashfs, mounted through a loop device
# from "../nix-store.squashfs", relative to the initrd's root). Declares
# netboot.squashfsCompression and netboot.storeContents as upstream; sets the
# fileSystems at mkImageMediaOverride, the initrd modules, boot.loader (grub off,
# timeout 10), system.build.squashfsStore (make-squashfs), system.build.netbootRamdisk
# (makeInitrdNG: the stage-1 initrd, then the squashfs), kexecScript, kexecTree,
# kexecTarball (make-system-tarball named image.baseName) as system.build.image, the
# image.* names and the "kexec" tag of the label, as 25.05 does.
# Left out: netbootIpxeScript, and boot.postBootCommands (the registration load and
# the live.nixos.password loop: the stand-in has no nix-store or shadow; the example's
# stage 2 reports the registration it finds instead).
{ config, lib, pkgs, modulesPath, ... }:
let
  inherit (lib) mkOption types mkImageMediaOverride;
  kernelTarget = "bzImage";
in
{
  imports = [ ../../image/file-options.nix ];

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

    system.build.kexecScript = pkgs.writeScript "kexec-boot" ''
      #!/usr/bin/env bash
      if ! kexec -v >/dev/null 2>&1; then
        echo "kexec not found: please install kexec-tools" 2>&1
        exit 1
      fi
      SCRIPT_DIR=$( cd -- "$( dirname -- "''${BASH_SOURCE[0]}" )" &> /dev/null && pwd )
      kexec --load ''${SCRIPT_DIR}/${kernelTarget} \
        --initrd=''${SCRIPT_DIR}/initrd.gz \
        --command-line "init=${config.system.build.toplevel}/init ${toString config.boot.kernelParams}"
      kexec -e
    '';

    system.build.kexecTree = pkgs.linkFarm "kexec-tree" [
      { name = "initrd.gz"; path = "${config.system.build.netbootRamdisk}/initrd"; }
      { name = kernelTarget; path = "${config.system.build.kernel}/${config.system.boot.loader.kernelFile}"; }
      { name = "kexec-boot"; path = config.system.build.kexecScript; }
    ];

    system.build.kexecTarball = pkgs.callPackage "${toString modulesPath}/../lib/make-system-tarball.nix" {
      fileName = config.image.baseName;
      storeContents = [ { object = config.system.build.kexecScript; symlink = "/kexec_nixos"; } ];
      contents = [ ];
    };
    system.build.image = config.system.build.kexecTarball;
    image.extension = "tar.xz";
    image.filePath = "tarball/${config.image.fileName}";
    system.nixos.tags = [ "kexec" ];

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
