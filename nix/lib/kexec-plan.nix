# Shared by the kexec format modules: reads what nixos-generators' kexec.nix defines
# (system.build.image, kexec_script, kexec_tarball) and what netboot.nix configures
# (netboot.*, boot.initrd.compressor) and exports system.build.imagePlan as a kexec plan
# (docs/image-plan.md). The image, the script, the squashfs and the ramdisk are named by
# their store paths, never built: the writers make them. Nix builds the system and the
# script's tools. Settings the writers cannot honour stop the build with one line.
#
# Everything read from NixOS here is listed, per release, in docs/nixos-compat.md.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-generate;
  build = config.system.build;
  discard = builtins.unsafeDiscardStringContext;
  tarball = build.kexec_tarball;
  script = build.kexec_script;

  squashfs = import ./squashfs-compression.nix lib config.netboot.squashfsCompression;

  # boot.initrd.compressor and its arguments, as makeInitrdNG gets them from netboot.nix;
  # the default arguments are those of pkgs/build-support/kernel/initrd-compressor-meta.nix.
  compressor = config.boot.initrd.compressor;
  defaultArguments = {
    zstd = [ "-10" ];
    gzip = [ "-9n" ];
    pigz = [ "-9n" ];
    xz = [ "--check=crc32" "--lzma2=dict=512KiB" ];
    lzma = [ "--check=crc32" "--lzma1=dict=512KiB" ];
    lz4 = [ "-l" ];
  };
  # netboot.nix passes compressorArgs from 25.11 on (nixpkgs PR #448924); before, the defaults apply.
  givenArguments = if lib.versionAtLeast config.system.nixos.release "25.11" then config.boot.initrd.compressorArgs else null;
  arguments = if givenArguments != null then givenArguments else defaultArguments.${compressor} or [ ];
  levelMatch =
    if builtins.length arguments != 1 then null
    else if compressor == "zstd" then builtins.match "-([0-9]+)" (builtins.head arguments)
    else if compressor == "gzip" then builtins.match "-([1-9])n?" (builtins.head arguments)
    else null;

  # The store paths the script refers to besides the image: built by Nix.
  shellPackage = dirOf (dirOf pkgs.stdenv.shell);
  scriptInputs = [ "${pkgs.kexec-tools}" "${pkgs.cpio}" shellPackage ];
  image = cfg.kexecImage;
  knownContext = builtins.attrNames (builtins.getContext (lib.concatStrings ([ "${image}" ] ++ scriptInputs)));
  scriptContext = builtins.attrNames (builtins.getContext script.text);

  objects = map discard tarball.objects;
  scriptPath = discard script.outPath;
  # The script and the image are written by this project: their paths go without context.
  archive = import ./system-tarball.nix lib { inherit tarball; where = "system.build.kexec_tarball"; storePath = discard; };

  refusals =
    lib.optional (config.virtualisation.diskSize != "auto") {
      option = "virtualisation.diskSize";
      value = config.virtualisation.diskSize;
      hint = "a kexec tarball is as large as its contents; leave out --disk-size";
    }
    ++ lib.optional (!squashfs.understood) {
      option = "netboot.squashfsCompression";
      value = config.netboot.squashfsCompression;
      inherit (squashfs) hint;
    }
    ++ lib.optional (!(builtins.isString compressor) || levelMatch == null) {
      option = "boot.initrd.compressor";
      value = lib.concatStringsSep " " ([ (if builtins.isString compressor then compressor else "<function>") ] ++ arguments);
      hint = "nixos-generate compresses the netboot ramdisk with zstd -N or gzip -N; use one of them";
    }
    ++ lib.optional (objects != [ scriptPath ] || tarball.sources != [ ]) {
      option = "system.build.kexec_tarball.storeContents";
      value = objects;
      hint = "nixos-generate writes the kexec tarball of the kexec script alone, as nixos-generators' kexec.nix defines it";
    }
    ++ lib.optional (scriptContext != knownContext) {
      option = "system.build.kexec_script";
      value = scriptContext;
      hint = "nixos-generate writes the script of nixos-generators' kexec.nix, which refers to the image, kexec-tools, cpio and the shell only";
    }
    ++ archive.compressionRefusals;

  plan = {
    version = 1;
    kind = "kexec";
    inherit (cfg) format;
    toplevel = "${build.toplevel}";
    tarball = {
      contents = [ ];
      storePaths = objects;
      inherit (archive) symlinks;
      commands = [ ];
    };
    kexec = {
      imagePath = discard image.outPath;
      kernel = "${build.kernel}/${config.system.boot.loader.kernelFile}";
      # netboot.nix's makeInitrdNG prepend.
      initrd = "${build.initialRamdisk}/initrd";
      # kexec.nix's image: echo "init=... <kernelParams>" > $out/cmdline.
      cmdline = "init=${discard build.toplevel}/init ${toString config.boot.kernelParams}\n";
      # makeInitrdNG's root skeleton: var/empty; from 25.11 (nixpkgs PR #432704) also run, tmp and var/run -> ../run.
      ramdiskSkeleton =
        if lib.versionAtLeast config.system.nixos.release "25.11" then
          { directories = [ "run" "tmp" "var/empty" ]; symlinks = [ { path = "var/run"; target = "../run"; } ]; }
        else
          { directories = [ "var/empty" ]; symlinks = [ ]; };
      ramdiskCompression = { algorithm = compressor; level = lib.toInt (builtins.head levelMatch); };
      squashfs = squashfs.plan // { path = discard build.squashfsStore.outPath; };
      storeContents = map (p: "${p}") config.netboot.storeContents;
      script = { path = scriptPath; text = discard script.text; };
      inherit scriptInputs;
    };
    output =
      if cfg.kexecBundle then
        {
          container = "kexec-bundle";
          # nixos-generators prints the bundle's store path, whose name ends in -kexec_bundle.
          fileName = "nixos-system-${pkgs.stdenv.hostPlatform.system}-kexec_bundle";
          compression = "xz";
          stub = discard build.kexec_tarball_self_extract_script.text;
        }
      else
        {
          container = "tar";
          inherit (archive) fileName;
          compression = "xz";
        };
  };
in
{
  imports = [ ./plan-options.nix ];

  options.nixos-generate = {
    kexecImage = lib.mkOption {
      type = lib.types.package;
      description = "The kexec format's image derivation (kernel, initrd, cmdline), which its script refers to.";
    };
    kexecBundle = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether the output is the self-extracting kexec bundle rather than the tarball.";
    };
  };

  config.system.build.imagePlan = (import ./common.nix).planOrRefusal pkgs cfg.format refusals plan;
}
