"""Every diagnostic code in one strict registry: what it checks, why, and how to fix it.

`docs/rules.md` is generated from this table (scripts/gen_rules.py), and a test checks that every
code the package uses is here and that every code here is used or marked reserved. A design rule
(ARC3xx) has no fixed severity: each spec sets it under `rules:`, and its default lives in the
schema's `Rules` model, which the generator reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diagnostics import Severity
from .registry import Registry

# The papers the reasons cite, by the short names the docs use.
HE_2015 = "He et al. 2015"  # Deep Residual Learning for Image Recognition
HE_2016 = "He et al. 2016"  # Identity Mappings in Deep Residual Networks
HE_2019 = "He et al. 2019"  # Bag of Tricks for Image Classification with CNNs

_CODE = re.compile(r"ARC\d{3}\Z")


@dataclass(frozen=True)
class Code:
    """One diagnostic code; `severity` None marks a design rule, whose severity a spec sets."""

    code: str
    severity: Severity | None
    title: str  # what it checks, in one line
    why: str  # the reason, citing the paper section where one applies
    fix: str  # how to make it go away
    reserved: bool = False  # registered ahead of its use, so nothing else takes the number


CODES: Registry[Code] = Registry("diagnostic code")

_GROUPS = (("ARC0", "Loading"), ("ARC15", "Variants"), ("ARC1", "Schema"), ("ARC2", "Shapes"),
           ("ARC3", "Design rules"), ("ARC4", "Resource bounds"), ("ARC5", "Weights"))


def group(code: str) -> str:
    """The family a code belongs to: Loading, Schema, Variants, Shapes, Design rules, ..."""
    return next(name for prefix, name in _GROUPS if code.startswith(prefix))


def _add(code: str, severity: Severity | None, title: str, why: str, fix: str,
         reserved: bool = False) -> None:
    """Register one code; a malformed or repeated code raises."""
    if not _CODE.match(code):
        raise ValueError(f"diagnostic codes look like ARC123, not {code!r}")
    CODES.register(code, Code(code, severity, title, why, fix, reserved))


E, RULE = Severity.ERROR, None

# Loading (ARC0xx): bytes to a located YAML tree.
_add("ARC001", E, "YAML syntax error, or unreadable characters",
     "A spec is parsed into a tree that keeps every value's line and column; text that does not "
     "parse has no structure to check.",
     "Fix the indentation, colon or bracket at the caret, and remove control characters.")
_add("ARC002", E, "the file is not UTF-8",
     "Specs are UTF-8 text (a byte-order mark is allowed), so names and positions read the same "
     "on every machine.",
     "Save the file as UTF-8.")
_add("ARC003", E, "the file is over the size bound (1 MiB)",
     "A spec is a few dozen lines; the bound keeps a hostile or mistaken file (a log, a binary) "
     "from costing time or memory before a single field is read.",
     "Trim the file, and share settings with `extends` instead of copying them.")
_add("ARC004", E, "a duplicate key in a mapping",
     "YAML loaders keep the last of two equal keys without a word, so one of the two settings "
     "would be ignored silently.",
     "Keep one of the two entries.")
_add("ARC005", E, "more than one YAML document in the file",
     "One file holds one spec; a document after a `---` separator would be ignored.",
     "Remove the separator and put the second spec in a file of its own.")
_add("ARC006", E, "the file is empty, or its top level is not a mapping",
     "A spec is a mapping of fields (`name`, `stages`, ...); anything else has no fields to read.",
     "Write the fields at the top level; `archc list` shows built-in specs to start from.")
_add("ARC007", E, "a YAML tag (`!!python/...`, `!custom`, ...)",
     "Tags such as `!!python/object/apply` make some YAML loaders build objects or run code. "
     "archcompiler never honours a tag, and refuses the file rather than guess what it meant.",
     "Remove the tag: a spec holds only plain mappings, lists, numbers and strings.")
_add("ARC008", E, "too many aliases, an alias to an incomplete anchor, or a document that "
     "expands too far",
     "A few lines of anchors and aliases can expand to billions of values (an alias bomb, the "
     "'billion laughs' attack), so aliases are counted and the expanded size is bounded.",
     "Write the values out; specs share values with `extends` instead.")
_add("ARC009", E, "nesting deeper than the bound (32 levels)",
     "A spec needs a few levels of nesting; unbounded depth is the other way a small file could "
     "cost unbounded work.",
     "Flatten the structure.")
_add("ARC010", E, "a YAML 1.1 surprise: plain yes/no/on/off where the field does not list that "
     "word, or a leading-zero \"octal\" number",
     "YAML 1.1 reads plain `yes`, `no`, `on` and `off` as booleans and `010` as octal 8; YAML 1.2 "
     "reads them as strings and decimal 10. The two readings disagree, so a value whose meaning "
     "depends on the reader is refused.",
     "Write `true` or `false` for a flag, quote a string, and drop leading zeros.")
_add("ARC011", E, "a mapping key that is not a string",
     "Every key in a spec is a field name; a number or a mapping as a key is a mistake (often a "
     "list written as a mapping).",
     "Use a plain word as the key, or a list where a list is meant.")
_add("ARC012", E, "no spec file or built-in spec by that name (a usage error: exit 2)",
     "A spec is a path to a file or the name of a built-in spec; when the argument is neither, "
     "nothing was checked, so this is a usage error (exit code 2), not an invalid spec.",
     "Check the path, or take a name from `archc list`; the hint names the closest one.")
_add("ARC013", E, "a malformed override (`--set KEY=VALUE`, `overrides=`)",
     "An override is one more `extends` layer on top of the spec: a dotted path to a field and "
     "a YAML value. Without `=`, with a key that is not a path, or with a value that does not "
     "parse, there is nothing to merge; and `extends` itself cannot be overridden, since the "
     "chain is read before any override applies.",
     "Write KEY=VALUE with a dotted KEY and a YAML VALUE, e.g. `--set head.classes=10`; to "
     "change the base, write a spec file that extends it.")

# Schema (ARC1xx): the tree against the spec language.
_add("ARC100", E, "another schema error",
     "The fallback for a schema error with no more specific code. The built-in fields all have "
     "one; a user-registered block type's own validator can raise others.",
     "Read the message; `archc schema` shows every field with its type and range.")
_add("ARC101", E, "an unknown key (with a did-you-mean)",
     "The spec models are closed: a misspelt field would otherwise be dropped and the default "
     "used in its place, without a word.",
     "Use the key the hint suggests, or one of the keys it lists.")
_add("ARC102", E, "a required key is missing",
     "`spec_version`, `name` and `stages` have no defaults; a spec that `extends` another "
     "inherits them.",
     "Add the key, or start the spec with `extends: <a built-in spec>`.")
_add("ARC103", E, "a wrong type; strict: `\"2\"` and `2.0` are not integers",
     "Validation is strict, so no value is coerced into something its author did not write: "
     "a quoted number is a string, and `2.0` is not a count.",
     "Write the value in the field's type; the hint shows how.")
_add("ARC104", E, "a value out of range (zero, negative, too large, too long)",
     "Counts are positive, rates below 1, and sizes capped, so an absurd value cannot cost time "
     "or memory downstream.",
     "Change the value to fit the range the message gives.")
_add("ARC105", E, "an unknown choice or block type (with a did-you-mean)",
     "Choices (block types, shortcut options, activations) are closed lists; an unknown one is a "
     "typo, or a block type the running program has not registered.",
     "Use the choice the hint suggests, or one of those it lists.")
_add("ARC106", E, "NaN or infinity",
     "No field has a meaning for NaN or infinity, and either would poison every count "
     "downstream.",
     "Write a finite number.")
_add("ARC107", E, "a block type tag that names Python code",
     "A spec is data: nothing it says can import or run code. A tag like `mypkg.blocks:MyBlock` "
     "asks for exactly that, so it is refused rather than looked up.",
     "Load the module that registers the block type with `archc --plugin MODULE` (or "
     "ARCHC_PLUGINS, or an `archcompiler.blocks` entry point), then write its tag.")
_add("ARC108", E, "a declared block clashes with another name",
     "A block declared under `blocks:` may not take a built-in's tag, a block file's `block:` "
     "must equal the tag it is declared under, and a field may not take a reserved name (in, "
     "out, width, stride, type, or a function of the expressions).",
     "Rename the declared block or the field.")
_add("ARC110", E, "`depths`, `widths` and `strides` have different lengths",
     "Entry i of each list describes stage i; a list of another length leaves a stage "
     "half-described.",
     "Give one entry per stage in each list.")
_add("ARC111", E, "both or neither of `stages.depths` and `stages.per_stage`",
     "The two forms describe the same stages: with both, one would be ignored; with neither, "
     "there are no stages.",
     "Keep one form. To switch an inherited spec to `per_stage`, also set `depths: null, "
     "widths: null, strides: null`.")
_add("ARC112", E, "a stage needs exactly one of `width` and `out_channels` (or `widths` is "
     "missing)",
     "`out_channels` is `width` times the block's expansion: both could disagree, and neither "
     "leaves the stage's size unknown.",
     "Give `widths` with `depths`, or exactly one of `width` and `out_channels` per stage.")
_add("ARC113", E, "`out_channels` is not a multiple of the block's expansion",
     f"A bottleneck's output is its width times the expansion: 64-d inside, 256-d out "
     f"({HE_2015}, section 4.1, Fig. 5). Other output counts have no width that makes them.",
     "Use a multiple of the expansion, or give `width` instead.")
_add("ARC114", E, "a block's inner width comes to 0",
     f"A bottleneck's 3x3 works on `int(width x width_per_group / 64) x groups` channels (the "
     f"bottleneck of {HE_2015}, section 4.1, with ResNeXt's groups); below 1 there is no layer "
     "to build.",
     "Raise the width or `width_per_group`, or use fewer groups.")
_add("ARC115", E, "the stages hold more than 5,000 blocks in all",
     f"Each block costs about 0.1 ms and 50 KB to analyse; the bound, far above the 1001-layer "
     f"net of {HE_2016}, keeps a hostile file cheap.",
     "Use fewer blocks, or raise the bound: `--max-blocks`, `Limits(max_blocks=...)`.")
_add("ARC116", E, "`width_multiplier` rounds the widths so that their ratios change",
     f"Widths round to multiples of `width_divisor`, which can change the ratio between two "
     f"stages and break rule (i) or (ii) of {HE_2015}, section 3.3. The multiplier is refused, "
     "never repaired behind the author's back.",
     "Use the multiplier the hint names, which keeps every ratio, or change `width_divisor`.")
_add("ARC117", E, "a width rule `{base, rule: double}` doubles a stage past 65,536 channels",
     f"An explicit width is capped at 65,536 channels (ARC104); a width rule, which doubles the "
     f"width at each halving as rule (ii) of {HE_2015}, section 3.3 asks, meets the same cap.",
     "Use a smaller base, or fewer stride-2 stages.")

# Variants (ARC15x): the `extends` chain.
_add("ARC118", Severity.NOTE, "an inherited padding gives way to a kernel written later",
     "A base's `padding: 3` belongs to its 7x7 kernel. Kept beside a 3x3 kernel written in a "
     "variant, it would grow every map by 4 pixels, and the network would silently not be the "
     "one written. So a padding follows the kernel (kernel // 2) unless it is written in the "
     "same layer as the kernel or a later one; the note says so at the user's kernel.",
     "Nothing to fix; to keep the inherited padding, write it beside the kernel.")
_add("ARC119", Severity.WARNING, "a padding over half the kernel",
     "Padding beyond kernel // 2 adds rows and columns of zeros that only grow the map: with "
     "kernel 3 and padding 3, a 64x64 map becomes 68x68.",
     "Use kernel // 2, or leave the padding out so it follows the kernel.")
_add("ARC150", E, "`extends` names no built-in spec",
     "A bare word in `extends` is the name of a built-in spec; a path to a file ends in `.yaml` "
     "or `.yml`, or holds a `/`.",
     "Use a name from `archc list` (the hint names the closest), or a path to a file.")
_add("ARC151", E, "`extends` forms a cycle",
     "A cycle has no base to start merging from.",
     "Remove one `extends`, so the chain ends at a spec without one.")
_add("ARC152", E, "the `extends` chain is longer than 16 files",
     "The bound caps the files one spec may read; a long chain is hard for people to follow too.",
     "Copy settings into fewer files, or raise the bound: `--max-extends`, "
     "`Limits(max_extends=...)`.")
_add("ARC153", E, "`extends` names a URL",
     "A spec never reaches the network: what is validated is exactly what is on disk.",
     "Download the base spec and extend its local path.")
_add("ARC154", E, "`extends` reaches outside the spec's folder tree",
     "A spec from elsewhere (a download, a pull request) could otherwise read any file its user "
     "can, and print its lines in diagnostics.",
     "Move the base next to the spec, or allow it: `--allow-outside`, `allow_outside=True`.")
_add("ARC155", E, "the base file cannot be read",
     "The merge needs the base; a missing file, a folder or a device cannot be one.",
     "Check the path: `extends` paths are relative to the file that holds them.")
_add("ARC156", E, "`sweep --write` cannot name files after the base's `name`",
     "Each variant file is named after the base spec's name and its variant number, inside the "
     "folder given to `--write`; a name with a slash, `..` or other characters that are not safe "
     "in a file name could write outside that folder, so it is refused before the sweep starts.",
     "Give the base a name of letters, digits, `_`, `.` and `-` (not first), e.g. `name: my_net`.")

_add("ARC171", E, "a Python block type made an IR the backends cannot build",
     "The torch backend relies on unique node names, nodes that read only earlier values, "
     "module names that are dotted Python names (no dunder such as `__class__`), registered "
     "ops and activations, and modules shared only by equal ops. A user's block type that "
     "breaks one is reported at `validate`, with its file, not as a crash at `build`.",
     "Fix the block type's `lower` as the message says.")
# Shapes (ARC2xx): shape inference over the IR.
# Block declarations (ARC16x-ARC17x): block types written as data, and user block types.
_add("ARC160", E, "an expression in a block declaration does not parse",
     "Channel counts, strides and groups of a declared block are integer expressions: numbers, "
     "names, + - * //, parentheses, and min, max, make_divisible, round_to, ceil_div. Nothing "
     "else is accepted, since the text is never run as code.",
     "Fix the expression at the caret; the hint names what was expected.")
_add("ARC161", E, "an expression reads an unknown name",
     "An expression may read in, out, width, stride, the block's int fields and the values "
     "declared before it; any other name is a typo or a value declared later.",
     "Use the name the hint suggests, or declare the value first.")
_add("ARC162", E, "an expression divides by zero",
     "A channel count or stride that divides by zero has no value; the divisor comes from the "
     "block's fields or the stage's width.",
     "Change the expression or the field it divides by.")
_add("ARC163", E, "an expression is too long, too deep or too large",
     "Block files are untrusted input, so expressions are bounded: 256 characters, 128 tokens, "
     "32 levels of nesting, 12 digits a number, and every value within 2**48.",
     "Simplify the expression.")
_add("ARC164", E, "a declared block's channel count, kernel or groups leaves 1..65,536",
     "An expression that evaluates to 0 or to a vast number would describe a layer that cannot "
     "exist; it is refused before anything is allocated.",
     "Check the expression and the fields it reads for this stage's width.")
_add("ARC165", E, "a declared block ends with channels other than its out_channels",
     "A block's output is width x expansion channels, which the next block and the rules rely "
     "on; a last op that makes another count would break both.",
     "Make the last op produce `out` channels, or set the block's `expansion`.")
_add("ARC166", E, "two ops of a declared block share a name or a module",
     "An op's name is its node and module name, which become state_dict keys: two ops with "
     "one name would overwrite each other. Only activations, which have no state, may share "
     "a module.",
     "Give every op its own name.")
_add("ARC167", E, "an op reads an op that is not declared before it",
     "Ops are listed in order, and each reads the previous op, `in` (the block input), or an "
     "earlier op by name; anything else would be a cycle or a typo.",
     "Name an earlier op, as the hint suggests.")
_add("ARC168", E, "an op of a declared block lacks a key it needs",
     "A conv needs `out` (its output channels); an add or mul joins exactly two earlier ops.",
     "Add the key the message names.")
_add("ARC170", E, "a block type's own lowering failed",
     "A Python block type (from --plugin or register_block) raised, or returned something "
     "other than the node that leaves the block. That is the block type's error, reported with "
     "its file and the spec line that uses it, not a fault of the compiler.",
     "Fix the block type's `lower`; the message names its file and the exception.")
_add("ARC201", E, "a feature map collapses below 1x1",
     f"Each downsampling halves the map ({HE_2015}, section 3.3): 224 px reach 7x7 after five "
     f"halvings (Table 1), and CIFAR's 32 px reach 8x8 after two (section 4.2). A smaller input, "
     "more strides or less padding leave no pixels at all.",
     "Use a larger input, fewer stride-2 stages, or a smaller stride.")
_add("ARC202", E, "a layer receives a different channel or feature count than it expects",
     "Lowering threads every channel count through the built-in block types, so they always "
     "match; a user-registered block type that wires a layer to the wrong count meets this.",
     "Make the layer's input count equal the previous layer's output count.")
_add("ARC203", E, "`groups` does not divide the channels",
     "A grouped conv splits its input and output channels into `groups` equal parts. The "
     "built-in bottlenecks always make divisible widths; a user-registered block type can not.",
     "Choose groups that divide both channel counts.")
_add("ARC204", E, "pool padding exceeds half the kernel",
     "torch refuses pool padding above half the kernel: the extra windows would hold padding "
     "only, never a pixel of the input.",
     "Use a padding of at most `kernel // 2`.")
_add("ARC205", E, "a spatial op after the flatten",
     "Convs and pools need a CxHxW map; after the flatten there are only features. The head "
     "flattens last, so only a user-registered block type that flattens meets this.",
     "Keep the block's ops on the feature map; the head pools and flattens.")
_add("ARC206", E, "an option-A shortcut would have to shrink channels",
     f"Option A keeps the identity and pads the extra channels with zeros, adding no parameters "
     f"({HE_2015}, sections 3.3 and 4.1); it can add channels, never drop them.",
     "Use shortcut B (projection where shapes change) or C (projection everywhere).")
_add("ARC207", E, "the residual add joins different shapes",
     f"The add F(x) + x needs equal dimensions ({HE_2015}, section 3.2, Eqn. 1); where they "
     "differ, a projection matches them (Eqn. 2), or option A zero-pads (section 3.3).",
     "Use shortcut B (projection) or A (zero-pad) where a block changes channels or stride.")

_add("ARC208", E, "a group norm with one value per group",
     "A group norm normalises each group of channels over the map; with one channel per group "
     "on a 1x1 map there is one value, whose variance is undefined, and torch refuses it even "
     "in eval mode. The analysis refuses it first.",
     "Use fewer groups, more channels or a larger map, or another norm.")

# Design rules (ARC3xx): severity per spec, under `rules:`.
_add("ARC301", RULE, "rule (i): stages that make maps of the same size have the same width",
     f"{HE_2015}, section 3.3: \"(i) for the same output feature map size, the layers have the "
     "same number of filters\". Stages compare their output channels, so stages of different "
     "block types compare fairly.",
     "Give the stage the width the hint names, or downsample it so its map halves.")
_add("ARC302", RULE, "rule (ii): a stage that shrinks the map halves it, and doubles the width",
     f"{HE_2015}, section 3.3: \"(ii) if the feature map size is halved, the number of filters "
     "is doubled so as to preserve the time complexity per layer.\" It applies at every map "
     "change after the stem, the first stage's included. The stem is exempt: the rules govern "
     "the stages' layers, which \"mostly have 3x3 filters\" (section 3.3), while the 7x7 stem "
     "and its max pool turn the 3-channel image into the first width (64) at a quarter of its "
     "size in one step, where doubling the filters has no meaning.",
     "Double the width where the map halves (the hint names the width), use stride 2 to "
     "downsample, or switch the rule: `rules: {double_on_halve: warn}`.")
_add("ARC303", RULE, "identity shortcuts need equal shapes; option A needs out >= in channels",
     f"An identity shortcut adds x unchanged, so shapes must match ({HE_2015}, section 3.2, "
     "Eqn. 1). Where they change, option A zero-pads and option B projects; option C projects "
     f"every shortcut (sections 3.3 and 4.1, Table 3). {HE_2016} (section 3) shows why the "
     "identity is kept wherever it fits: a clean identity path carries the signal directly.",
     "Use shortcut B (or A where channels only grow) for the stages whose shapes change.")
_add("ARC304", RULE, "every stride divides the map it reduces",
     f"The design halves maps exactly ({HE_2015}, section 3.3; 32, 16, 8 on CIFAR, section 4.2). "
     "A stride that does not divide the map drops border pixels unevenly, and later maps no "
     "longer halve.",
     "Change the input size or the stride so the map divides.")
_add("ARC305", RULE, "mean MACs per main-path conv of each stage stay within 2x of the first's",
     f"Rule (ii) exists \"so as to preserve the time complexity per layer\" ({HE_2015}, "
     "section 3.3); this checks that purpose directly, on the counted multiply-accumulates.",
     "Double the width where the map halves, and only there.")
_add("ARC306", RULE, "a name like `resnet50` matches the counted layers",
     f"{HE_2015} name nets by their weighted layers: ResNet-50 is 1 stem conv, 48 block convs "
     "and 1 fc (Table 1), a CIFAR net 6n+2 (section 4.2). A name that disagrees usually means a "
     "miscounted depth list, or strides and depths swapped.",
     "Check `depths` (and that `strides` and `depths` are not swapped), or rename the spec.")
_add("ARC307", RULE, "no main-path conv strides past its kernel",
     f"A 1x1 conv with stride 2 reads one pixel in four and ignores three quarters of its input "
     f"({HE_2019}, section 4.2, ResNet-B). The v1 layout of {HE_2015} does this in its "
     "bottlenecks, so the v1 zoo specs switch the rule off; torchvision's v1.5 layout, the "
     "default here, strides the 3x3 instead.",
     "Put the stride on the 3x3 (`downsample_at: 3x3`), or switch the rule off for a v1 net.")
_add("ARC308", RULE, "no conv bias feeds a batch norm, which cancels it",
     "Batch norm subtracts each channel's mean over the batch, so a per-channel constant added "
     "just before it is removed again: the bias gets no gradient and changes no output. "
     f"{HE_2015} use no bias there (\"We adopt batch normalization (BN) right after each "
     "convolution and before activation\", section 3.4), as torchvision does; a hand-written "
     "net with `bias=True` has one parameter per channel of every such conv that does "
     "nothing. It is a note, not an error: the net is correct, only larger than it needs to be.",
     "Set `conv_bias: false`, or keep it to load weights that have the biases and switch the "
     "note off: `rules: {bias_before_norm: off}`.")

# Resource bounds (ARC4xx): checked on the analysis, before anything is allocated.
_add("ARC401", E, "more parameters than `max_params` (default 20 G)",
     "The analysis counts every parameter before a tensor exists, so a build that could never "
     "finish is refused at once instead of failing after minutes.",
     "Shrink the widths or depths, or raise the bound: `--max-params`, `Limits(max_params=...)`.")
_add("ARC402", E, "the weights and buffers need more memory than `max_memory`",
     "Building allocates every weight and buffer; asking for more memory than the machine has "
     "available ends with the process killed halfway, or the machine swapping.",
     "Shrink the widths, or raise the bound: `--max-memory`, `Limits(max_memory=...)`.")
_add("ARC403", E, "one feature map has more elements than `max_activation` (default 2^31)",
     "A single map beyond 2^31 elements overflows 32-bit indexing in many kernels, and needs "
     "gigabytes for one input.",
     "Use a smaller input or narrower stages, or raise the bound: `--max-activation`.")
_add("ARC404", E, "the graph has more IR nodes than `max_nodes` (default 200,000)",
     "Every command walks the graph; the bound keeps the work and memory one spec can ask for "
     "finite.",
     "Use fewer blocks, or raise the bound: `--max-nodes`, `Limits(max_nodes=...)`.")

# Weights (ARC5xx): loading weights into a built module.
_add("ARC501", E, "a weights file cannot be read as torch weights (an I/O error: exit 2)",
     "Weights are read with `torch.load(weights_only=True)`, which refuses pickled code: a file "
     "that is not a state_dict of named tensors (or a checkpoint holding one under `state_dict` "
     "or `model`) is not loaded at all, and no file can run code by being loaded.",
     "Give a file written by `torch.save(model.state_dict(), path)`.")
_add("ARC502", E, "the weights' keys, shapes or dtypes do not fit the spec's module",
     "Loading is strict: a missing, unexpected or wrongly shaped key would leave a layer at its "
     "random initialisation, or stop the load halfway, and integer or complex values copied into "
     "floating-point parameters would be truncated without a word. Each key is traced to the IR node that "
     "owns it and the spec line that made it, and nothing is loaded unless every key fits.",
     "Change the spec value on the line shown to match the weights, or load weights saved from "
     "this spec; from DataParallel or DDP, save `model.module.state_dict()`.")
