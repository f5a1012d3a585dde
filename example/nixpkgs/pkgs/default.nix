# The stand-in's package set: a few packages made from Debian 12 .deb files
# with Nix's bare `derivation`, a static busybox being the only builder.
# `system` is the platform the packages are for (x86_64-linux or aarch64-linux).
# Every derivation only unpacks and arranges files, so all of them run on
# x86_64-linux whatever `system` is: an aarch64-linux system is built on an
# x86_64 machine without emulation. (Real nixpkgs builds aarch64-linux derivations
# for it, on an aarch64 builder or from the binary cache, or cross-compiles with
# nixpkgs.buildPlatform.) `buildPackages` is the x86_64-linux set, for what runs in builds.
{ system ? "x86_64-linux" }:
let
  lib = import ../lib;
  debs = import ./debs.nix { inherit system; };
  platform = lib.systems.elaborate system;
  isx86_64 = system == "x86_64-linux";

  buildSystem = "x86_64-linux";
  checkedSystem =
    if builtins.elem system [ "x86_64-linux" "aarch64-linux" ] then buildSystem
    else throw "The example's stand-in nixpkgs builds for x86_64-linux and aarch64-linux only (asked for ${system}).";
  # A package the stand-in makes for aarch64-linux only.
  aarch64Only = name: value:
    if platform.isAarch64 then value
    else throw "The example's stand-in nixpkgs has no ${name} for ${system} (it has one for aarch64-linux).";
  # A package the stand-in makes for x86_64-linux only.
  x86Only = name: value:
    if isx86_64 then value
    else throw "The example's stand-in nixpkgs has no ${name} for ${system} (it has one for x86_64-linux).";

  bootstrapBusybox = "${debs.bootstrap}/bin/busybox";
  # Where Debian keeps the platform's libraries, and its glibc loader.
  debianTriplet = if isx86_64 then "x86_64-linux-gnu" else "aarch64-linux-gnu";
  loader = if isx86_64 then "ld-linux-x86-64.so.2" else "ld-linux-aarch64.so.1";

  # derivation wrapper: the builder is busybox sh, the script is passed as a
  # file (passAsFile), every busybox applet is on PATH, plus the bin/ of
  # nativeBuildInputs/buildInputs.
  runCommandWith = { name, env ? { }, buildCommand }:
    let
      passthru = env.passthru or { };
      inputs = (env.nativeBuildInputs or [ ]) ++ (env.buildInputs or [ ]);
      drvEnv = removeAttrs env [ "passthru" "meta" "nativeBuildInputs" "buildInputs" "passAsFile" ];
      drv = derivation (drvEnv // {
        inherit name buildCommand bootstrapBusybox;
        system = checkedSystem;
        builder = bootstrapBusybox;
        args = [ "sh" "-e" "-c" ". ${./stdenv/setup.sh}\n. \"$buildCommandPath\"" ];
        passAsFile = [ "buildCommand" ] ++ (env.passAsFile or [ ]);
        inputsPath = lib.makeBinPath inputs;
      });
    in
    drv // passthru // { meta = env.meta or { }; inherit passthru; };

  runCommand = name: env: buildCommand: runCommandWith { inherit name env buildCommand; };

  writeTextFile = { name, text, executable ? false, destination ? "", checkPhase ? "" }:
    runCommand name { inherit text executable destination; passAsFile = [ "text" ]; } ''
      target="$out$destination"
      mkdir -p "$(dirname "$target")"
      cp "$textPath" "$target"
      if [ -n "$executable" ]; then chmod 0555 "$target"; else chmod 0444 "$target"; fi
      ${checkPhase}
    '';

  pkgs = {
    inherit lib system runCommand runCommandWith writeTextFile;
    buildPackages = if system == buildSystem then pkgs else import ./. { system = buildSystem; };
    path = ../.;
    pkgs = pkgs;
    config = { };
    # A function's arguments filled from the package set, as nixpkgs' callPackage does.
    callPackage = fn: args:
      let f = if builtins.isFunction fn then fn else import fn;
      in f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);

    # A derivation, as nixpkgs' stdenv is (docker-container.nix puts it in the image):
    # its setup script.
    stdenv = {
      outPath = (runCommand "stdenv-linux" { } ''
        mkdir -p "$out"
        cp ${./stdenv/setup.sh} "$out/setup"
      '').outPath;
      type = "derivation";
      name = "stdenv-linux";
      hostPlatform = platform;
      buildPlatform = pkgs.stdenv.hostPlatform;
      targetPlatform = pkgs.stdenv.hostPlatform;
      inherit system;
      isLinux = true;
      inherit isx86_64;
      isAarch64 = platform.isAarch64;
      shell = "${pkgs.bash}/bin/bash";
    };
    stdenvNoCC = pkgs.stdenv;
    runCommandLocal = runCommand;
    runCommandNoCC = runCommand;
    runCommandCC = runCommand;

    writeText = name: text: writeTextFile { inherit name text; };
    writeTextDir = path: text: writeTextFile { name = baseNameOf path; inherit text; destination = "/${path}"; };
    writeScript = name: text: writeTextFile { inherit name text; executable = true; };
    writeScriptBin = name: text: writeTextFile { inherit name text; executable = true; destination = "/bin/${name}"; };
    writeShellScript = name: text: writeTextFile {
      inherit name;
      executable = true;
      text = "#!${pkgs.busybox}/bin/sh\n${text}";
    };
    writeShellScriptBin = name: text: writeTextFile {
      inherit name;
      executable = true;
      destination = "/bin/${name}";
      text = "#!${pkgs.busybox}/bin/sh\n${text}";
    };
    # A directory of symlinks: [ { name; path; } ] (nixpkgs also takes an attribute set).
    linkFarm = name: entries:
      let list = if builtins.isList entries then entries else lib.mapAttrsToList (name: path: { inherit name path; }) entries;
      in runCommand name { links = lib.concatMapStrings (e: "${e.name} ${e.path}\n") list; passAsFile = [ "links" ]; } ''
        mkdir -p "$out"
        while read -r name path; do
          [ -n "$name" ] || continue
          mkdir -p "$(dirname "$out/$name")"
          ln -s "$path" "$out/$name"
        done <"$linksPath"
      '';
    symlinkJoin = { name, paths, postBuild ? "", ... }:
      runCommand name { inherit paths; } ''
        mkdir -p "$out"
        for p in $paths; do
          (cd "$p" && find . ! -type d | sed 's|^\./||') | while read -r f; do
            mkdir -p "$(dirname "$out/$f")"
            [ -e "$out/$f" ] || [ -L "$out/$f" ] || ln -s "$p/$f" "$out/$f"
          done
        done
        ${postBuild}
      '';

    # --- packages from .deb files ----------------------------------------
    busybox = runCommand "busybox-${debs.busybox-static.upstreamVersion}" {
      deb = debs.busybox-static.file;
      passthru = { version = debs.busybox-static.upstreamVersion; debianVersion = debs.busybox-static.version; };
    } ''
      unpackDeb "$deb" root
      mkdir -p "$out/bin"
      cp root/bin/busybox "$out/bin/busybox"
      chmod 0555 "$out/bin/busybox"
      # The applet list of the build machine's busybox: the same Debian configuration.
      for applet in $("$bootstrapBusybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$out/bin/$applet"
      done
    '';

    # The kernel: bzImage, System.map, config and lib/modules/<modDirVersion>.
    # `linux` keeps a selection of modules (storage, filesystems, virtio) and
    # their dependencies; `linux_full` keeps all of Debian's modules.
    linux = pkgs.callKernel { keepModules = pkgs.kernelModuleSelection; };
    linux_full = pkgs.callKernel { keepModules = null; };
    callKernel = { keepModules }: import ./linux { inherit lib runCommand debs keepModules; kernelFile = platform.linux-kernel.target; };
    kernelModuleSelection = [
      # block devices and controllers
      "virtio_pci" "virtio_blk" "virtio_scsi" "sd_mod" "sr_mod" "ahci" "ata_piix"
      "nvme" "xhci_pci" "ehci_pci" "ohci_pci" "usb_storage" "uas" "loop"
      "hv_vmbus" "hv_storvsc" "hv_utils" "mptspi" "xen_blkfront"
      # other virtual hardware
      "virtio_net" "virtio_mmio" "virtio_rng" "virtio_console" "virtio_balloon" "e1000" "e1000e" "hv_netvsc" "vmxnet3"
      "virtio_gpu" "9pnet_virtio"
      # filesystems and their helpers
      "ext4" "vfat" "nls_cp437" "nls_ascii" "nls_iso8859_1" "nls_utf8" "isofs" "squashfs" "overlay" "9p"
      "efivarfs" "crc32c_generic"
    ] ++ (if isx86_64 then [ "uhci_hcd" "vmw_pvscsi" "crc32c_intel" ]
      # The Raspberry Pi's SD card and USB controllers (Debian's arm64 kernel has no uhci_hcd).
      else [ "pcie_brcmstb" "sdhci_iproc" "dwc2" ]);
    linuxPackages = { kernel = pkgs.linux; };
    linuxPackages_full = { kernel = pkgs.linux_full; };
    linuxPackages_latest = pkgs.linuxPackages;
    linuxPackagesFor = kernel: { inherit kernel; };

    # GRUB shaped like nixpkgs' grub2 (pkgs/by-name/gr/grub2/package.nix): one
    # platform per build, `grubTarget` naming it, `override { efiSupport = true; }`
    # for the EFI build (grub2_efi is exactly that, as in all-packages.nix).
    # Debian's host tools in bin/ (dynamically linked against the host's
    # libraries) and the platform's modules and images in lib/grub/<target>/.
    grub2 = lib.makeOverridable pkgs.mkGrub { };
    grub2_efi = pkgs.grub2.override { efiSupport = true; };
    mkGrub = { efiSupport ? false, zfsSupport ? false, zfs ? null, xenSupport ? false }:
      let
        # As nixpkgs' grubTarget: aarch64 has no BIOS platform ("" without efiSupport),
        # and its GRUB is built for arm64-efi either way.
        platform = if !isx86_64 then "arm64-efi" else if efiSupport then "x86_64-efi" else "i386-pc";
        grubTarget = if !isx86_64 && !efiSupport then "" else platform;
        platformDeb = if !isx86_64 then debs.grub-efi-arm64-bin else if efiSupport then debs.grub-efi-amd64-bin else debs.grub-pc-bin;
      in
      if zfsSupport then throw "The stand-in's grub2 cannot be built with ZFS support (zfsSupport = true)."
      else if xenSupport then throw "The stand-in's grub2 cannot be built for Xen (xenSupport = true)."
      else runCommand "grub-${debs.grub-common.upstreamVersion}${lib.optionalString efiSupport "-${platform}"}" {
        common = debs.grub-common.file;
        platformDebFile = platformDeb.file;
        inherit platform;
        runtime = if isx86_64 then pkgs.debianRuntime else "";
        shell = "${pkgs.buildPackages.busybox}/bin/sh";
        passthru = {
          version = debs.grub-common.upstreamVersion;
          debianVersion = debs.grub-common.version;
          inherit grubTarget;
          inherit efiSupport;
        };
      } ''
        unpackDeb "$common" root
        unpackDeb "$platformDebFile" root
        [ -f "root/usr/lib/grub/$platform/kernel.img" ] || die "no kernel.img for $platform"
        mkdir -p "$out/bin" "$out/lib/grub" "$out/share"
        for f in root/usr/bin/grub-* root/usr/sbin/grub-*; do
          cp "$f" "$out/bin/"
        done
        for f in grub-bios-setup grub-ntldr-img; do
          if [ -f "root/usr/lib/grub/$platform/$f" ]; then mv "root/usr/lib/grub/$platform/$f" "$out/bin/$f"; fi
        done
        cp -R "root/usr/lib/grub/$platform" "$out/lib/grub/$platform"
        cp -R root/usr/share/grub "$out/share/grub"
        chmod -R u+w "$out"
        # x86_64: Debian's programs run through Debian's glibc loader with the libraries
        # they link, so they run anywhere (inside Nix's sandbox too); bin/ holds wrappers.
        if [ -n "$runtime" ]; then
          mkdir -p "$out/libexec/grub"
          for f in "$out"/bin/*; do
            [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
            name="$(basename "$f")"
            mv "$f" "$out/libexec/grub/$name"
            writeLoaderWrapper "$runtime" "$out/libexec/grub/$name" "$f"
          done
          "$out/bin/grub-mkimage" --version >/dev/null || die "grub-mkimage does not run"
        fi
      '';
    # NixOS's forcei686 takes GRUB from this set; the stand-in builds x86_64 only.
    pkgsi686Linux = throw "The stand-in nixpkgs has no pkgsi686Linux (it builds x86_64-linux only), so boot.loader.grub.forcei686 cannot be used with it.";
    zfs = throw "The stand-in nixpkgs has no zfs package.";

    # Only the systemd-boot EFI binaries: what a NixOS image writer needs.
    systemd = runCommand "systemd-${debs.systemd-boot-efi.upstreamVersion}" {
      deb = debs.systemd-boot-efi.file;
      passthru = { version = debs.systemd-boot-efi.upstreamVersion; debianVersion = debs.systemd-boot-efi.version; };
    } ''
      unpackDeb "$deb" root
      [ -f root/usr/lib/systemd/boot/efi/systemd-boot${platform.efiArch}.efi ] || die "no systemd-boot${platform.efiArch}.efi in the package"
      mkdir -p "$out/lib/systemd/boot"
      cp -R root/usr/lib/systemd/boot/efi "$out/lib/systemd/boot/efi"
    '';

    # syslinux shaped like nixpkgs' (pkgs/os-specific/linux/syslinux): the BIOS
    # binaries in share/syslinux, as iso-image.nix copies them to /isolinux.
    # (Debian's version "6.04~git…+dfsg1": store names cannot hold "~".)
    syslinux = x86Only "syslinux" (runCommand "syslinux-${builtins.head (lib.splitString "~" debs.syslinux-common.upstreamVersion)}" {
      isolinuxDeb = debs.isolinux.file;
      commonDeb = debs.syslinux-common.file;
      passthru = { version = debs.syslinux-common.upstreamVersion; debianVersion = debs.syslinux-common.version; };
    } ''
      unpackDeb "$isolinuxDeb" root
      unpackDeb "$commonDeb" root
      mkdir -p "$out/share/syslinux"
      for f in isolinux.bin isohdpfx.bin; do
        [ -f "root/usr/lib/ISOLINUX/$f" ] || die "no $f in the isolinux package"
        cp "root/usr/lib/ISOLINUX/$f" "$out/share/syslinux/$f"
      done
      [ -f root/usr/lib/syslinux/modules/bios/ldlinux.c32 ] || die "no ldlinux.c32 in the syslinux-common package"
      cp root/usr/lib/syslinux/modules/bios/*.c32 "$out/share/syslinux/"
    '');

    # The Raspberry Pi's GPU firmware shaped like nixpkgs' raspberrypifw
    # (share/raspberrypi/boot): Debian's raspi-firmware, and the Pi device trees of
    # Debian's kernel (mainline names: bcm2837-rpi-3-b.dtb, bcm2711-rpi-4-b.dtb, ...).
    raspberrypifw = aarch64Only "raspberrypifw" (runCommand "raspberrypi-firmware-${debs.raspi-firmware.upstreamVersion}" {
      deb = debs.raspi-firmware.file;
      kernel = pkgs.linux;
      passthru = { version = debs.raspi-firmware.upstreamVersion; };
    } ''
      unpackDeb "$deb" root
      boot="$out/share/raspberrypi/boot"
      mkdir -p "$boot"
      cp root/usr/lib/raspi-firmware/* "$boot/"
      [ -f "$boot/bootcode.bin" ] && [ -f "$boot/start4.elf" ] || die "no Pi firmware in the raspi-firmware package"
      cp "$kernel"/dtbs/broadcom/bcm2837-rpi-*.dtb "$kernel"/dtbs/broadcom/bcm2711-rpi-*.dtb "$boot/"
    '');
    # U-Boot for the Pi 3 and 4 in 64-bit mode (nixpkgs' buildUBoot with rpi_3_defconfig,
    # rpi_4_defconfig): Debian's u-boot-rpi.
    ubootRaspberryPi3_64bit = pkgs.debianUBoot "rpi_3";
    ubootRaspberryPi4_64bit = pkgs.debianUBoot "rpi_4";
    debianUBoot = board: aarch64Only "U-Boot for ${board}" (runCommand "uboot-${board}-${debs.u-boot-rpi.upstreamVersion}" {
      deb = debs.u-boot-rpi.file;
      inherit board;
      passthru = { version = debs.u-boot-rpi.upstreamVersion; };
    } ''
      unpackDeb "$deb" root
      [ -f "root/usr/lib/u-boot/$board/u-boot.bin" ] || die "no $board/u-boot.bin in the u-boot-rpi package"
      mkdir -p "$out"
      cp "root/usr/lib/u-boot/$board/u-boot.bin" "$out/u-boot.bin"
    '');

    makeInitrd = import ./build-support/make-initrd.nix { inherit lib runCommand; inherit (pkgs) busybox; };
    makeInitrdNG = import ./build-support/kernel/make-initrd-ng.nix { inherit lib runCommand; };

    # nuke-refs: replaces the hash of every store path named in a file by e's.
    nukeReferences = pkgs.buildPackages.writeShellScriptBin "nuke-refs" ''
      for file in "$@"; do
        if [ -f "$file" ] && [ ! -L "$file" ]; then
          sed -i 's|/nix/store/[a-z0-9]\{32\}-|/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-|g' "$file"
        fi
      done
    '';

    # bash, as stdenv.shell is in nixpkgs: Debian's static build.
    bash = runCommand "bash-${debs.bash-static.upstreamVersion}" {
      deb = debs.bash-static.file;
      passthru = { version = debs.bash-static.upstreamVersion; debianVersion = debs.bash-static.version; };
    } ''
      unpackDeb "$deb" root
      mkdir -p "$out/bin"
      cp root/bin/bash-static "$out/bin/bash"
      chmod 0555 "$out/bin/bash"
      ln -s bash "$out/bin/sh"
    '';

    # Debian's glibc with the libraries of the dynamically linked Debian programs below
    # (kexec's Xen libraries, jq's libjq and libonig; for aarch64 kexec's and cpio's only):
    # the stand-in has no patchelf, so those run through this loader (wrapDebianProgram).
    debianRuntime = runCommand "debian-runtime-${debs.libc6.upstreamVersion}" {
      debFiles = map (d: d.file) ([ debs.libc6 ] ++ debs.xenLibraries
        ++ (if isx86_64 then debs.jqLibraries ++ debs.toolLibraries else [ debs.zlib1g ]));
      inherit debianTriplet loader;
    } ''
      for deb in $debFiles; do unpackDeb "$deb" root; done
      mkdir -p "$out/lib"
      cp -a "root/lib/$debianTriplet/." "$out/lib/"
      if [ -d "root/usr/lib/$debianTriplet" ]; then cp -a "root/usr/lib/$debianTriplet/." "$out/lib/"; fi
      [ -x "$out/lib/$loader" ] || die "no $loader in libc6"
    '';
    # bin/<name> runs a dynamically linked Debian program with debianRuntime's loader.
    wrapDebianProgram = { name, version, deb, program }:
      runCommand "${name}-${version}" {
        inherit deb program loader;
        runtime = pkgs.debianRuntime;
        shell = "${pkgs.busybox}/bin/sh";
        passthru = { inherit version; };
      } ''
        unpackDeb "$deb" root
        [ -f "root$program" ] || die "no $program in $(basename "$deb")"
        base="$(basename "$program")"
        mkdir -p "$out/bin" "$out/libexec"
        cp "root$program" "$out/libexec/$base"
        chmod 0555 "$out/libexec/$base"
        writeLoaderWrapper "$runtime" "$out/libexec/$base" "$out/bin/$base"
      '';
    # Memtest86+ as nixpkgs' memtest86plus installs it: memtest.bin (booted by a BIOS
    # boot loader as a Linux kernel) and memtest.efi, here Debian's x86_64 builds.
    memtest86plus = x86Only "memtest86plus" (runCommand "memtest86plus-${debs.memtest86plus.upstreamVersion}" {
      deb = debs.memtest86plus.file;
      passthru = { version = debs.memtest86plus.upstreamVersion; };
    } ''
      unpackDeb "$deb" root
      mkdir -p "$out"
      cp root/boot/memtest86+x64.bin "$out/memtest.bin"
      cp root/boot/memtest86+x64.efi "$out/memtest.efi"
      chmod 0444 "$out/memtest.bin" "$out/memtest.efi"
    '');
    # rEFInd as nixpkgs' refind installs it (share/refind/refind_<efi arch>.efi, its drivers,
    # tools, icons and fonts), here Debian's build for the platform.
    refind = runCommand "refind-${debs.refind.upstreamVersion}" {
      deb = debs.refind.file;
      efiArch = platform.efiArch;
      passthru = { version = debs.refind.upstreamVersion; };
    } ''
      unpackDeb "$deb" root
      [ -f "root/usr/share/refind/refind/refind_$efiArch.efi" ] || die "no refind_$efiArch.efi in the package"
      mkdir -p "$out/share"
      cp -a root/usr/share/refind/refind "$out/share/refind"
    '';
    # Node.js and nixpkgs' npm packaging (build-support/node).
    inherit (pkgs.nodePackaging) nodejs buildNpmPackage importNpmLock;
    nodejs_24 = pkgs.nodejs;
    nodePackaging = x86Only "Node.js" (import ./build-support/node {
      inherit lib runCommand;
      inherit (pkgs) busybox debianRuntime;
      nodeTarball = debs.nodejs.file;
      nodeVersion = debs.nodejs.version;
    });

    kexec-tools = pkgs.wrapDebianProgram {
      name = "kexec-tools"; version = debs.kexec-tools.upstreamVersion; deb = debs.kexec-tools.file; program = "/sbin/kexec";
    };
    cpio = pkgs.wrapDebianProgram {
      name = "cpio"; version = debs.cpio.upstreamVersion; deb = debs.cpio.file; program = "/bin/cpio";
    };
    jq = x86Only "jq" (pkgs.wrapDebianProgram {
      name = "jq"; version = debs.jq.upstreamVersion; deb = debs.jq.file; program = "/usr/bin/jq";
    });

    # As nixpkgs' pkgs/build-support/closure-info.nix: the closure of rootPaths as
    # registration (for nix-store --load-db), store-paths and total-nar-size, computed
    # with jq from the references graph Nix exports into the structured attributes
    # (.attrs.json). With __structuredAttrs the builder's environment holds no
    # attributes (not even $out), so this is a bare derivation whose script reads
    # the output path from the JSON file, not a runCommand.
    closureInfo = { rootPaths }:
      assert builtins.langVersion >= 5;
      derivation {
        name = "closure-info";
        system = checkedSystem;
        __structuredAttrs = true;
        exportReferencesGraph.closure = rootPaths;
        preferLocalBuild = true;
        empty = rootPaths == [ ];
        builder = bootstrapBusybox;
        args = [ "sh" "-e" "-c" ''
          bootstrapBusybox=${bootstrapBusybox}
          inputsPath=${pkgs.buildPackages.jq}/bin
          name=closure-info
          . ${./stdenv/setup.sh}
          # Nix 2.8 names the file by its path outside the sandbox; inside it is here.
          attrs="''${NIX_ATTRS_JSON_FILE:-}"
          [ -r "$attrs" ] || attrs="$NIX_BUILD_TOP/.attrs.json"
          out="$(jq -r '.outputs.out' <"$attrs")"
          mkdir "$out"
          if [ "$(jq -r '.empty' <"$attrs")" = true ]; then
            echo 0 >"$out/total-nar-size"
            touch "$out/registration" "$out/store-paths"
          else
            jq -r '.closure | map(.narSize) | add' <"$attrs" >"$out/total-nar-size"
            # One record per path: path, NAR hash, NAR size, deriver (none), the number
            # of references, then the references; the last line (empty) is dropped.
            jq -r '.closure | map([.path, .narHash, .narSize, "", (.references | length)] + .references) | add | map("\(.)\n") | add' <"$attrs" |
              head -n -1 >"$out/registration"
            jq -r '.closure[].path' <"$attrs" >"$out/store-paths"
          fi
        '' ];
      };
  };
in
pkgs
