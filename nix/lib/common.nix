# Pieces several format modules share.
let
  # A string option's value, or `fallback` on a release that does not declare it.
  optionOr =
    options: config: path: fallback:
    let
      has = builtins.foldl' (acc: name: if acc != null && acc ? ${name} then acc.${name} else null) options path;
    in
    if has != null then builtins.foldl' (acc: name: acc.${name}) config path else fallback;
in
{
  inherit optionOr;

  # The package set of the machine that writes the image (nixos-generate.buildPlatform),
  # from the same nixpkgs: the system's own set when the two platforms are one.
  buildPackages =
    pkgs: buildPlatform:
    if buildPlatform == pkgs.stdenv.hostPlatform.system then pkgs else import pkgs.path { system = buildPlatform; };

  # system.build.imagePlan: the plan as a JSON file, or, when the format cannot honour a
  # setting ({ option; value; hint; }), the first of them as one line for the CLI to show
  # (src/nix/evaluate.ts recognises the prefix). Nothing is built then.
  planOrRefusal =
    pkgs: format: refusals: plan:
    if refusals != [ ] then
      let
        r = builtins.head refusals;
      in
      throw "nixos-generate-refusal: ${r.option} = ${builtins.toJSON r.value} is not supported by the ${format} format; ${r.hint}"
    else
      pkgs.writeText "image-plan.json" (builtins.toJSON plan);

  # The filesystems and boot loader settings an image with this layout boots with,
  # at mkImageMediaOverride priority (60), as NixOS's own image media set theirs: the
  # image decides, so a configuration's own fileSystems (a hardware-configuration.nix),
  # boot.loader.grub.device or efi.canTouchEfiVariables neither conflicts nor wins.
  # `biosDevice` is the disk GRUB's BIOS code goes to when the system later reinstalls it;
  # null leaves it to the nixpkgs module (digital-ocean sets grub.devices, not device).
  # With `biosDeviceDefault` it is only a default the configuration may change, as in
  # nixos-generators' raw and qcow formats (which set it with mkDefault).
  imageBoot =
    lib:
    {
      partitionTableType,
      biosDevice ? "/dev/vda",
      biosDeviceDefault ? false,
      rootDevice ? "/dev/disk/by-label/nixos",
    }:
    let
      esp = builtins.elem partitionTableType [ "efi" "hybrid" ];
      bios = builtins.elem partitionTableType [ "legacy" "legacy+gpt" "hybrid" ];
      image = lib.mkImageMediaOverride;
    in
    {
      fileSystems."/" = image {
        device = rootDevice;
        fsType = "ext4";
        autoResize = true;
      };
      fileSystems."/boot" = lib.mkIf esp (image {
        device = "/dev/disk/by-label/ESP";
        fsType = "vfat";
      });
      boot.loader.grub = lib.mkIf (partitionTableType != "none") (
        {
          efiSupport = image esp;
          efiInstallAsRemovable = image esp;
        }
        // lib.optionalAttrs (!bios || biosDevice != null) {
          device =
            if !bios then image "nodev"
            else if biosDeviceDefault then lib.mkDefault biosDevice
            else image biosDevice;
        }
      );
      boot.loader.efi.canTouchEfiVariables = lib.mkIf esp (image false);
    };

  # The VM an OVA or a Vagrant box describes, from nixpkgs' virtualbox-image options.
  virtualMachine =
    { config }:
    {
      name = config.virtualbox.vmName;
      memoryMiB = config.virtualbox.memorySize;
      cpus = 1;
    };
}
