# Shared by the vm formats: reads what nixpkgs' virtualisation/qemu-vm.nix (imported by
# the format) made of the configuration and exports system.build.imagePlan as a vm plan
# (docs/image-plan.md): what the runner bin/run-<system.name>-vm starts, and for
# useBootLoader the disk it boots (make-disk-image's systemImage, as a disk plan).
# Nix builds the system and regInfo (the closureInfo qemu-vm.nix passes on the kernel
# command line), never the runner or a disk. Settings the runner cannot honour stop the
# build with one line (common.nix planOrRefusal).
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  lib,
  pkgs,
  options,
  ...
}:
let
  cfg = config.nixos-generate;
  hostPkgs = config.virtualisation.host.pkgs or pkgs;
  toplevel = config.system.build.toplevel;

  # qemu-vm.nix: regInfo = hostPkgs.closureInfo { rootPaths = additionalPaths; }.
  regInfo = hostPkgs.closureInfo { rootPaths = config.virtualisation.additionalPaths; };

  # The definitions other modules (the configuration, vm-nogui) add to a list option that
  # qemu-vm.nix also defines: the runner writes qemu-vm.nix's own items itself.
  fromOtherModules =
    option:
    lib.concatMap (d: d.value) (
      lib.filter (d: !(lib.hasSuffix "virtualisation/qemu-vm.nix" (toString d.file))) option.definitionsWithLocations
    );

  # make-disk-image's layout for the system image (qemu-vm.nix selectPartitionTableLayout).
  partitionTableType = if config.virtualisation.useEFIBoot then "efi" else "legacy";

  refusal = option: value: hint: { inherit option value hint; };
  refusals =
    lib.optional config.virtualisation.useNixStoreImage (refusal "virtualisation.useNixStoreImage" true "the runner shares the host's store over 9p (mountHostNixStore) or boots the disk's own (useBootLoader)")
    ++ lib.optional config.virtualisation.tpm.enable (refusal "virtualisation.tpm.enable" true "the runner does not start swtpm; leave the TPM off")
    ++ lib.optional config.virtualisation.useSecureBoot (refusal "virtualisation.useSecureBoot" true "the runner boots the host's OVMF without Secure Boot keys")
    ++ lib.optional (config.virtualisation.emptyDiskImages != [ ]) (refusal "virtualisation.emptyDiskImages" config.virtualisation.emptyDiskImages "the runner attaches only the root disk; add drives with QEMU_OPTS or virtualisation.qemu.options")
    ++ lib.optional config.virtualisation.useHostCerts (refusal "virtualisation.useHostCerts" true "the runner does not share the host's certificates; share a directory with virtualisation.sharedDirectories")
    ++ lib.optional ((config.virtualisation.credentials or { }) != { }) (refusal "virtualisation.credentials" (lib.attrNames config.virtualisation.credentials) "the runner passes no systemd credentials; use QEMU_OPTS with -fw_cfg or -smbios")
    ++ lib.optional (config.virtualisation.qemu.diskInterface == "scsi") (refusal "virtualisation.qemu.diskInterface" "scsi" "the runner attaches the disk as virtio-blk; use \"virtio\"")
    ++ lib.optional (fromOtherModules options.virtualisation.qemu.drives != [ ]) (refusal "virtualisation.qemu.drives" (map (d: d.file) (fromOtherModules options.virtualisation.qemu.drives)) "the runner attaches only the root disk; add drives with QEMU_OPTS or virtualisation.qemu.options")
    ++ lib.optional (config.virtualisation.useBIOSBoot or false) (refusal "virtualisation.useBIOSBoot" true "the system image is written with GRUB in the MBR gap (\"legacy\") or an ESP (useEFIBoot), not with a BOOT partition")
    ++ lib.optional (config.virtualisation.useBootLoader && !config.virtualisation.useEFIBoot && !pkgs.stdenv.hostPlatform.isx86) (refusal "virtualisation.useEFIBoot" false "without it the system image gets GRUB for a PC BIOS, which ${pkgs.stdenv.hostPlatform.system} does not have; set virtualisation.useEFIBoot = true")
    ++ lib.optional (config.virtualisation.useBootLoader && !config.virtualisation.useDefaultFilesystems) (refusal "virtualisation.useDefaultFilesystems" false "vm-bootloader writes the system image with qemu-vm.nix's default filesystems")
    ++ lib.optional (config.virtualisation.useBootLoader && config.virtualisation.directBoot.enable) (refusal "virtualisation.directBoot.enable" true "with useBootLoader the runner boots the disk's boot loader, not the kernel")
    ++ lib.optional (!config.virtualisation.useBootLoader && !config.virtualisation.directBoot.enable) (refusal "virtualisation.directBoot.enable" false "without useBootLoader the runner boots the kernel directly; nothing else would boot")
    ++ lib.optional (config.virtualisation.useBootLoader && config.virtualisation.diskImage == null) (refusal "virtualisation.diskImage" null "vm-bootloader boots from the disk; give it a path")
    ++ map (f: refusal "virtualisation.forwardPorts" f "guest forwards need proto tcp and a guest.address in 10.0.2.0/24, as qemu-vm.nix asserts") (
      lib.filter (f: f.from == "guest" && (f.proto != "tcp" || builtins.match "10\\.0\\.2\\..*" f.guest.address == null)) config.virtualisation.forwardPorts
    );

  runner = {
    name = config.system.name;
    regInfo = "${regInfo}";
    inherit (config.virtualisation) memorySize cores diskImage graphics restrictNetwork useEFIBoot;
    diskSize = config.virtualisation.diskSize;
    inherit (config.virtualisation.qemu) consoles virtioKeyboard;
    directBoot =
      if config.virtualisation.directBoot.enable then
        {
          kernel = "${toplevel}/kernel";
          initrd = "${config.virtualisation.directBoot.initrd}";
        }
      else
        null;
    shares = lib.mapAttrsToList (tag: share: {
      inherit tag;
      inherit (share) source securityModel;
    }) config.virtualisation.sharedDirectories;
    forwardPorts = map (f: {
      inherit (f) from proto;
      host = { inherit (f.host) address port; };
      guest = { inherit (f.guest) address port; };
    }) config.virtualisation.forwardPorts;
    networkingOptions = fromOtherModules options.virtualisation.qemu.networkingOptions;
    qemuOptions = fromOtherModules options.virtualisation.qemu.options;
    bios = if config.virtualisation.bios == null then null else "${config.virtualisation.bios}/bios.bin";
    sharedMemory = config.virtualisation.qemu.enableSharedMemory or false;
    forceAccel = config.virtualisation.qemu.forceAccel or false;
  };
in
{
  imports = [ ./image-plan.nix ];

  # The runner sizes the disk itself: "auto" (--disk-size auto) is the format's default
  # size, where qemu-vm.nix's runner would fail its assertion.
  virtualisation.diskSizeAutoSupported = lib.mkForce true;

  nixos-generate = {
    inherit partitionTableType;
    writesDisk = config.virtualisation.useBootLoader;
    additionalSpace = 512;
    output = {
      container = "qcow2";
      fileName = "nixos.qcow2";
      compression = "none";
    };
    refusals = refusals;
    plan = {
      version = 1;
      kind = "vm";
      inherit (cfg) format;
      toplevel = "${toplevel}";
      vm = runner;
      # make-disk-image's systemImage: nixos.qcow2, its store holding regInfo's closure too.
      disk = if config.virtualisation.useBootLoader then cfg.diskPlan else null;
      output = {
        container = "vm-runner";
        fileName = "bin/run-${config.system.name}-vm";
        compression = "none";
      };
    };
  };
}
