# kexec: a tarball that, unpacked on a running Linux (to /), boots this system with
# `/kexec_nixos`, as nixos-generators' formats/kexec.nix makes it: nixpkgs'
# installer/netboot/netboot-minimal.nix (the system's store in a squashfs inside the
# initrd), then system.build.image (kernel, initrd, cmdline), kexec_script, kexec_tarball
# and kexec_bundle defined as there, so that their store paths are the ones
# nixos-generators gives them. Nix builds the system and the script's tools; the writers
# build the squashfs, the initrd, the image and the tarball (nix/lib/kexec-plan.nix).
#
# NixOS 25.05+'s netboot.nix defines system.build.image too (its kexecTarball), so that
# attribute is ambiguous, as with nixos-generators: the script uses this module's image,
# and so does the plan (nixos-generate.kexecImage).
# One difference: boot.initrd.postMountCommands is set only with the scripted stage 1;
# systemd's stage 1 (the default on unstable) refuses it, which would stop the build.
{
  config,
  lib,
  pkgs,
  options,
  modulesPath,
  ...
}:
let
  # nixos-generators' lib.nix `maybe`: system.build is a submodule in newer releases,
  # where a second definition of an attribute needs mkForce.
  mkForceIfSubmodule = if options.system.build.type.name == "submodule" then lib.mkForce else lib.id;
  toplevelPath = builtins.unsafeDiscardStringContext config.system.build.toplevel;
  commandLine = "init=${toplevelPath}/init ${toString config.boot.kernelParams}";
  image = pkgs.runCommand "image" { buildInputs = [ pkgs.nukeReferences ]; } ''
    mkdir $out
    cp ${config.system.build.kernel}/${config.system.boot.loader.kernelFile} $out/kernel
    cp ${config.system.build.netbootRamdisk}/initrd $out/initrd
    echo "${commandLine}" > $out/cmdline
    nuke-refs $out/kernel
  '';
in
{
  imports = [
    "${toString modulesPath}/installer/netboot/netboot-minimal.nix"
    ../lib/kexec-plan.nix
  ];

  nixos-generate.kexecImage = image;

  system.build = rec {
    inherit image;

    kexec_script = pkgs.writeTextFile {
      executable = true;
      name = "kexec-nixos";
      text = ''
        #!${pkgs.stdenv.shell}
        export PATH=${pkgs.kexec-tools}/bin:${pkgs.cpio}/bin:$PATH
        set -x
        set -e
        cd $(mktemp -d)
        pwd
        mkdir initrd
        pushd initrd
        if [ -e /ssh_pubkey ]; then
          cat /ssh_pubkey >> authorized_keys
        fi
        find -type f | cpio -o -H newc | gzip -9 > ../extra.gz
        popd
        cat ${image}/initrd extra.gz > final.gz

        kexec -l ${image}/kernel --initrd=final.gz --append="${commandLine}"
        sync
        echo "executing kernel, filesystems will be improperly umounted"
        kexec -e
      '';
    };

    kexec_tarball = mkForceIfSubmodule (pkgs.callPackage "${toString modulesPath}/../lib/make-system-tarball.nix" {
      storeContents = [
        {
          object = config.system.build.kexec_script;
          symlink = "/kexec_nixos";
        }
      ];
      contents = [ ];
    });

    kexec_tarball_self_extract_script = pkgs.writeTextFile {
      executable = true;
      name = "kexec-nixos";
      text = ''
        #!/bin/sh
        set -eu
        ARCHIVE=`awk '/^__ARCHIVE_BELOW__/ { print NR + 1; exit 0; }' $0`

        tail -n+$ARCHIVE $0 | tar xJ -C /
        /kexec_nixos

        exit 1

        __ARCHIVE_BELOW__
      '';
    };

    kexec_bundle = pkgs.runCommand "kexec_bundle" { } ''
      cat \
        ${kexec_tarball_self_extract_script} \
        ${config.system.build.kexec_tarball}/tarball/nixos-system-${config.system.build.kexec_tarball.system}.tar.xz \
        > $out
      chmod +x $out
    '';
  };

  boot.loader.grub.enable = lib.mkForce false;
  boot.loader.systemd-boot.enable = lib.mkForce false;
  boot.kernelParams = [
    "console=ttyS0,115200"
    "panic=30"
    "boot.panic_on_fail"
  ];
  systemd.services.sshd.wantedBy = lib.mkForce [ "multi-user.target" ];
  networking.hostName = lib.mkDefault "kexec";

  boot.initrd.postMountCommands = lib.mkIf (!(config.boot.initrd.systemd.enable or false)) ''
    mkdir -p /mnt-root/root/.ssh/
    cp /authorized_keys /mnt-root/root/.ssh/
  '';

  nixos-generate.format = lib.mkDefault "kexec";
}
