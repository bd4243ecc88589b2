"""Clinical language as data: one folder of TOML files per language, read once and checked at load.

softtiger_cli/lang/<code>/ holds one file per concern, each with its own loader here: context.toml,
relatives.toml, sections.toml (pack.py); status.toml, visit.toml (status.py); vocab.toml, steering.toml
(vocab.py); lists.toml, synthea.toml (lists.py; a generator's file applies only to notes with its markers);
findings.toml (findings.py); medications.toml (medications.py); vitals.toml, dates.toml, abbreviations.toml
with lang/common/vitals.toml (measures.py). README's "Clinical language as data" says what each holds.
lang/zh/ holds Chinese; a file a language does not have yet is read from lang/en/ (pack.shipped). text.py
is the text model of each language (sentences, heading shapes, boundaries, scope counts, plausible names).

Adding a rule: append a `[[rule]]` table in its category's place (the first cue in file order that fits wins),
with an example sentence of your own in which that cue decides the target. tests/test_lang.py runs every
example, and checks that the rule is what decides it (without the rule, the example reads differently). A
rule that no example can show deciding carries `unreachable = "why"`. The loader refuses an unknown
category or direction, a duplicate cue, a missing key or example, naming the file and line.
"""

from softtiger_cli.lang.pack import (
    CATEGORIES, DIRECTIONS, SCOPED, Category, ContextRule, Direction, FamilyWords, Pack, PackError, fold_heading,
    Source, compile_pattern, load_pack, per_language, read_file, read_pack,
)

__all__ = ["CATEGORIES", "DIRECTIONS", "SCOPED", "Category", "ContextRule", "Direction", "FamilyWords", "Pack",
           "PackError", "Source", "compile_pattern", "fold_heading", "load_pack", "per_language", "read_file",
           "read_pack"]
