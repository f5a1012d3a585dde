# Imitates nixos/modules/system/activation/top-level.nix, bootspec.nix and
# specialisation.nix: system.name (the host name, or "unnamed" without one) and
# system.build.toplevel, nixos-system-<system.name>-<label>
# with NixOS's entries (boot.json as bootspec v1 with every specialisation's
# document under org.nixos.specialisation.v1, specialisation/<name> links,
# nixos-version holding the label, bin/switch-to-configuration referencing the
# boot loader's installer, so the loader is in the closure as in NixOS).
# Specialisations are evaluated with extendModules, as NixOS does.
{ config, lib, pkgs, extendModules, ... }:
let
  inherit (lib) mkOption types;
  out = builtins.placeholder "out";

  # The bootspec document of a configuration whose toplevel is `toplevel`.
  bootspecOf = cfg: toplevel: specialisations:
    let kernel = cfg.boot.kernelPackages.kernel; in
    {
      "org.nixos.bootspec.v1" = {
        system = pkgs.stdenv.hostPlatform.system;
        init = "${toplevel}/init";
        initrd = "${cfg.system.build.initialRamdisk}/${cfg.system.boot.loader.initrdFile}";
        kernel = "${kernel}/${cfg.system.boot.loader.kernelFile}";
        kernelParams = cfg.boot.kernelParams;
        label = "${cfg.system.nixos.distroName} ${cfg.system.nixos.codeName} ${cfg.system.nixos.label} (Linux ${kernel.modDirVersion})";
        inherit toplevel;
      };
      "org.nixos.specialisation.v1" = specialisations;
    };

  # Each specialisation's configuration, evaluated by the option's type (below).
  children = lib.mapAttrs (name: spec: spec.configuration) config.specialisation;
  childToplevel = child: "${child.system.build.toplevel}";
  specialisationDocs = lib.mapAttrs (_: child: bootspecOf child (childToplevel child) { }) children;

  kernel = config.boot.kernelPackages.kernel;
  kernelPath = "${kernel}/${config.system.boot.loader.kernelFile}";
  initrdPath = "${config.system.build.initialRamdisk}/${config.system.boot.loader.initrdFile}";
  bootspec = bootspecOf config out specialisationDocs;

  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  withChecks = drv:
    if failedAssertions != [ ] then
      throw "\nFailed assertions:\n${lib.concatMapStrings (m: "- ${m}\n") failedAssertions}"
    else lib.foldr (w: d: builtins.trace "warning: ${w}" d) drv config.warnings;

  toplevel = pkgs.runCommand "nixos-system-${config.system.name}-${config.system.nixos.label}" {
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
    postBootCommands = pkgs.writeText "local-cmds" config.boot.postBootCommands;
    bootJson = builtins.toJSON bootspec;
    extraDependencies = config.system.extraDependencies;
    extraSystemBuilderCmds = config.system.extraSystemBuilderCmds;
    # As in NixOS, switch-to-configuration runs the boot loader's installer,
    # which is how the loader's packages belong to the system's closure.
    switchToConfiguration = ''
      #!${pkgs.busybox}/bin/sh
      # switch-to-configuration of the example system: it cannot switch. NixOS
      # runs the boot loader's installer from here:
      # ${config.system.build.installBootLoader}
      echo "switch-to-configuration: the example system cannot switch configurations" >&2
      exit 1
    '';
    specialisationLinks = lib.concatStringsSep "\n" (lib.mapAttrsToList (name: child: "${name} ${childToplevel child}") children);
    activateScript = ''
      #!${pkgs.busybox}/bin/sh
      # The example system has no activation: its stage 2 only reports.
      exit 0
    '';
    passAsFile = [ "bootJson" "switchToConfiguration" "activateScript" "extraSystemBuilderCmds" "specialisationLinks" ];
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
    while read -r name path || [ -n "$name" ]; do
      [ -n "$name" ] && ln -s "$path" "$out/specialisation/$name"
    done <"$specialisationLinksPath"
    cp "$bootJsonPath" "$out/boot.json"
    echo >>"$out/boot.json"

    sed -e "s|@shell@|$shell|g" -e "s|@systemPath@|$systemPath|g" \
      -e "s|@hostName@|$hostName|g" -e "s|@toplevel@|$out|g" \
      -e "s|@postBootCommands@|$postBootCommands|g" "$stage2" >"$out/init"
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
    type = types.lazyAttrsOf (types.uniq types.unspecified);
    default = { };
    description = "Attribute set of derivations used to set up the system (toplevel, initialRamdisk, grub, installBootLoader, ...).";
  };
  options.system.name = mkOption {
    type = types.str;
    default = if config.networking.hostName == "" then "unnamed" else config.networking.hostName;
    defaultText = lib.literalExpression ''if config.networking.hostName == "" then "unnamed" else config.networking.hostName'';
    description = "The name of the system, used in the toplevel's store path name and by the VM runner (its disk image and script).";
  };
  options.system.extraDependencies = mkOption {
    type = types.listOf types.package;
    default = [ ];
    description = "A list of paths that should be included in the system closure but generally not visible to users.";
  };
  options.system.extraSystemBuilderCmds = mkOption {
    type = types.lines;
    internal = true;
    default = "";
    description = "Shell commands appended to the toplevel's builder (busybox sh in the stand-in).";
  };
  # As NixOS's specialisation.nix: `configuration` is typed as the parent configuration
  # extended without specialisations of its own (no-clone.nix), so its value is the
  # specialisation's evaluated configuration.
  options.specialisation = mkOption {
    type = types.attrsOf (types.submodule {
      options.configuration = mkOption {
        default = { };
        description = "Arbitrary NixOS configuration.";
        inherit ((extendModules { modules = [ { specialisation = lib.mkOverride 0 { }; isSpecialisation = true; } ]; })) type;
      };
      options.inheritParentConfig = mkOption { type = types.bool; default = true; description = "Include the entire system's configuration (the stand-in always does)."; };
    });
    default = { };
    description = "Additional configurations to build, each booted from its own boot entry.";
  };
  options.isSpecialisation = mkOption {
    type = types.bool;
    internal = true;
    default = false;
    description = "Whether this configuration is a specialisation of another.";
  };

  config = {
    system.build.toplevel = withChecks toplevel;
    # One boot loader at a time: a second definition is a "defined multiple times" error, as in NixOS.
    system.build.installBootLoader = lib.mkOptionDefault (pkgs.writeScript "no-bootloader" ''
      #!${pkgs.busybox}/bin/sh
      echo 'Warning: do not know how to make this configuration bootable; please enable a boot loader.' 1>&2
    '');
    assertions = map (name: {
      assertion = !(lib.hasInfix "/" name);
      message = "Specialisation names must not contain forward slashes (${name}).";
    }) (lib.attrNames config.specialisation);
  };
}
