# system.build.toplevel: the NixOS-shaped system store path
# nixos-system-<hostName>-<label>.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  kernel = config.boot.kernelPackages.kernel;
  initrd = config.system.build.initialRamdisk;
  kernelPath = "${kernel}/${config.system.boot.loader.kernelFile}";
  initrdPath = "${initrd}/${config.system.boot.loader.initrdFile}";
  out = builtins.placeholder "out";
  grubCfg = config.boot.loader.grub;

  bootspec = {
    "org.nixos.bootspec.v1" = {
      system = pkgs.stdenv.hostPlatform.system;
      init = "${out}/init";
      initrd = initrdPath;
      kernel = kernelPath;
      kernelParams = config.boot.kernelParams;
      label = "${config.system.nixos.distroName} ${config.system.nixos.codeName} ${config.system.nixos.label} (Linux ${kernel.modDirVersion})";
      toplevel = out;
    };
    "org.nixos.specialisation.v1" = { };
  };

  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  withChecks = drv:
    if failedAssertions != [ ] then
      throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failedAssertions}"
    else lib.foldr (w: d: builtins.trace "warning: ${w}" d) drv config.warnings;

  toplevel = pkgs.runCommand "nixos-system-${config.networking.hostName}-${config.system.nixos.label}" {
    inherit kernelPath initrdPath;
    systemPath = config.system.path;
    etcPath = config.system.build.etc;
    systemdPackage = config.systemd.package;
    kernelModulesTree = kernel;
    hostName = config.networking.hostName;
    kernelParams = lib.concatStringsSep " " config.boot.kernelParams;
    nixosLabel = config.system.nixos.label;
    systemName = pkgs.stdenv.hostPlatform.system;
    shell = "${pkgs.busybox}/bin/sh";
    stage2 = ./../boot/stage-2-init.sh;
    bootJson = builtins.toJSON bootspec;
    extraDependencies = config.system.extraDependencies;
    extraSystemBuilderCmds = config.system.extraSystemBuilderCmds;
    # A NixOS system's closure contains its boot loaders: the stub below
    # names them, as NixOS's switch-to-configuration/install-grub do.
    switchToConfiguration = ''
      #!${pkgs.busybox}/bin/sh
      # switch-to-configuration of the example system: a stub. A real NixOS
      # system installs its boot loader from here; the example names the
      # packages it would use so that they belong to the system's closure.
      grub=${grubCfg.package}
      grubEfi=${grubCfg.efiPackage}
      systemd=${config.systemd.package}
      echo "switch-to-configuration: the example system cannot switch or install boot loaders (grub $grub, grub-efi $grubEfi, systemd $systemd)" >&2
      exit 1
    '';
    activateScript = ''
      #!${pkgs.busybox}/bin/sh
      # The example system has no activation: its stage 2 only reports.
      exit 0
    '';
    passAsFile = [ "bootJson" "switchToConfiguration" "activateScript" "extraSystemBuilderCmds" ];
  } ''
    mkdir -p "$out/bin" "$out/specialisation"
    ln -s "$kernelPath" "$out/kernel"
    ln -s "$initrdPath" "$out/initrd"
    ln -s "$kernelModulesTree" "$out/kernel-modules"
    ln -s "$systemPath" "$out/sw"
    ln -s "$etcPath/etc" "$out/etc"
    ln -s "$systemdPackage" "$out/systemd"
    printf '%s' "$kernelParams" >"$out/kernel-params"
    printf '%s' "$nixosLabel" >"$out/nixos-version"
    printf '%s' "$systemName" >"$out/system"
    printf '%s' systemd >"$out/init-interface-version"
    cp "$bootJsonPath" "$out/boot.json"
    echo >>"$out/boot.json"

    sed -e "s|@shell@|$shell|g" -e "s|@systemPath@|$systemPath|g" \
      -e "s|@hostName@|$hostName|g" -e "s|@toplevel@|$out|g" "$stage2" >"$out/init"
    chmod 0555 "$out/init"
    cp "$switchToConfigurationPath" "$out/bin/switch-to-configuration"
    chmod 0555 "$out/bin/switch-to-configuration"
    cp "$activateScriptPath" "$out/activate"
    chmod 0555 "$out/activate"

    if [ -n "$extraDependencies" ]; then
      for d in $extraDependencies; do echo "$d"; done >"$out/extra-dependencies"
    fi
    . "$extraSystemBuilderCmdsPath"
  '';
in
{
  options.system.build = mkOption {
    type = types.lazyAttrsOf types.unspecified;
    default = { };
    description = "Derivations and values built from the configuration (toplevel, initialRamdisk, kernel, ...).";
  };
  options.system.extraDependencies = mkOption {
    type = types.listOf types.package;
    default = [ ];
    description = "Store paths added to the system's closure.";
  };
  options.system.extraSystemBuilderCmds = mkOption {
    type = types.lines;
    default = "";
    description = "Shell commands appended to the toplevel's builder (busybox sh).";
  };

  config.system.build.toplevel = withChecks toplevel;
}
