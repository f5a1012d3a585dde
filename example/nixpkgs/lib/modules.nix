# The stand-in's module system, written for the example system.
#
# Model:
#  - a module is a path, a function of the module arguments, or an attribute
#    set with `imports`, `options` and `config` (or shorthand: every other
#    attribute is configuration);
#  - declared options (`lib.mkOption`) form a tree; their values are merged
#    from every definition of the highest priority (lowest number), falling
#    back to `default` (priority 1500);
#  - a definition of a path that nothing declares is refused, as NixOS refuses
#    it ("The option `a.b' does not exist."), unless `_module.check` is false;
#    inside values of loosely typed options, attribute sets merge recursively,
#    lists concatenate, equal values agree, anything else is a conflict that
#    names the option path;
#  - the `options` tree gives each option, as nixpkgs' does, its `value`,
#    `isDefined`, `highestPrio`, `definitions`, `files` and
#    `definitionsWithLocations` ({ file; value; } of the winning definitions, in
#    mkOrder order; a winning default counts as made by the declaring file);
#  - `mkIf`, `mkMerge`, `mkOverride` and `mkOrder` may appear at any level.
#    Above a leaf they are pushed down without evaluating conditions, so
#    `config = mkIf config.x.enable { ... }` does not recurse forever.
{ lib }:
let
  inherit (builtins)
    all attrNames concatMap concatStringsSep elem filter foldl' functionArgs
    genericClosure genList head isAttrs isBool isFunction isList isPath
    isString length mapAttrs removeAttrs sort tail toJSON toString typeOf;

  defaultPriority = 100;
  defaultOrder = 1000;
  optionDefaultPriority = 1500;

  showLoc = loc: concatStringsSep "." (map (n: if builtins.match "[A-Za-z_][A-Za-z0-9_'-]*" n != null then n else toJSON n) loc);

  showValue = v:
    if isString v || builtins.isInt v || isBool v || v == null || builtins.isFloat v then toJSON v
    else if isPath v then toString v
    else if isAttrs v && (v.type or null) == "derivation" then "<derivation ${v.name or "?"}>"
    else if isAttrs v then "{ ${concatStringsSep " " (map (n: "${n} = ...;") (attrNames v))} }"
    else if isList v then "[ list of ${toString (length v)} ]"
    else "<${typeOf v}>";

  isPropertyType = t: t == "if" || t == "merge" || t == "override" || t == "order";
  typeTag = v: if isAttrs v then v._type or null else null;

  # ---- properties ------------------------------------------------------
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOrder = priority: content: { _type = "order"; inherit priority content; };

  mkOption = attrs: attrs // { _type = "option"; };
  isOption = v: isAttrs v && (v._type or null) == "option";

  # A value that is an attribute set of configuration (not a leaf value):
  # looked at through properties without evaluating any mkIf condition.
  isNamespaceDef = v:
    isAttrs v && (
      let t = v._type or null; in
      if t == "merge" then all isNamespaceDef v.contents
      else if t == "if" || t == "override" || t == "order" then isNamespaceDef v.content
      else t == null && (v.type or null) != "derivation" && !(v ? outPath) && !(v ? __functor)
    );

  # Pushes properties of an attribute-set definition down to its attributes.
  pushDown = loc: file: v:
    let t = typeTag v; in
    if t == "merge" then concatMap (pushDown loc file) v.contents
    else if t == "if" then map (mapAttrs (_: mkIf v.condition)) (pushDown loc file v.content)
    else if t == "override" then map (mapAttrs (_: mkOverride v.priority)) (pushDown loc file v.content)
    else if t == "order" then map (mapAttrs (_: mkOrder v.priority)) (pushDown loc file v.content)
    else if isAttrs v && t == null then [ v ]
    else throw "The option `${showLoc loc}' is an attribute set of options, but ${file} defines it as ${showValue v}.";

  # Evaluates the properties of a leaf definition:
  # a list of { value; priority; order; }.
  discharge = loc: file: prio: order: v:
    let t = typeTag v; in
    if t == "merge" then concatMap (discharge loc file prio order) v.contents
    else if t == "if" then
      (if v.condition == true then discharge loc file prio order v.content
       else if v.condition == false then [ ]
       else throw "The mkIf condition of `${showLoc loc}' in ${file} is not a Boolean: ${showValue v.condition}.")
    else if t == "override" then discharge loc file (if prio == null then v.priority else prio) order v.content
    else if t == "order" then discharge loc file prio (if order == null then v.priority else order) v.content
    else [ {
      value = v;
      inherit file;
      priority = if prio == null then defaultPriority else prio;
      order = if order == null then defaultOrder else order;
    } ];

  # Definitions -> { defined; value; files; } for one option or element.
  # `defaults` are extra definitions (the option's default).
  evalDefs = loc: type: defs: defaults:
    let
      discharged = concatMap (d: discharge loc d.file null null d.value) defs ++ defaults;
      best = foldl' (m: d: if d.priority < m then d.priority else m) 1000000 discharged;
      winners = sort (a: b: a.order < b.order) (filter (d: d.priority == best) discharged);
      bad = filter (d: !(type.check d.value)) winners;
      checked =
        if bad == [ ] then winners
        else throw "The option `${showLoc loc}' has a value of the wrong type in ${(head bad).file}: expected ${type.description}, got ${showValue (head bad).value}.";
    in {
      defined = winners != [ ];
      highestPrio = best;
      definitions = map (d: d.value) winners;
      files = map (d: d.file) winners;
      # As nixpkgs' lib/modules.nix: the definitions that won (after mkOverride, sorted
      # by mkOrder), each with the file that made it.
      definitionsWithLocations = map (d: { inherit (d) file value; }) winners;
      userDefined = filter (d: !(d.isDefault or false)) winners != [ ];
      value =
        if winners == [ ] then throw "The option `${showLoc loc}' is used but not defined."
        else type.merge loc (map (d: { inherit (d) file value; }) checked);
    };

  evalOption = loc: opt: defs:
    let
      type = opt.type or lib.types.anything;
      # As in nixpkgs, the default is a definition made by the file declaring the option.
      defaults = if opt ? default then [ { value = opt.default; file = opt._file or "<default>"; isDefault = true; priority = optionDefaultPriority; order = defaultOrder; } ] else [ ];
      r = evalDefs loc type defs defaults;
    in r // { value = if opt ? apply then opt.apply r.value else r.value; };

  # Definitions of the attribute `name` among pushed-down definitions.
  defsOf = name: pushed: concatMap (d: if d.value ? ${name} then [ { inherit (d) file; value = d.value.${name}; } ] else [ ]) pushed;

  # The merged value of a node of the configuration tree.
  # decl: an option, an attribute set of declarations, or null (freeform).
  mergeNode = loc: decl: defs:
    if isOption decl then (evalOption loc decl defs).value
    else if decl != null then mergeNamespace loc decl defs
    else mergeFreeform loc defs;

  mergeNamespace = loc: decl: defs:
    let
      pushed = concatMap (d: map (v: { inherit (d) file; value = v; }) (pushDown loc d.file d.value)) defs;
      names = foldl' (acc: d: acc // d.value) decl pushed;
    in mapAttrs (name: _: mergeNode (loc ++ [ name ]) (decl.${name} or null) (defsOf name pushed)) names;

  mergeFreeform = loc: defs:
    if defs != [ ] && all (d: isNamespaceDef d.value) defs then mergeNamespace loc { } defs
    else (evalDefs loc anythingType defs [ ]).value;

  # Merge of values of unknown type (already stripped of top-level properties).
  mergeAnything = loc: defs:
    if all (d: isNamespaceDef d.value) defs then mergeNamespace loc { } defs
    else if all (d: isList d.value) defs then concatMap (d: d.value) defs
    else mergeEqual loc defs;

  mergeEqual = loc: defs:
    let first = head defs; in
    if all (d: d.value == first.value) (tail defs) then first.value
    else throw ("The option `${showLoc loc}' has conflicting definition values:"
      + concatStringsSep "" (map (d: "\n  - In ${d.file}: ${showValue d.value}") defs)
      + "\n  Use `lib.mkForce value' or `lib.mkDefault value' to change the priority of one of them.");

  anythingType = {
    _type = "option-type";
    name = "anything";
    description = "anything";
    check = _: true;
    merge = mergeAnything;
  };

  # Definitions of paths no module declares, as { loc; file; value; }. Real NixOS
  # refuses them ("The option `...' does not exist."); below a declared option the
  # option's type decides.
  unmatchedDefs = loc: decl: defs:
    let
      pushed = concatMap (d: map (v: { inherit (d) file; value = v; }) (pushDown loc d.file d.value)) defs;
      names = attrNames (foldl' (acc: d: acc // d.value) { } pushed);
      check = name:
        let sub = defsOf name pushed; in
        if !(decl ? ${name}) then map (d: { loc = loc ++ [ name ]; inherit (d) file value; }) sub
        else if isOption decl.${name} then [ ]
        else unmatchedDefs (loc ++ [ name ]) decl.${name} sub;
    in concatMap check names;

  showUnmatched = u:
    "The option `${showLoc u.loc}' does not exist. Definition values:\n- In `${u.file}': ${showValue u.value}";

  # The `options` module argument: declarations with their merged values.
  optionsTree = loc: decl: defs:
    if isOption decl then
      let r = evalOption loc decl defs; in
      decl // {
        inherit loc;
        value = r.value;
        isDefined = r.defined;
        inherit (r) highestPrio definitions files definitionsWithLocations;
      }
    else
      let pushed = concatMap (d: map (v: { inherit (d) file; value = v; }) (pushDown loc d.file d.value)) defs;
      in mapAttrs (name: sub: optionsTree (loc ++ [ name ]) sub (defsOf name pushed)) decl;

  # Merges two option declaration trees.
  mergeDecls = loc: a: b:
    if isOption a || isOption b then
      (if isOption a && isOption b then
        throw "The option `${showLoc loc}' is declared more than once (in ${a._file or "?"} and ${b._file or "?"})."
      else if isOption a && b == { } then a
      else if isOption b && a == { } then b
      else throw "The option `${showLoc loc}' is declared both as an option and as a set of options (in ${(if isOption a then a else b)._file or "?"}).")
    else a // mapAttrs (n: v: if a ? ${n} then mergeDecls (loc ++ [ n ]) a.${n} v else v) b;

  # Marks every option in a declaration tree with the file declaring it.
  markDecls = file: loc: d:
    if isOption d then { _file = file; } // d
    else if isAttrs d && (d._type or null) == null then mapAttrs (n: markDecls file (loc ++ [ n ])) d
    else throw "In ${file}: `options.${showLoc loc}' is neither an option (lib.mkOption) nor an attribute set of options.";

  metaAttrs = [ "_file" "key" "imports" "options" "config" "disabledModules" "meta" "freeformType" "_class" ];

  evalModules = { modules, specialArgs ? { }, prefix ? [ ], class ? null }:
    let
      internalModule = {
        _file = "<module system>";
        key = "<module system>";
        options._module.args = mkOption {
          type = lib.types.lazyAttrsOf lib.types.raw;
          default = { };
          description = "Extra arguments passed to every module.";
        };
        options._module.check = mkOption { type = lib.types.bool; default = true; description = "Whether definitions of undeclared options are refused."; };
        options._module.freeformType = mkOption { type = lib.types.anything; default = null; description = "Ignored by the stand-in."; };
      };

      baseArgs = { inherit lib config options specialArgs extendModules; _prefix = prefix; _class = class; } // specialArgs;

      # Required arguments not in baseArgs come from config._module.args;
      # arguments with defaults keep their defaults.
      argsFor = f:
        let wanted = removeAttrs (functionArgs f) (attrNames baseArgs); in
        baseArgs // mapAttrs (n: _: config._module.args.${n} or (throw "The module argument `${n}' is not available (not in specialArgs nor config._module.args).")) (lib.filterAttrs (_: hasDefault: !hasDefault) wanted);

      isModuleFunction = m: isFunction m || (isAttrs m && m ? __functor);

      # One module, normalized: { key; file; imports; options; config; disabledModules; }.
      load = parentFile: fallbackKey: m:
        let
          isPathLike = isPath m || (isString m && lib.hasPrefix "/" m);
          file = if isPathLike then toString m else parentFile;
          imported = if isPathLike then import m else m;
          raw = if isModuleFunction imported then imported (argsFor imported) else imported;
          checked =
            if isAttrs raw then raw
            else throw "The module ${file} is not an attribute set or a function returning one (it is a ${typeOf raw}).";
          hasFull = checked ? config || checked ? options;
          extra = removeAttrs checked metaAttrs;
          fileOf = checked._file or file;
        in {
          key =
            if isPathLike then toString m
            else if isAttrs m && m ? key then toString m.key
            else fallbackKey;
          file = fileOf;
          imports = checked.imports or [ ];
          freeformType = checked.freeformType or null;
          disabledModules = checked.disabledModules or [ ];
          options = markDecls fileOf [ ] (checked.options or { });
          config =
            if !hasFull then extra
            else if extra != { } then
              throw "The module ${fileOf} has an unsupported attribute `${head (attrNames extra)}'. This is caused by a top-level `config' or `options' attribute: move all configuration (${concatStringsSep ", " (attrNames extra)}) into `config'."
            else checked.config or { };
        };

      loadImports = n: genList (i: load n.file "${n.key}:anon-${toString (i + 1)}" (builtins.elemAt n.imports i)) (length n.imports);

      startSet = [ (load "<module system>" "<module system>" internalModule) ]
        ++ genList (i: load "<inline module #${toString (i + 1)}>" "anon-${toString (i + 1)}" (builtins.elemAt modules i)) (length modules);

      everything = genericClosure { inherit startSet; operator = loadImports; };

      modulesPath = specialArgs.modulesPath or null;
      disabledKey = d:
        if isPath d then toString d
        else if isString d && lib.hasPrefix "/" d then d
        else if isString d && modulesPath != null then "${toString modulesPath}/${d}"
        else if isAttrs d && d ? key then toString d.key
        else throw "disabledModules: cannot identify the module ${showValue d}.";
      disabled = map disabledKey (concatMap (m: m.disabledModules) everything);

      collected =
        if disabled == [ ] then everything
        else genericClosure {
          startSet = filter (m: !(elem m.key disabled)) startSet;
          operator = n: filter (m: !(elem m.key disabled)) (loadImports n);
        };

      declarations = foldl' (acc: m: mergeDecls [ ] acc m.options) { } collected;
      definitions = map (m: { inherit (m) file; value = m.config; }) collected;

      config = mergeNamespace prefix declarations definitions;
      options = optionsTree prefix declarations definitions;

      # NixOS's extendModules { modules ? [ ], specialArgs ? { }, prefix ? [ ] }.
      extendModules = extension:
        evalModules {
          modules = modules ++ (extension.modules or [ ]);
          specialArgs = specialArgs // (extension.specialArgs or { });
          prefix = extension.prefix or prefix;
          inherit class;
        };

      # As in NixOS: modules see the unchecked configuration; the result is checked.
      freeform = config._module.freeformType != null || lib.any (m: m.freeformType != null) collected;
      unmatched = if config._module.check && !freeform then unmatchedDefs prefix declarations definitions else [ ];
      checked = if unmatched == [ ] then (x: x) else throw (showUnmatched (head unmatched));
    in {
      config = checked (removeAttrs config [ "_module" ]);
      options = checked options;
      _module = checked config._module;
      type = lib.types.submoduleWith { modules = modules; inherit specialArgs; };
      inherit extendModules;
    };
in
rec {
  inherit evalModules mkOption isOption mkIf mkMerge mkOverride mkOrder
    defaultPriority defaultOrder optionDefaultPriority showLoc showValue
    mergeAnything mergeEqual mergeFreeform evalDefs;

  mkOptionDefault = mkOverride optionDefaultPriority;
  mkDefault = mkOverride 1000;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;
  mkBefore = mkOrder 500;
  mkAfter = mkOrder 1500;
  mkDerivedConfig = opt: f: mkOverride (opt.highestPrio or defaultPriority) (f opt.value);

  mkEnableOption = name: mkOption {
    type = lib.types.bool;
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
  };
  mkPackageOption = pkgs: name: { default ? [ name ], nullable ? false, example ? null, extraDescription ? "", ... }:
    let
      path = lib.toList default;
      pkg = lib.attrByPath path (throw "mkPackageOption: pkgs.${concatStringsSep "." path} does not exist in the stand-in") pkgs;
    in mkOption {
      type = if nullable then lib.types.nullOr lib.types.package else lib.types.package;
      default = pkg;
      description = "The ${if isList name then concatStringsSep "." name else name} package to use.${extraDescription}";
    };
  mkSinkUndeclaredOptions = attrs: mkOption ({ type = anythingType; default = { }; } // attrs);

  # Renamed and removed options, as NixOS declares them: the old path is an
  # option (so defining it is not an "option does not exist" error); a renamed
  # one forwards its value (priority not kept) with a warning, a removed one
  # fails an assertion when defined.
  # As upstream: the old option reads as the new one (through `apply`, so its own
  # definitions are never forced there), and its definitions move to the new option
  # at the priority they were given.
  doRename = { from, to, warn ? true, sinceRelease ? null }:
    { config, options, ... }:
    let
      fromOpt = lib.getAttrFromPath from options;
      message = "The option `${showLoc from}' has been renamed to `${showLoc to}'.";
    in {
      options = lib.setAttrByPath from (mkOption {
        visible = false;
        description = "Alias of {option}`${showLoc to}`.";
        apply = _: lib.getAttrFromPath to config;
      });
      config = mkMerge [
        (lib.setAttrByPath to (mkIf fromOpt.isDefined (mkMerge (map (mkOverride fromOpt.highestPrio) fromOpt.definitions))))
        { warnings = mkIf (warn && fromOpt.isDefined) [ message ]; }
      ];
    };
  mkRenamedOptionModule = from: to: doRename { inherit from to; };
  mkRenamedOptionModuleWith = { sinceRelease, from, to }: doRename { inherit from to sinceRelease; };
  mkAliasOptionModule = from: to: doRename { inherit from to; warn = false; };
  mkRemovedOptionModule = from: reason: { options, ... }:
    let fromOpt = lib.getAttrFromPath from options; in {
      options = lib.setAttrByPath from (mkOption { type = anythingType; visible = false; description = "Removed: ${reason}"; });
      config.assertions = [ {
        assertion = !fromOpt.isDefined;
        message = "The option definition `${showLoc from}' no longer has any effect; please remove it.\n${reason}";
      } ];
    };
  mkChangedOptionModule = from: to: f: { config, options, ... }:
    let fromOpt = lib.getAttrFromPath from options; in {
      options = lib.setAttrByPath from (mkOption { type = anythingType; visible = false; description = "Changed into `${showLoc to}'."; });
      config = lib.setAttrByPath to (mkIf fromOpt.isDefined (f config));
    };

  mkAliasDefinitions = opt: mkIf opt.isDefined opt.value;
  fixupOptionType = _: t: t;
}
