# What a make-system-tarball derivation says about its archive, for the plan modules that
# write one (tarball-plan.nix, kexec-plan.nix): the absolute symlinks to its store objects,
# the output's file name, and a refusal when its compressor is not xz (pixz's format).
# `where` names the attribute in refusals; `storePath` turns an object into the plan's
# string (with its context, so that Nix builds it, or without, for paths the writers make).
lib:
{
  tarball,
  where,
  storePath,
}:
let
  compressor = builtins.head (lib.filter (w: w != "") (lib.splitString " " tarball.compressCommand) ++ [ "" ]);
  pairs = lib.zipListsWith (object: symlink: { inherit object symlink; }) tarball.objects tarball.symlinks;
in
{
  symlinks = map (pair: {
    object = storePath pair.object;
    path = lib.removePrefix "/" pair.symlink;
  }) (lib.filter (pair: pair.symlink != "none") pairs);

  fileName = "tarball/${tarball.fileName}.tar${tarball.extension}";

  compressionRefusals = lib.optional (!(builtins.elem compressor [ "pixz" "xz" ]) || tarball.extension != ".xz") {
    option = "${where}.compressCommand";
    value = "${tarball.compressCommand} (${tarball.extension})";
    hint = "nixos-generate compresses system tarballs with xz (.tar.xz), as pixz does";
  };
}
