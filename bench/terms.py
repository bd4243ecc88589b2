"""Terminology layer bench: lexicon load time, mention-finding speed, and noise on annotated notes.

    python bench/terms.py [--notes DIR] [--show]

- load: cold, each in a fresh interpreter (import of softtiger_cli.terms, then all tables).
- finder: find_mentions over a ~10 kB note (the annotated notes concatenated, else a built-in text),
  best of several runs, reported per 10 kB.
- noise (when ../shared/data/eval-dev/aci-annotated exists): mentions per kind vs the gold items of the
  matching kind (condition / medication / immunization), matched by normalised text containment either
  way (or, for conditions, the same ICD-10-CM code). A mention is counted once per note per distinct term. Mention-level only: assertion (negated,
  family, history) is a later step, so an "absent" gold item found counts as found.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from softtiger_cli.terms import code_condition, find_mentions, load_all, normalise  # noqa: E402

DEFAULT_NOTES = REPO.parent / "shared" / "data" / "eval-dev" / "aci-annotated"
GOLD_KIND = {"condition": "condition", "medication": "medication", "immunization": "vaccine"}
FALLBACK_NOTE = (
    "HPI: 67-year-old man with HTN, type 2 diabetes and congestive heart failure presents with shortness of "
    "breath and bilateral leg swelling for two weeks. He reports fatigue and lightheadedness. Denies chest "
    "pain, fever or cough. Takes lisinopril 20 mg daily, metformin 500 mg twice daily and Lasix 40 mg. "
    "Got his flu shot and Shingrix last fall. Assessment: CHF exacerbation, hypertension, afib on Eliquis.\n"
)

COLD = r"""
import time, sys
t0 = time.perf_counter()
import softtiger_cli.terms as T
t1 = time.perf_counter()
T.load_all()
t2 = time.perf_counter()
T.find_mentions("congestive heart failure on Lasix")
t3 = time.perf_counter()
print(f"{t1-t0:.4f} {t2-t1:.4f} {t3-t2:.4f}")
"""


def cold_load(runs: int = 3) -> tuple[float, float, float]:
    best = None
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True, cwd=REPO, check=True)
        vals = tuple(float(x) for x in out.stdout.split())
        best = vals if best is None or vals[1] < best[1] else best
    return best  # type: ignore[return-value]


def finder_speed(text: str, runs: int = 7) -> float:
    load_all()
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        find_mentions(text)
        best = min(best, time.perf_counter() - t)
    return best * 10_000 / max(len(text), 1)


def noise(notes_dir: Path, show: bool = False) -> dict:
    stats = {k: Counter() for k in ("condition", "medication", "vaccine")}
    fps: dict[str, Counter] = {k: Counter() for k in stats}
    fns: dict[str, Counter] = {k: Counter() for k in stats}
    for txt in sorted(notes_dir.glob("*.txt")):
        gold_path = txt.with_suffix(".gold.json")
        if not gold_path.exists():
            continue
        gold = json.loads(gold_path.read_text())["gold"]
        text = txt.read_text()
        mentions = find_mentions(text)
        for kind in stats:
            g_items = [normalise(g["text"]) for g in gold if GOLD_KIND.get(g["kind"]) == kind]
            g_codes = [code_condition(g) if kind == "condition" else None for g in g_items]
            m_terms = {}
            for m in mentions:
                if m.kind == kind:
                    m_terms.setdefault(normalise(m.text), m)
            hit_gold = set()
            for key in m_terms:
                code = m_terms[key].code
                matched = [i for i, g in enumerate(g_items) if key and (
                    f" {key} " in f" {g} " or f" {g} " in f" {key} " or (code and g_codes[i] == code))]
                if matched:
                    stats[kind]["tp"] += 1
                    hit_gold.update(matched)
                else:
                    stats[kind]["fp"] += 1
                    fps[kind][key] += 1
            stats[kind]["gold"] += len(g_items)
            stats[kind]["found"] += len(hit_gold)
            for i, g in enumerate(g_items):
                if i not in hit_gold:
                    fns[kind][g] += 1
    out = {}
    for kind, c in stats.items():
        n_m = c["tp"] + c["fp"]
        out[kind] = {
            "mentions": n_m, "precision": round(c["tp"] / n_m, 3) if n_m else None,
            "gold": c["gold"], "recall": round(c["found"] / c["gold"], 3) if c["gold"] else None,
        }
        if show:
            out[kind]["false_positives"] = fps[kind].most_common(40)
            out[kind]["missed"] = fns[kind].most_common(40)
    return out


def main(argv: list[str]) -> int:
    notes_dir = DEFAULT_NOTES
    if "--notes" in argv:
        notes_dir = Path(argv[argv.index("--notes") + 1])
    show = "--show" in argv
    imp, load, first = cold_load()
    print(f"cold import of softtiger_cli.terms: {imp * 1000:.1f} ms (reads no data)")
    print(f"cold lexicon load (all tables):     {load * 1000:.1f} ms")
    print(f"first find_mentions after load:     {first * 1000:.1f} ms")
    data = REPO / "softtiger_cli" / "terms" / "data"
    size = sum(p.stat().st_size for p in data.iterdir())
    print(f"data files: {size / 1e6:.2f} MB in {len(list(data.iterdir()))} files")
    if notes_dir.is_dir():
        text = "\n\n".join(p.read_text() for p in sorted(notes_dir.glob("*.txt")))[:10_000]
    else:
        text = (FALLBACK_NOTE * (10_000 // len(FALLBACK_NOTE) + 1))[:10_000]
    print(f"find_mentions: {finder_speed(text) * 1000:.2f} ms per 10 kB of note")
    if notes_dir.is_dir():
        print(f"noise on {notes_dir} (mention level, text containment):")
        print(json.dumps(noise(notes_dir, show), indent=1))
    else:
        print(f"(no annotated notes at {notes_dir}: noise not measured)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
