# Resolves kernel module names to the module files to load, in load order.
# Usage: awk -v dir=<lib/modules/VERSION> -f modules-closure.awk NAME...
# Reads dir/modules.dep, modules.alias, modules.builtin and modules.softdep.
# Prints one path (relative to dir) per line, dependencies first. Names may
# use - or _ and may be aliases. Built-in modules are skipped (noted on
# stderr); unknown names are errors (exit 1). Soft dependencies are
# optional: loaded when present.
function norm(n) { gsub(/-/, "_", n); return n }
function modname(path,   n) { n = path; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); return norm(n) }
function want(n, required,   m, list, count, i, found) {
  m = norm(n)
  if (m in pathOf) { visit(m); return 1 }
  if (m in builtin) { if (!(m in noted)) { noted[m] = 1; print "modules-closure: " m " is built into the kernel" > "/dev/stderr" }; return 1 }
  found = 0
  if (n in alias) {
    count = split(alias[n], list, " ")
    for (i = 1; i <= count; i++) if (want(list[i], 0)) found = 1
  }
  if (!found && required) { print "modules-closure: error: no kernel module named " n > "/dev/stderr"; failed = 1 }
  return found
}
function visit(m,   list, count, i) {
  if ((m in done) || (m in active)) return
  active[m] = 1
  count = split(pre[m], list, " ")
  for (i = 1; i <= count; i++) want(list[i], 0)
  count = split(deps[m], list, " ")
  for (i = 1; i <= count; i++) visit(modname(list[i]))
  done[m] = 1
  print pathOf[m]
  count = split(post[m], list, " ")
  for (i = 1; i <= count; i++) want(list[i], 0)
}
BEGIN {
  file = dir "/modules.dep"
  while ((getline line < file) > 0) {
    i = index(line, ":")
    path = substr(line, 1, i - 1)
    m = modname(path)
    pathOf[m] = path
    deps[m] = substr(line, i + 1)
  }
  close(file)
  if (length(pathOf) == 0) { print "modules-closure: error: cannot read " file > "/dev/stderr"; exit 2 }
  file = dir "/modules.alias"
  while ((getline line < file) > 0) {
    split(line, f, " ")
    if (f[1] == "alias") alias[f[2]] = alias[f[2]] " " f[3]
  }
  close(file)
  file = dir "/modules.builtin"
  while ((getline line < file) > 0) builtin[modname(line)] = 1
  close(file)
  file = dir "/modules.softdep"
  while ((getline line < file) > 0) {
    count = split(line, f, " ")
    if (f[1] != "softdep") continue
    mode = ""
    for (i = 3; i <= count; i++) {
      if (f[i] == "pre:") mode = "pre"
      else if (f[i] == "post:") mode = "post"
      else if (mode == "pre") pre[f[2]] = pre[f[2]] " " f[i]
      else if (mode == "post") post[f[2]] = post[f[2]] " " f[i]
    }
  }
  close(file)
  for (a = 1; a < ARGC; a++) want(ARGV[a], 1)
  exit failed
}
