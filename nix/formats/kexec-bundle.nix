# kexec-bundle: the kexec tarball behind a small sh script that unpacks it to / and runs
# /kexec_nixos, as nixos-generators' formats/kexec-bundle.nix makes it (one executable file).
{ ... }:
{
  imports = [ ./kexec.nix ];

  nixos-generate.format = "kexec-bundle";
  nixos-generate.kexecBundle = true;
}
