"""Build the shipped lexicons from public code lists (build time only; the runtime never imports this).

Sources (install with `pip install 'softtiger[terms]'`):
- `simple-icd-10-cm` (ICD-10-CM tabular, CDC/CMS, public domain; package MIT),
- `drug-named-entity-recognition` (drug names/synonyms -> canonical drug with DrugBank/MedlinePlus ids; MIT),
- `wordfreq` (English word frequencies, used only to drop drug "names" that are common English words),
- the curated tables in `curated.py` (conditions synonyms, CVX vaccines, drug adjustments).

`build_terms(out_dir)` writes the data files (deterministic, sorted: a rebuild is byte-identical);
`check_terms(data_dir)` rebuilds in memory and lists what differs, or says which sources are missing.
Run: `python -m softtiger_cli.terms.build [--check] [OUT_DIR]`.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

from . import curated
from .normalise import TOKEN_RE, normalise, readable

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES = {
    "simple-icd-10-cm": "simple_icd_10_cm",
    "drug-named-entity-recognition": "drug_named_entity_recognition",
    "wordfreq": "wordfreq",
}
INSTALL_HINT = "pip install 'softtiger[terms]'  (or: pip install simple-icd-10-cm==1.5.0 " \
               "drug-named-entity-recognition==2.0.9 wordfreq==3.1.1)"
FORMAT_VERSION = 1

# Files written: UTF-8 text, column-wise (line i = column i, values tab-separated), gzip with mtime 0,
# plus manifest.json. Term tables have columns key (normalise(term)), value, flags, readable term.
# ICD-10-CM title variants: ICD's own "NOS"/"unspecified" qualifiers that a note never writes.
_SUFFIX_RE = re.compile(
    r"(?:,\s*(?:unspecified(?:\s+(?:organism|site|type|part|cause|kind|form))?|not elsewhere classified|"
    r"site not specified|not specified|so stated)|\s+NOS|\s+NEC)\s*$",
    re.IGNORECASE,
)
_PAREN_RE = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_LEADING_UNSPEC_RE = re.compile(r"^unspecified\s+", re.IGNORECASE)

# ICD-derived mention terms: words that make a title a code-book phrase rather than what a note writes.
_MENTION_BAD_WORDS = frozenset({
    "other", "unspecified", "nos", "nec", "without", "with", "due", "and", "or", "not", "elsewhere",
    "classified", "specified", "following", "complicating", "encounter", "history", "affecting", "unknown",
    "certain", "except", "than", "by", "use", "status", "personal", "family", "screening", "sequela",
    "subsequent", "initial", "type", "stage", "site", "multiple", "part", "region", "involving",
    "associated", "induced", "related", "secondary", "newborn", "maternal", "fetus", "pregnancy",
    "childbirth", "puerperium", "obstetric", "postprocedural", "intraoperative", "accidental", "external",
    "cause", "causes", "drug", "drugs", "substance", "agent", "agents", "poisoning", "adverse",
    "underdosing", "contact", "exposure", "presence", "absence", "unilateral", "bilateral",
})
_EXCLUDED_CHAPTER_LETTERS = ("O", "P", "S", "T", "V", "W", "X", "Y", "Z")

ICD_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"


class SourcesMissing(RuntimeError):
    pass


def missing_sources() -> list[str]:
    return [dist for dist, mod in SOURCES.items() if importlib.util.find_spec(mod) is None]


def source_versions() -> dict[str, str]:
    return {dist: importlib.metadata.version(dist) for dist in SOURCES}


def _tokens(term: str) -> list[str]:
    return [m.group(0) for m in TOKEN_RE.finditer(term)]


def _is_short_caps(term: str) -> bool:
    """An abbreviation written in capitals of <= 3 letters (e.g. "CHF"): matched only as capitals."""
    t = term.replace("-", "")
    return len(t) <= 3 and t.isupper() and t.isalnum()


# ---------------------------------------------------------------------------------------------- ICD

def _icd_variants(term: str) -> list[str]:
    """The term without ICD's nonessential parts: "(primary)", ", unspecified", " NOS", leading "Unspecified"."""
    out: list[str] = []
    cur = term
    for _ in range(3):
        nxt = _SUFFIX_RE.sub("", cur).strip()
        nxt = _LEADING_UNSPEC_RE.sub("", nxt).strip()
        if nxt == cur:
            break
        cur = nxt
        out.append(cur)
    base = [term] + out
    for t in base:
        stripped = _PAREN_RE.sub("", t).strip()
        if stripped and stripped != t:
            out.append(stripped)
            s2 = _LEADING_UNSPEC_RE.sub("", _SUFFIX_RE.sub("", stripped).strip()).strip()
            if s2 and s2 != stripped:
                out.append(s2)
    return [v for v in dict.fromkeys(out) if v]


def _load_icd():
    import warnings  # noqa: PLC0415

    with warnings.catch_warnings():  # the package uses deprecated importlib.resources calls
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm  # noqa: PLC0415 - build time only (parses 10 MB of XML)

    codes = sorted({c for c in cm.get_all_codes(True) if cm.is_category_or_subcategory(c)})
    rows = {}
    for c in codes:
        # collapse whitespace: a few titles carry a stray tab or line break
        title = " ".join(cm.get_description(c).split())
        incl = tuple(" ".join(t.split()) for t in cm.get_inclusion_term(c))
        rows[c] = (title, incl, cm.is_leaf(c))
    return rows


def _mention_ok_icd(code: str, term: str, wordfreq_rank: dict[str, int]) -> bool:
    """Whether an ICD-derived term is plausible as the words of a visit note (see module docs)."""
    if code.startswith(_EXCLUDED_CHAPTER_LETTERS):
        return False
    if any(ch in term for ch in ",;:()[]/"):
        return False
    toks = _tokens(term)
    if not 1 <= len(toks) <= 5:
        return False
    low = [t.lower() for t in toks]
    if any(t in _MENTION_BAD_WORDS for t in low):
        return False
    if any(t.isdigit() for t in low):
        return False
    if any(len(t) <= 5 and t.isupper() and len(t) > 1 for t in toks):  # an abbreviation inside
        return False
    key = normalise(term)
    if key in curated.AMBIGUOUS_SHORT or key in {normalise(w) for w in curated.EVERYDAY_WORDS}:
        return False
    if len(toks) == 1:
        word = low[0]
        if len(word) < 5:
            return False
        # a single everyday English word ("fall", "worry") is not a diagnosis in running prose
        if wordfreq_rank.get(word, 10**9) < 8000:
            return False
    return True


def build_conditions(icd, wordfreq_rank):
    """Returns (index rows, problems). Row: key, code, flags, readable term."""
    # candidates[key] -> list of (priority, code, source term)
    cands: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for code, (title, incl, leaf) in icd.items():
        if len(code.replace(".", "")) == 7:
            # 7th-character extensions ("..., initial encounter for closed fracture") are code-book
            # composites that no note writes; they stay known codes but are not exact-match terms
            continue
        base = 0 if leaf else 3
        cands[normalise(title)].append((base + 1, code, title))
        for v in _icd_variants(title):
            cands[normalise(v)].append((base + 3, code, v))
        for inc in incl:
            cands[normalise(inc)].append((base + 2, code, inc))
            for v in _icd_variants(inc):
                cands[normalise(v)].append((base + 3, code, v))
    problems = []
    curated_keys = {}
    for term, code in curated.CONDITION_SYNONYMS.items():
        if code not in icd:
            problems.append(f"curated condition {term!r} -> {code}: not an ICD-10-CM code")
            continue
        key = normalise(term)
        if key in curated_keys and curated_keys[key][0] != code:
            problems.append(f"curated condition {term!r}: key {key!r} maps to two codes")
        curated_keys[key] = (code, term)

    rows = {}
    for key, lst in cands.items():
        if not key or key in curated_keys:
            continue
        best = min(p for p, _, _ in lst)
        codes = sorted({c for p, c, _ in lst if p == best})
        if len(codes) != 1:
            continue  # the same words name two codes at the same level: not exact, leave uncoded
        code = codes[0]
        terms = sorted(t for p, c, t in lst if p == best and c == code)
        mention = any(_mention_ok_icd(code, t, wordfreq_rank) for t in terms)
        # the readable term is only needed for searched terms (Mention.term)
        rows[key] = (code, "m", readable(terms[0])) if mention else (code, "", key)
    for key, (code, term) in curated_keys.items():
        flags = "cm" + ("U" if _is_short_caps(term) else "")
        rows[key] = (code, flags, readable(term))
    return rows, problems


# -------------------------------------------------------------------------------------------- drugs

def _load_drug_dictionary():
    import bz2  # noqa: PLC0415
    import pickle  # noqa: PLC0415 - the package's own data file, read at build time only

    spec = importlib.util.find_spec("drug_named_entity_recognition")
    path = Path(list(spec.submodule_search_locations)[0]) / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as f:
        return pickle.load(f)  # noqa: S301 - trusted, pinned package data


_DRUG_TERM_RE = re.compile(r"^[a-z][a-z' \-]*[a-z]$")


def build_drugs(d, wordfreq_rank):
    """Returns (name rows: key -> (concept id, flags, readable term), concept rows: id -> fields)."""
    v2c = d["drug_variant_to_canonical"]
    c2d = d["drug_canonical_to_data"]
    allow = {normalise(w) for w in curated.DRUG_COMMON_WORD_ALLOW}
    block = {normalise(w) for w in curated.DRUG_BLOCK}

    def concept_ok(canon: str) -> bool:
        data = c2d.get(canon)
        if not data:
            return False
        return bool(data.get("drugbank_id") or data.get("medline_plus_id")) or normalise(canon) in allow

    names: dict[str, tuple[str, str, str]] = {}
    used = set()
    for variant in sorted(v2c):
        canon = v2c[variant][0]
        v = variant.strip().lower()
        if not _DRUG_TERM_RE.match(v) or len(v) < 4:
            continue
        toks = _tokens(v)
        if not 1 <= len(toks) <= 4:
            continue
        key = normalise(v)
        if not key or key in block or key in curated.AMBIGUOUS_SHORT:
            continue
        if len(toks) == 1 and key not in allow and wordfreq_rank.get(v, 10**9) < 60000:
            continue
        if len(toks) == 1 and len(key) < 5 and key not in allow:
            continue  # 4-letter "names" are mostly codes and abbreviations
        if not concept_ok(canon):
            continue
        prev = names.get(key)
        if prev and prev[0] != canon:
            # two spellings normalise alike but name different drugs: keep the one named like its key
            if normalise(canon) == key:
                pass
            elif normalise(prev[0]) == key:
                continue
            else:
                names[key] = ("", "", "")  # ambiguous
                continue
        names[key] = (canon, "", readable(v))
    for name, canon in curated.DRUG_OVERRIDES.items():
        if canon in c2d:
            names[normalise(name)] = (canon, "c", readable(name))
    names = {k: v for k, v in names.items() if v[0]}
    for k, (canon, _, _) in names.items():
        used.add(canon)
    concepts = {}
    for canon in sorted(used):
        data = c2d[canon]
        concepts[canon] = (data.get("name") or canon, data.get("drugbank_id", ""), data.get("medline_plus_id", ""))
    return names, concepts


# ----------------------------------------------------------------------------------------- vaccines

def build_vaccines():
    rows = {}
    problems = []
    for term, code in curated.VACCINE_TERMS.items():
        if code is not None and code not in curated.CVX_CODES:
            problems.append(f"vaccine {term!r} -> {code}: not in the CVX table")
            continue
        flags = "U" if _is_short_caps(term) else ""
        rows[normalise(term)] = (code or "", flags, readable(term))
    return rows, problems


# --------------------------------------------------------------------------------------------- write

def _columns(rows, ncols: int) -> bytes:
    """Column-wise text: line i holds column i of every row, tab-separated (fast to load: str.split)."""
    cols = [[] for _ in range(ncols)]
    for row in rows:
        for i in range(ncols):
            v = row[i] if i < len(row) else ""
            if "\t" in v or "\n" in v:
                raise ValueError(f"tab or newline in data value {v!r}")
            cols[i].append(v)
    return ("\n".join("\t".join(c) for c in cols) + "\n").encode("utf-8")


def _term_rows(rows: dict) -> list[tuple[str, ...]]:
    """key, value, flags, readable term ("" when it equals the key) -- sorted by key."""
    out = []
    for k in sorted(rows):
        value, flags, term = rows[k]
        out.append((k, value, flags, term if term != k else ""))
    return out


def render_terms() -> dict[str, bytes]:
    """All data files as uncompressed bytes (plus manifest.json), built in memory."""
    missing = missing_sources()
    if missing:
        raise SourcesMissing(f"terms sources not installed: {', '.join(missing)}; install with: {INSTALL_HINT}")
    from wordfreq import top_n_list  # noqa: PLC0415

    wordfreq_rank = {w: i for i, w in enumerate(top_n_list("en", 60000))}
    icd = _load_icd()
    cond, problems = build_conditions(icd, wordfreq_rank)
    drugs, concepts = build_drugs(_load_drug_dictionary(), wordfreq_rank)
    vacc, vproblems = build_vaccines()
    problems += vproblems
    if problems:
        raise ValueError("curated tables are wrong:\n  " + "\n  ".join(problems))

    files = {
        "icd10cm.tsv": _columns(((c, icd[c][0]) for c in sorted(icd)), 2),
        "conditions.tsv": _columns(_term_rows(cond), 4),
        "drugs.tsv": _columns(_term_rows(drugs), 4),
        "drug_concepts.tsv": _columns(((k, *concepts[k]) for k in sorted(concepts)), 4),
        "cvx.tsv": _columns(((c, curated.CVX_CODES[c]) for c in sorted(curated.CVX_CODES)), 2),
        "vaccines.tsv": _columns(_term_rows(vacc), 4),
    }
    manifest = {
        "format": FORMAT_VERSION,
        "sources": source_versions(),
        "code_systems": {
            "icd-10-cm": {"system": ICD_SYSTEM, "release": "April 1, 2026 (FY2026 update)",
                          "from": "simple-icd-10-cm", "licence": "public domain (CDC/CMS); package MIT"},
            "cvx": {"system": CVX_SYSTEM, "from": "curated.py (CDC CVX table, public domain)"},
            "drugs": {"from": "drug-named-entity-recognition", "licence": "MIT",
                      "codings": "none: HL7 THO names no system for DrugBank ids; its MeSH ids are class ids"},
        },
        "counts": {
            "icd10cm_codes": len(icd), "condition_terms": len(cond),
            "condition_mention_terms": sum(1 for v in cond.values() if "m" in v[1]),
            "drug_names": len(drugs), "drug_concepts": len(concepts),
            "vaccine_terms": len(vacc), "cvx_codes": len(curated.CVX_CODES),
        },
        "sha256_uncompressed": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["manifest.json"] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    from .build_zh import render  # noqa: PLC0415

    files.update(render(set(icd), _columns, _term_rows))
    return files


def build_terms(out_dir: Path | str = DATA_DIR) -> dict:
    """Regenerate the data files under out_dir; returns the manifest."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = render_terms()
    for name, data in files.items():
        if name.endswith(".tsv"):
            (out / (name + ".gz")).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
        else:
            (out / name).write_bytes(data)
    return json.loads(files["manifest.json"])


def check_terms(data_dir: Path | str = DATA_DIR) -> list[str]:
    """Problems with the shipped data: stale (a rebuild differs), unreadable, or sources missing."""
    data = Path(data_dir)
    try:
        files = render_terms()
    except SourcesMissing as e:
        return [str(e)]
    except ValueError as e:
        return [str(e)]
    problems = []
    for name, want in files.items():
        path = data / (name + ".gz" if name.endswith(".tsv") else name)
        if not path.exists():
            problems.append(f"{path.name}: missing (run `python -m softtiger_cli.terms.build`)")
            continue
        have = path.read_bytes()
        if name.endswith(".tsv"):
            try:
                have = gzip.decompress(have)
            except OSError:
                problems.append(f"{path.name}: not a gzip file")
                continue
        if have != want:
            problems.append(f"{path.name}: stale (differs from a rebuild; run `python -m softtiger_cli.terms.build`)")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    target = Path(args[0]) if args else DATA_DIR
    if check:
        problems = check_terms(target)
        for p in problems:
            print(p, file=sys.stderr)
        print("terms: up to date" if not problems else f"terms: {len(problems)} problem(s)")
        return 1 if problems else 0
    manifest = build_terms(target)
    print(json.dumps(manifest["counts"], sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
