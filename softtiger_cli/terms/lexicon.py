"""Runtime lexicons: lazy loading of the shipped data, mention finding and exact coding.

Standard library only; nothing is read until a function needs it. Data files (built by `build.py`) are
gzip-compressed tab-separated lines `key<TAB>value<TAB>flags[<TAB>term]`, where key is `normalise(term)`;
flags: `m` searched in notes, `c` curated, `U` match only when written in capitals.
"""

from __future__ import annotations

import gzip
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from softtiger_cli.core.text import han_count

from .normalise import TOKEN_RE, fold_token, normalise, readable

DATA_DIR = Path(__file__).resolve().parent / "data"

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
KINDS = ("condition", "medication", "vaccine")


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class DrugCode:
    """A drug resolved to its canonical ingredient (display) with the codings THO names a system for.

    The source gives DrugBank and MedlinePlus ids; HL7 Terminology names no FHIR system for either, so
    `codings` is empty and the ids are kept in `ids` for reference only.
    """

    display: str
    term: str
    codings: tuple[Coding, ...] = ()
    ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    kind: str  # "condition" | "medication" | "vaccine"
    text: str  # the note's words, text[start:end]
    term: str  # the lexicon term (lower case, punctuation folded)
    code: Coding | None
    display: str | None = None  # ICD-10-CM title, ingredient name, or CVX description
    via: str | None = None  # the abbreviation expansion used (from extra_terms), if any


class _Table:
    __slots__ = ("entries", "first")

    def __init__(self) -> None:
        self.entries: dict[str, tuple] = {}
        self.first: dict[str, int] = {}  # first token of a searched term -> most tokens of such a term


_lock = threading.Lock()
_cache: dict[str, object] = {}


def _read_columns(name: str) -> list[list[str]]:
    with gzip.open(DATA_DIR / name, "rb") as f:
        text = f.read().decode("utf-8")
    return [line.split("\t") for line in text.split("\n")[:-1]]


def _load_terms(name: str, *, searched_flag: str | None = None) -> _Table:
    keys, values, flags, terms = _read_columns(name)
    table = _Table()
    table.entries = dict(zip(keys, zip(values, flags, terms)))
    first = table.first
    searched = keys if searched_flag is None else [k for k, f in zip(keys, flags) if searched_flag in f]
    for key in searched:
        sp = key.split(" ", 1)
        n = key.count(" ") + 1
        if first.get(sp[0], 0) < n:
            first[sp[0]] = n
    return table


def _get(name: str):
    obj = _cache.get(name)
    if obj is not None:
        return obj
    with _lock:
        obj = _cache.get(name)
        if obj is None:
            obj = _LOADERS[name]()
            _cache[name] = obj
    return obj


def _load_icd() -> dict[str, str]:
    codes, titles = _read_columns("icd10cm.tsv.gz")
    return dict(zip(codes, titles))


def _load_drug_concepts() -> dict[str, tuple[str, str, str]]:
    keys, names, drugbank, medlineplus = _read_columns("drug_concepts.tsv.gz")
    return dict(zip(keys, zip(names, drugbank, medlineplus)))


def _load_vaccines():
    codes, displays = _read_columns("cvx.tsv.gz")
    return _load_terms("vaccines.tsv.gz"), dict(zip(codes, displays))


def _load_zh(name: str):
    from .zh import ZhTable  # noqa: PLC0415

    keys, values, flags, terms = _read_columns(name)
    return ZhTable(keys, values, flags, terms)


_LOADERS = {
    "zh_conditions": lambda: _load_zh("zh_conditions.tsv.gz"),
    "zh_drugs": lambda: _load_zh("zh_drugs.tsv.gz"),
    "zh_vaccines": lambda: _load_zh("zh_vaccines.tsv.gz"),
    "icd": _load_icd,
    "conditions": lambda: _load_terms("conditions.tsv.gz", searched_flag="m"),
    "drugs": lambda: _load_terms("drugs.tsv.gz"),
    "drug_concepts": _load_drug_concepts,
    "vaccines": _load_vaccines,
}


def load_all() -> None:
    """Load every table now (for benchmarks, or to pay the cost up front)."""
    for name in _LOADERS:
        _get(name)


def manifest() -> dict:
    """The build manifest: source package versions, code system releases, counts."""
    return json.loads((DATA_DIR / "manifest.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ coding

def _condition_coding(code: str) -> Coding:
    return Coding(ICD10CM_SYSTEM, code, _get("icd").get(code))


def _vaccine_coding(code: str) -> Coding | None:
    if not code:
        return None
    return Coding(CVX_SYSTEM, code, _get("vaccines")[1].get(code))


def _drug_code(concept: str, term: str) -> DrugCode:
    name, db, mp = _get("drug_concepts")[concept]
    ids = {}
    if db:
        ids["drugbank"] = db
    if mp:
        ids["medlineplus"] = mp
    return DrugCode(display=name, term=term, codings=(), ids=ids)


def code_condition(text: str) -> Coding | None:
    """ICD-10-CM coding when the whole text is, after normalisation, a title, an inclusion term or a
    curated synonym (never fuzzy, never a part of the text)."""
    if han_count(text) > 0:  # Chinese words: the Chinese lexicon's exact names (curated ones carry a code)
        from .zh import key  # noqa: PLC0415

        ze = _get("zh_conditions").entries.get(key(text.strip()))
        return _condition_coding(ze[0]) if ze and ze[0] else None
    e = _get("conditions").entries.get(normalise(text))
    return _condition_coding(e[0]) if e else None



def code_drug(text: str) -> DrugCode | None:
    """The drug named by text ("Lasix", "lisinopril 20 mg daily"): the whole text, else the first drug
    name found inside it."""
    if han_count(text) > 0:
        for m in find_mentions(text, kinds=("medication",), lang="zh"):
            return DrugCode(display=m.display or m.term, term=m.term)
        return None
    key = normalise(text)
    e = _get("drugs").entries.get(key)
    if e:
        return _drug_code(e[0], e[2] or key)
    for m in find_mentions(text, kinds=("medication",)):
        e = _get("drugs").entries[normalise(m.term)]
        return _drug_code(e[0], m.term)
    return None


def code_vaccine(text: str) -> Coding | None:
    """CVX coding for a vaccine named by text (whole text, else the first vaccine named inside it)."""
    if han_count(text) > 0:  # a Chinese name: the Chinese table's exact name first
        from .zh import key  # noqa: PLC0415

        ze = _get("zh_vaccines").entries.get(key(text.strip()))
        if ze is not None:
            return _vaccine_coding(ze[0])
    e = _get("vaccines")[0].entries.get(normalise(text))
    if e:
        return _vaccine_coding(e[0])
    for m in find_mentions(text, kinds=("vaccine",), lang="zh" if han_count(text) else "en"):
        return m.code
    return None


def is_known_code(system: str, code: str) -> bool:
    """Whether (system, code) is in the shipped ICD-10-CM or CVX lists."""
    if system == ICD10CM_SYSTEM:
        return code in _get("icd")
    if system == CVX_SYSTEM:
        return code in _get("vaccines")[1]
    return False


# ------------------------------------------------------------------------------------------ finding

# What may stand between two words of one term: spaces (at most one line break), or one hyphen/slash.
_GAP_OK = re.compile(r"[ \t]*(?:\r?\n[ \t]*)?|[ \t]*[-/][ \t]*")


def _tokenise(text: str) -> tuple[list[int], list[int], list[str], list[bool]]:
    starts: list[int] = []
    ends: list[int] = []
    norms: list[str] = []
    join: list[bool] = []  # join[i]: token i may continue a term started before it
    prev_end = -1
    pending_ok = True  # the gap before a skipped "the" was fine
    for m in TOKEN_RE.finditer(text):
        s, e = m.span()
        tok = m.group(0)
        norm = fold_token(tok)
        gap_ok = prev_end >= 0 and _GAP_OK.fullmatch(text, prev_end, s) is not None
        if norm == "the":
            pending_ok = gap_ok
            prev_end = e
            continue
        starts.append(s)
        ends.append(e)
        norms.append(norm)
        join.append(gap_ok and pending_ok)
        pending_ok = True
        prev_end = e
    return starts, ends, norms, join


def _surface_ok(flags: str, surface: str) -> bool:
    return "U" not in flags or not any(c.islower() for c in surface)


def _scan(table_entries, first, tokens, text, *, require_m: bool):
    starts, ends, norms, join = tokens
    n = len(norms)
    found = []
    for i in range(n):
        maxn = first.get(norms[i])
        if not maxn:
            continue
        limit = i + 1
        while limit < n and limit - i < maxn and join[limit]:
            limit += 1
        for j in range(limit, i, -1):
            key = norms[i] if j == i + 1 else " ".join(norms[i:j])
            e = table_entries.get(key)
            if e is None or (require_m and "m" not in e[1]):
                continue
            if not _surface_ok(e[1], text[starts[i]:ends[j - 1]]):
                continue
            found.append((i, j, key, e))
            break
    return found


def _select(found, tokens):
    """Longest match wins; no two selected matches of one kind overlap."""
    starts, ends, _, _ = tokens
    found.sort(key=lambda f: (-(f[1] - f[0]), -(ends[f[1] - 1] - starts[f[0]]), f[0]))
    taken: list[tuple[int, int]] = []
    out = []
    for f in found:
        if any(f[0] < b and a < f[1] for a, b in taken):
            continue
        taken.append((f[0], f[1]))
        out.append(f)
    out.sort(key=lambda f: f[0])
    return out


def _extra_tables(extra_terms: Mapping[str, str]) -> dict[str, _Table]:
    """Abbreviation -> expansion pairs resolved to the kind whose lexicon has the expansion."""
    cond = _get("conditions").entries
    drugs = _get("drugs").entries
    vacc = _get("vaccines")[0].entries
    out = {k: _Table() for k in KINDS}
    for abbr, expansion in extra_terms.items():
        akey = normalise(abbr)
        ekey = normalise(expansion)
        if not akey or not ekey:
            continue
        short = len(akey.replace(" ", "")) <= 3
        for kind, src in (("condition", cond), ("medication", drugs), ("vaccine", vacc)):
            e = src.get(ekey)
            if e is None:
                continue
            flags = "mx" + ("U" if short else "")
            out[kind].entries[akey] = (e[0], flags, e[2] or ekey, readable(abbr))
            first = akey.split(" ")[0]
            out[kind].first[first] = max(out[kind].first.get(first, 0), len(akey.split(" ")))
            break
    return out


def _zh_mentions(text: str, kinds: tuple[str, ...]) -> list[Mention]:
    """Chinese conditions, drugs and vaccines named in text (terms/zh.py): exact spans, the Chinese term, a
    code only for a curated exact name; a drug's display is its English ingredient where known."""
    from .zh import fold, scan  # noqa: PLC0415

    folded, out = fold(text), []
    if "condition" in kinds:
        for s, e, k in scan(_get("zh_conditions"), text, folded):
            code, _, term = _get("zh_conditions").entries[k]
            coding = _condition_coding(code) if code else None
            out.append(Mention(s, e, "condition", text[s:e], term or k, coding, coding.display if coding else None))
    if "medication" in kinds:
        from .curated_zh import ZH_FORMS  # noqa: PLC0415

        for s, e, k in scan(_get("zh_drugs"), text, folded):
            ingredient, _, english = _get("zh_drugs").entries[k]
            form = next((f for f in ZH_FORMS if folded.startswith(f, e)), "")  # "泼尼松" + "片": the product
            e += len(form)
            out.append(Mention(s, e, "medication", text[s:e], k, None, english or ingredient))
    if "vaccine" in kinds:
        for s, e, k in scan(_get("zh_vaccines"), text, folded):
            code, _, term = _get("zh_vaccines").entries[k]
            coding = _vaccine_coding(code)
            out.append(Mention(s, e, "vaccine", text[s:e], term or k, coding, coding.display if coding else None))
    return out


def find_mentions(text: str, *, extra_terms: Mapping[str, str] | None = None,
                  kinds: Iterable[str] = KINDS, lang: str = "en") -> list[Mention]:
    """Lexicon terms named in text, as exact spans: conditions, medications and vaccines.

    Word boundaries, case and plural tolerant, longest match wins, no overlapping mentions of one kind;
    a mention inside a longer mention of another kind ("flu" in "flu shot") is dropped. `extra_terms`
    adds abbreviation -> expansion pairs (the expansion must be a lexicon term); abbreviations of up to
    three letters then match only when written in capitals. `lang="zh"` adds the Chinese lexicon's terms.
    """
    kinds = tuple(kinds)
    tokens = _tokenise(text)
    extras = _extra_tables(extra_terms) if extra_terms else None
    mentions: list[Mention] = []
    for kind in kinds:
        if kind == "condition":
            table = _get("conditions")
        elif kind == "medication":
            table = _get("drugs")
        elif kind == "vaccine":
            table = _get("vaccines")[0]
        else:
            raise ValueError(f"unknown kind {kind!r}")
        found = _scan(table.entries, table.first, tokens, text, require_m=kind == "condition")
        if extras and extras[kind].entries:
            found += _scan(extras[kind].entries, extras[kind].first, tokens, text, require_m=False)
        for i, j, key, e in _select(found, tokens):
            s, t = tokens[0][i], tokens[1][j - 1]
            via = e[3] if len(e) > 3 else None
            if kind == "condition":
                code, display = _condition_coding(e[0]), None
                display = code.display
            elif kind == "medication":
                code, display = None, _get("drug_concepts")[e[0]][0]
            else:
                code = _vaccine_coding(e[0])
                display = code.display if code else None
            mentions.append(Mention(s, t, kind, text[s:t], e[2] or key, code, display, via))
    if lang == "zh":  # Chinese words by the Chinese lexicon; Latin words (COPD, Metformin) by the English one
        mentions += _zh_mentions(text, kinds)
    if len(kinds) > 1:
        mentions = [m for m in mentions if not any(
            o.kind != m.kind and o.start <= m.start and m.end <= o.end and (o.end - o.start) > (m.end - m.start)
            for o in mentions)]
    mentions.sort(key=lambda m: (m.start, m.end, m.kind))
    return mentions
