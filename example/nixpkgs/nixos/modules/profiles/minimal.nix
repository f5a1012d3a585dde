# Imitates nixos/modules/profiles/minimal.nix: a system without documentation, fonts
# or graphical extras.
# Left out: everything it sets (documentation.*, environment.noXlibs or its successors,
# fonts, xdg, programs.command-not-found, services.udisks2); the stand-in declares none of it.
{ ... }:
{
}
