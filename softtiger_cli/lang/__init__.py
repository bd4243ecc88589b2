"""Clinical language as data: one folder of TOML files per language, read once and checked at load.

softtiger_cli/lang/<code>/ holds (the algorithms that read them stay in code):
- context.toml: the ConText cues of clinical/assertions.py. One `[[rule]]` table per cue: `literal`, `category`
  (negated, possible, history, resolved, hypothetical, planned, pseudo, terminate), `direction` (forward,
  backward, bidirectional; pseudo and terminate rules use their own name), optional `max_scope` (words), and an
  `example` sentence with its `target` item and the value it must `expect`; a pseudo rule names the category
  it `blocks`. Also `[scope.forward]`/`[scope.backward]` (default reach per category), `terminate_chars`,
  `ongoing` (words that keep a past-begun problem current) and `[family]` (the word lists around relatives).
- relatives.toml: `[relative]`, family member word -> HL7 v3-RoleCode `code` and `display`.
- sections.toml: `[headings]`, section kind -> heading names, lower case.

Adding a rule: append a `[[rule]]` table in its category's place (the first cue in file order that fits wins),
with an example sentence of your own in which that cue decides the target. tests/test_lang.py runs every
example, and checks that the rule is what decides it (without the rule, the example reads differently). A
rule that no example can show deciding carries `unreachable = "why"`. The loader refuses an unknown
category or direction, a duplicate cue, a missing key or example, naming the file and line.
"""

from softtiger_cli.lang.pack import (
    CATEGORIES, DIRECTIONS, SCOPED, Category, ContextRule, Direction, FamilyWords, Pack, PackError, fold_heading,
    Source, compile_pattern, load_pack, read_file, read_pack,
)

__all__ = ["CATEGORIES", "DIRECTIONS", "SCOPED", "Category", "ContextRule", "Direction", "FamilyWords", "Pack",
           "PackError", "Source", "compile_pattern", "fold_heading", "load_pack", "read_file", "read_pack"]
