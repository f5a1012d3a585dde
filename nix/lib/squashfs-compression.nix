# Reads mksquashfs compression arguments as nixpkgs' make-squashfs takes them
# (isoImage.squashfsCompression, netboot.squashfsCompression): "zstd -Xcompression-level 19",
# "xz -Xdict-size 100%", "lz4", ... or null for none. Gives the plan's squashfs fields and
# whether this project can write them (`understood`).
lib: text:
let
  words = if text == null then [ ] else lib.filter (w: w != "") (lib.splitString " " text);
  algorithm = if text == null then "none" else builtins.head (words ++ [ "" ]);
  options = if words == [ ] then [ ] else builtins.tail words;
  # The one "-Xoption value" pair this project understands after the algorithm, or null.
  optionValue = name: if builtins.length options == 2 && builtins.head options == name then builtins.elemAt options 1 else null;
  levelOption = optionValue "-Xcompression-level";
  level = if levelOption != null && builtins.match "[0-9]+" levelOption != null then lib.toInt levelOption else null;
  # nixos/lib/make-squashfs.nix: -b 1048576.
  blockSize = 1048576;
  # mksquashfs's -Xdict-size: a whole percentage of the block size, or bytes with an optional K or M.
  dictionaryOption = optionValue "-Xdict-size";
  percent = if dictionaryOption == null then null else builtins.match "([0-9]+)%" dictionaryOption;
  absolute = if dictionaryOption == null then null else builtins.match "([0-9]+)([kKmM]?)" dictionaryOption;
  unit = suffix: if suffix == "" then 1 else if lib.toLower suffix == "k" then 1024 else 1048576;
  percentOfBlock = if percent == null then 0 else blockSize * lib.toInt (builtins.head percent);
  dictionarySize =
    if percent != null && percentOfBlock / 100 * 100 == percentOfBlock then percentOfBlock / 100
    else if absolute != null then lib.toInt (builtins.head absolute) * unit (builtins.elemAt absolute 1)
    else null;
  optionsUnderstood = options == [ ] || (if algorithm == "xz" then dictionarySize != null else level != null);
in
{
  inherit algorithm level blockSize dictionarySize;
  understood = builtins.elem algorithm [ "zstd" "gzip" "xz" "lz4" "none" ] && optionsUnderstood && !(algorithm == "lz4" && level != null);
  # What the refusal says the writers take.
  hint = "nixos-generate writes zstd and gzip squashfs with at most -Xcompression-level N, xz with at most -Xdict-size N% (no -Xbcj), lz4 (no level), or none (null)";
  # The plan's squashfs object.
  plan = { inherit algorithm level blockSize; } // lib.optionalAttrs (dictionarySize != null) { inherit dictionarySize; };
}
