# Imitates nixos/modules/virtualisation/qemu-vm.nix (the NixOS 25.05 state): the
# virtualisation.* options of a QEMU VM of the configuration, with NixOS's names, types
# and defaults, and what the module does to the configuration: the 9p shares (the host's
# store on /nix/.ro-store under a tmpfs-backed overlay on /nix/store, xchg, shared), the
# root filesystem from the disk labelled nixos (or a tmpfs without a disk image), all of
# it put into fileSystems with mkVMOverride, GRUB on bootLoaderDevice, no swap, the
# guest profile (../profiles/qemu-guest.nix), diskSizeAutoSupported = false, and the
# module's own items of qemu.options (direct boot with regInfo, the closure of
# additionalPaths from pkgs.closureInfo, on the kernel command line), qemu.networkingOptions,
# qemu.drives and sharedDirectories, so that a runner can read them. Like NixOS, it is in
# no module list: formats import it (nixos-generators' formats/vm.nix does).
#
# Left out:
#  - system.build.vm (the runner script and its derivation) and the systemImage that
#    useBootLoader builds with make-disk-image: both need QEMU, which the stand-in
#    cannot build (nixos-generate writes its own runner and disk);
#  - virtualisation.qemu.package, host.pkgs (hostPkgs is pkgs), efi.OVMF, efi.firmware,
#    efi.variables (the stand-in has no QEMU or OVMF package), tpm.package and
#    tpm.provisioning (no swtpm), resolution (it types itself after services.xserver),
#    vlans and interfaces (test driver only), networking.primaryIPAddress and
#    primaryIPv6Address, and the renamed/removed option modules (pathsInNixDB,
#    bootDevice, efiVars, persistBootDevice);
#  - the qemu.options items that need those packages: the EFI pflash drives
#    (useEFIBoot) and the SMM machine options of a Secure Boot OVMF;
#  - definitions of options the stand-in does not declare: the regInfo
#    boot.postBootCommands (no nix.* options), services.timesyncd.enable,
#    services.connman.enable, services.xserver.*, networking.dhcpcd.extraConfig,
#    networking.usePredictableInterfaceNames, boot.initrd.luks.devices,
#    boot.loader.supportsInitrdSecrets, boot.loader.grub.gfxmodeBios,
#    boot.loader.limine.biosDevice, security.pki.installCACerts,
#    system.requiredKernelConfig, the /tmp tmpfs of boot.tmp.useTmpfs, and the
#    assertion that installBootLoader needs system.switch.enable;
#  - pkgs.netcat: a guest forward (forwardPorts with from = "guest") makes its
#    networkingOptions item fail with a message when it is read.
{ config, lib, pkgs, options, ... }:
let
  inherit (lib) mkOption mkIf mkMerge mkVMOverride types;
  cfg = config.virtualisation;
  hostPlatform = pkgs.stdenv.hostPlatform;

  # nixos/lib/qemu-common.nix: the guest's serial console.
  serialDevice =
    if hostPlatform.isx86 then "ttyS0"
    else if hostPlatform.isAarch then "ttyAMA0"
    else throw "The stand-in knows no QEMU serial console for ${hostPlatform.system}.";

  consoles = lib.concatMapStringsSep " " (c: "console=${c}") cfg.qemu.consoles;

  # The closure registered in the VM's Nix database; its path goes on the kernel
  # command line only (the toplevel cannot refer to its own closure).
  regInfo = pkgs.closureInfo { rootPaths = cfg.additionalPaths; };

  rootFilesystemLabel = "nixos";
  espFilesystemLabel = "ESP";
  nixStoreFilesystemLabel = "nix-store";
  # The root disk has no label of its own to find it by: QEMU gives it this serial,
  # which the guest sees as /dev/disk/by-id/virtio-root.
  rootDriveSerialAttr = "root";

  # The system name as a shell identifier (NIXPKGS_QEMU_KERNEL_<name>).
  shellIdent = s: lib.concatStringsSep "_" (lib.filter lib.isString (builtins.split "[^A-Za-z0-9]" s));

  driveOpts = { ... }: {
    options = {
      file = mkOption {
        type = types.str;
        description = "The image file of the drive.";
      };
      driveExtraOpts = mkOption {
        type = types.attrsOf types.str;
        default = { };
        description = "More key=value options of QEMU's -drive.";
      };
      deviceExtraOpts = mkOption {
        type = types.attrsOf types.str;
        default = { };
        description = "More key=value options of QEMU's -device.";
      };
      name = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "A name for the drive, unique among the drives (not given to QEMU).";
      };
    };
  };

  forwardOpts = {
    options.from = mkOption {
      type = types.enum [ "host" "guest" ];
      default = "host";
      description = "Which side's port is forwarded: \"host\" forwards a host port to the guest, \"guest\" a guest port to the host.";
    };
    options.proto = mkOption {
      type = types.enum [ "tcp" "udp" ];
      default = "tcp";
      description = "The forwarded protocol.";
    };
    options.host.address = mkOption {
      type = types.str;
      default = "";
      description = "The host's IPv4 address.";
    };
    options.host.port = mkOption {
      type = types.port;
      description = "The host's port.";
    };
    options.guest.address = mkOption {
      type = types.str;
      default = "";
      description = "The guest's IPv4 address in the user network.";
    };
    options.guest.port = mkOption {
      type = types.port;
      description = "The guest's port.";
    };
  };

  sharedDirectoryOpts = {
    options.source = mkOption {
      type = types.str;
      description = "The host directory to share (shell syntax such as variables is allowed).";
    };
    options.target = mkOption {
      type = types.path;
      description = "Where the guest mounts it.";
    };
    options.securityModel = mkOption {
      type = types.enum [ "passthrough" "mapped-xattr" "mapped-file" "none" ];
      default = "mapped-xattr";
      description = "QEMU's 9p security model for the share.";
    };
  };
in
{
  imports = [
    ../profiles/qemu-guest.nix
    ./disk-size-option.nix
  ];

  options = {
    virtualisation.fileSystems = options.fileSystems;

    virtualisation.memorySize = mkOption {
      type = types.ints.positive;
      default = 1024;
      description = "Memory of the VM, in MiB.";
    };
    virtualisation.msize = mkOption {
      type = types.ints.positive;
      default = 16384;
      description = "The 9p msize (largest message, in bytes) of the shared directories.";
    };
    virtualisation.diskImage = mkOption {
      type = types.nullOr types.str;
      default = "./${config.system.name}.qcow2";
      defaultText = lib.literalExpression ''"./''${config.system.name}.qcow2"'';
      description = "The disk image holding the root filesystem, created at the first start when missing; null: the root is a tmpfs.";
    };
    virtualisation.bootLoaderDevice = mkOption {
      type = types.path;
      default = "/dev/disk/by-id/virtio-${rootDriveSerialAttr}";
      description = "The device (as the VM sees it) a BIOS boot loader is installed on.";
    };
    virtualisation.bootPartition = mkOption {
      type = types.nullOr types.path;
      default =
        if cfg.useEFIBoot then "/dev/disk/by-label/${espFilesystemLabel}"
        else if cfg.useBIOSBoot then "/dev/disk/by-label/BOOT"
        else null;
      description = "The partition (as the VM sees it) mounted on the ESP mount point, or null.";
    };
    virtualisation.rootDevice = mkOption {
      type = types.nullOr types.path;
      default = "/dev/disk/by-label/${rootFilesystemLabel}";
      description = "The device (as the VM sees it) of the root filesystem.";
    };
    virtualisation.emptyDiskImages = mkOption {
      type = types.listOf types.ints.positive;
      default = [ ];
      description = "Sizes in MiB of more, empty, writable disks for the VM.";
    };
    virtualisation.graphics = mkOption {
      type = types.bool;
      default = true;
      description = "Whether QEMU shows a graphics window; false runs it with -nographic and makes the serial console the preferred one.";
    };
    virtualisation.cores = mkOption {
      type = types.ints.positive;
      default = 1;
      description = "Number of CPUs of the VM.";
    };
    virtualisation.sharedDirectories = mkOption {
      type = types.attrsOf (types.submodule sharedDirectoryOpts);
      default = { };
      description = "Host directories shared with the VM over 9p (virtio), by mount tag.";
    };
    virtualisation.additionalPaths = mkOption {
      type = types.listOf types.path;
      default = [ ];
      description = "Store paths whose closure is registered in the VM's Nix database (or copied into the store image).";
    };
    virtualisation.forwardPorts = mkOption {
      type = types.listOf (types.submodule forwardOpts);
      default = [ ];
      description = "Ports forwarded between the host and the guest through QEMU's user networking.";
    };
    virtualisation.restrictNetwork = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the guest is cut off from the host and the outside (forwarded ports still work).";
    };
    virtualisation.writableStore = mkOption {
      type = types.bool;
      default = cfg.mountHostNixStore;
      defaultText = lib.literalExpression "cfg.mountHostNixStore";
      description = "Whether the VM's store is writable, as an overlay over the shared one.";
    };
    virtualisation.writableStoreUseTmpfs = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the overlay's writable layer is a tmpfs (else the root filesystem).";
    };

    virtualisation.qemu = {
      options = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "Options given to QEMU.";
      };
      consoles = mkOption {
        type = types.listOf types.str;
        default =
          let both = [ "${serialDevice},115200n8" "tty0" ];
          in if cfg.graphics then both else lib.reverseList both;
        description = "The console= devices of the kernel command line; the last one is the preferred console.";
      };
      networkingOptions = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "QEMU's networking options (the module adds user networking).";
      };
      drives = mkOption {
        type = types.listOf (types.submodule driveOpts);
        description = "The drives given to QEMU.";
      };
      diskInterface = mkOption {
        type = types.enum [ "virtio" "scsi" "ide" ];
        default = "virtio";
        description = "How the disks are attached.";
      };
      guestAgent.enable = mkOption {
        type = types.bool;
        default = true;
        description = "Whether to run the QEMU guest agent.";
      };
      virtioKeyboard = mkOption {
        type = types.bool;
        default = true;
        description = "Whether the VM has a virtio keyboard.";
      };
    };

    virtualisation.useNixStoreImage = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the store comes from an image built when the VM starts, instead of the host's over 9p.";
    };
    virtualisation.mountHostNixStore = mkOption {
      type = types.bool;
      default = !cfg.useNixStoreImage && !cfg.useBootLoader;
      defaultText = lib.literalExpression "!cfg.useNixStoreImage && !cfg.useBootLoader";
      description = "Whether the host's store is shared with the VM over 9p.";
    };
    virtualisation.directBoot = {
      enable = mkOption {
        type = types.bool;
        default = !cfg.useBootLoader;
        defaultText = "!cfg.useBootLoader";
        description = "Whether QEMU boots the kernel and initrd itself rather than through a boot loader.";
      };
      initrd = mkOption {
        type = types.str;
        default = "${config.system.build.initialRamdisk}/${config.system.boot.loader.initrdFile}";
        defaultText = "\${config.system.build.initialRamdisk}/\${config.system.boot.loader.initrdFile}";
        description = "The initrd QEMU boots directly.";
      };
    };
    virtualisation.useBootLoader = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the VM boots from a disk image through the system's boot loader.";
    };
    virtualisation.installBootLoader = mkOption {
      type = types.bool;
      default = cfg.useBootLoader && cfg.useDefaultFilesystems;
      defaultText = "cfg.useBootLoader && cfg.useDefaultFilesystems";
      description = "Whether the boot loader is installed into the system image.";
    };
    virtualisation.useBIOSBoot = lib.mkEnableOption null // {
      description = "Whether a BIOS (MBR) system image gets a separate boot partition on /boot (ignored with useEFIBoot).";
    };
    virtualisation.useEFIBoot = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the VM has UEFI firmware.";
    };
    virtualisation.efi.keepVariables = mkOption {
      type = types.bool;
      default = cfg.useBootLoader;
      defaultText = lib.literalExpression "cfg.useBootLoader";
      description = "Whether the EFI variables start from the system image's.";
    };
    virtualisation.tpm = {
      enable = lib.mkEnableOption "a TPM device in the virtual machine with a driver, using swtpm";
      deviceModel = mkOption {
        type = types.str;
        default = {
          "i686-linux" = "tpm-tis";
          "x86_64-linux" = "tpm-tis";
          "ppc64-linux" = "tpm-spapr";
          "armv7-linux" = "tpm-tis-device";
          "aarch64-linux" = "tpm-tis-device";
        }.${hostPlatform.system} or (throw "No QEMU TPM device model for ${hostPlatform.system}.");
        description = "QEMU's TPM device model.";
      };
    };
    virtualisation.useDefaultFilesystems = mkOption {
      type = types.bool;
      default = true;
      description = "Whether the VM gets the module's filesystems (and no swap); else the configuration supplies its own root.";
    };
    virtualisation.useSecureBoot = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the EFI firmware supports Secure Boot.";
    };
    virtualisation.bios = mkOption {
      type = types.nullOr types.package;
      default = null;
      description = "Another BIOS for QEMU (a package with bios.bin), or null for SeaBIOS.";
    };
    virtualisation.useHostCerts = mkOption {
      type = types.bool;
      default = false;
      description = "Whether the host's CA certificates ($NIX_SSL_CERT_FILE) are shared with the VM.";
    };
  };

  config = {
    assertions =
      lib.concatLists (lib.imap1 (i: rule: [
        {
          assertion = rule.from == "guest" -> rule.proto == "tcp";
          message = "virtualisation.forwardPorts entry ${toString i}: a guest forward can only be TCP (proto = \"tcp\").";
        }
        {
          assertion = rule.from == "guest" -> lib.hasPrefix "10.0.2." rule.guest.address;
          message = "virtualisation.forwardPorts entry ${toString i}: a guest forward's guest.address must be in the user network 10.0.2.0/24.";
        }
      ]) cfg.forwardPorts)
      ++ [
        {
          assertion = hostPlatform.is32bit -> cfg.memorySize < 2047;
          message = "virtualisation.memorySize must be below 2047 for a 32-bit guest (QEMU's limit).";
        }
        {
          assertion = cfg.directBoot.enable || cfg.directBoot.initrd == options.virtualisation.directBoot.initrd.default;
          message = "virtualisation.directBoot.initrd is set but direct boot is off, so that initrd would not be used: enable virtualisation.directBoot.enable or leave the initrd alone.";
        }
      ];

    warnings = lib.optional (cfg.directBoot.enable && cfg.useBootLoader)
      "virtualisation.directBoot.enable and virtualisation.useBootLoader are both on: QEMU boots the kernel directly and never runs the boot loader.";

    # GRUB on the root disk for BIOS; with UEFI only the menu ("nodev").
    boot.loader.grub.device = mkVMOverride (if cfg.useEFIBoot then "nodev" else cfg.bootLoaderDevice);

    boot.initrd.availableKernelModules =
      lib.optional (cfg.qemu.diskInterface == "scsi") "sym53c8xx"
      ++ lib.optional cfg.tpm.enable "tpm_tis";

    virtualisation.additionalPaths = [ config.system.build.toplevel ];

    virtualisation.sharedDirectories = {
      # Always on /nix/.ro-store: the VM never writes into the host's store.
      nix-store = mkIf cfg.mountHostNixStore {
        source = builtins.storeDir;
        target = "/nix/.ro-store";
        securityModel = "none";
      };
      xchg = {
        source = ''"$TMPDIR"/xchg'';
        target = "/tmp/xchg";
        securityModel = "none";
      };
      shared = {
        source = ''"''${SHARED_DIR:-$TMPDIR/xchg}"'';
        target = "/tmp/shared";
        securityModel = "none";
      };
      certs = mkIf cfg.useHostCerts {
        source = ''"$TMPDIR"/certs'';
        target = "/etc/ssl/certs";
        securityModel = "none";
      };
    };

    virtualisation.qemu.networkingOptions =
      let
        forward = { from, proto, host, guest }:
          if from == "host" then
            "hostfwd=${proto}:${host.address}:${toString host.port}-${guest.address}:${toString guest.port},"
          else
            "'guestfwd=${proto}:${guest.address}:${toString guest.port}-cmd:${pkgs.netcat or (throw "virtualisation.forwardPorts: a guest forward runs netcat, which the stand-in nixpkgs does not have.")}/bin/nc ${host.address} ${toString host.port}',";
        forwards = lib.concatMapStrings forward cfg.forwardPorts;
        restrict = lib.optionalString cfg.restrictNetwork "restrict=on,";
      in [
        "-net nic,netdev=user.0,model=virtio"
        "-netdev user,id=user.0,${forwards}${restrict}\"$QEMU_NET_OPTS\""
      ];

    virtualisation.qemu.options = mkMerge [
      (mkIf cfg.qemu.virtioKeyboard [ "-device virtio-keyboard" ])
      (mkIf hostPlatform.isx86 [ "-usb" "-device usb-tablet,bus=usb-bus.0" ])
      (mkIf hostPlatform.isAarch [ "-device virtio-gpu-pci" "-device usb-ehci,id=usb0" "-device usb-kbd" "-device usb-tablet" ])
      (mkIf cfg.directBoot.enable [
        "-kernel \${NIXPKGS_QEMU_KERNEL_${shellIdent config.system.name}:-${config.system.build.toplevel}/kernel}"
        "-initrd ${cfg.directBoot.initrd}"
        ''-append "$(cat ${config.system.build.toplevel}/kernel-params) init=${config.system.build.toplevel}/init regInfo=${regInfo}/registration ${consoles} $QEMU_KERNEL_PARAMS"''
      ])
      (mkIf (cfg.bios != null) [ "-bios ${cfg.bios}/bios.bin" ])
      (mkIf (!cfg.graphics) [ "-nographic" ])
      (mkIf cfg.tpm.enable [
        "-chardev socket,id=chrtpm,path=\"$NIX_SWTPM_DIR\"/socket.ctrl"
        "-tpmdev emulator,id=tpm_dev_0,chardev=chrtpm"
        "-device ${cfg.tpm.deviceModel},tpmdev=tpm_dev_0"
      ])
    ];

    virtualisation.qemu.drives = mkMerge [
      (mkIf (cfg.diskImage != null) [ {
        name = "root";
        file = ''"$NIX_DISK_IMAGE"'';
        driveExtraOpts.cache = "writeback";
        driveExtraOpts.werror = "report";
        deviceExtraOpts.bootindex = "1";
        deviceExtraOpts.serial = rootDriveSerialAttr;
      } ])
      (mkIf cfg.useNixStoreImage [ {
        name = "nix-store";
        file = ''"$TMPDIR"/store.img'';
        deviceExtraOpts.bootindex = "2";
        driveExtraOpts.format = "raw";
      } ])
      (lib.imap0 (idx: _: {
        file = "$(pwd)/empty${toString idx}.qcow2";
        driveExtraOpts.werror = "report";
      }) cfg.emptyDiskImages)
    ];

    # The VM's filesystems replace the configuration's (mkVMOverride), so that a
    # system's own configuration runs as a VM; virtualisation.fileSystems = mkForce { }
    # keeps the configuration's.
    fileSystems = mkIf (cfg.fileSystems != { }) (mkVMOverride cfg.fileSystems);

    virtualisation.diskSizeAutoSupported = false;

    virtualisation.fileSystems =
      let
        shareFileSystem = tag: share: {
          name = share.target;
          value = {
            device = tag;
            fsType = "9p";
            neededForBoot = true;
            options = [
              "trans=virtio"
              "version=9p2000.L"
              "msize=${toString cfg.msize}"
              "x-systemd.requires=modprobe@9pnet_virtio.service"
            ] ++ lib.optional (tag == "nix-store") "cache=loose";
          };
        };
      in
      mkMerge [
        (lib.mapAttrs' shareFileSystem cfg.sharedDirectories)
        {
          "/" = mkIf cfg.useDefaultFilesystems (
            if cfg.diskImage == null then {
              device = "tmpfs";
              fsType = "tmpfs";
              options = [ "mode=755" ];
            } else {
              device = cfg.rootDevice;
              fsType = "ext4";
            });
          "/nix/store" = mkIf (cfg.useNixStoreImage || cfg.mountHostNixStore) (
            if cfg.writableStore then {
              overlay = {
                lowerdir = [ "/nix/.ro-store" ];
                upperdir = "/nix/.rw-store/upper";
                workdir = "/nix/.rw-store/work";
              };
            } else {
              device = "/nix/.ro-store";
              options = [ "bind" ];
            });
          "/nix/.ro-store" = mkIf cfg.useNixStoreImage {
            device = "/dev/disk/by-label/${nixStoreFilesystemLabel}";
            fsType = "erofs";
            neededForBoot = true;
            options = [ "ro" ];
          };
          "/nix/.rw-store" = mkIf (cfg.writableStore && cfg.writableStoreUseTmpfs) {
            fsType = "tmpfs";
            options = [ "mode=0755" ];
            neededForBoot = true;
          };
          "${config.boot.loader.efi.efiSysMountPoint}" = mkIf (cfg.useBootLoader && cfg.bootPartition != null) {
            device = cfg.bootPartition;
            fsType = "vfat";
          };
        }
      ];

    swapDevices = (if cfg.useDefaultFilesystems then mkVMOverride else lib.mkDefault) [ ];

    services.qemuGuest.enable = cfg.qemu.guestAgent.enable;

    # No wireless in a VM.
    networking.wireless.enable = mkVMOverride false;
  };
}
