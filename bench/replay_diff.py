"""Compare two folders of bundles written by `bench/eval_replay.py --out` (same notes, same answers):
how many are byte-identical, and for the others which clinical resources appeared, vanished or changed.

    python bench/replay_diff.py BEFORE_DIR AFTER_DIR [--show 20]

A rule change that must not change behaviour shows "N of N byte-identical"; a fix shows its differences,
one line per resource (type, text, and the statuses that changed), to list in the issue note.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

STATUS_KEYS = ("clinicalStatus", "verificationStatus", "status", "intent", "criticality")


def _text(res: dict) -> str:
    for key in ("code", "medicationCodeableConcept", "vaccineCode"):
        if isinstance(res.get(key), dict):
            return res[key].get("text") or ((res[key].get("coding") or [{}])[0].get("display") or "")
    med = res.get("medication")
    if isinstance(med, dict):
        concept = med.get("concept", med)
        return concept.get("text", "")
    return res.get("summary", "") or res.get("description", "") or ""


def _status(res: dict) -> str:
    out = []
    for key in STATUS_KEYS:
        value = res.get(key)
        if isinstance(value, dict):
            value = ((value.get("coding") or [{}])[0]).get("code")
        if value:
            out.append(f"{key}={value}")
    return " ".join(out)


def _items(bundle: dict) -> dict[tuple[str, str], str]:
    items = {}
    for entry in bundle.get("entry", []):
        res = entry.get("resource", {})
        kind = res.get("resourceType", "")
        if kind in ("Composition", "Patient", "DocumentReference"):
            continue
        items[(kind, _text(res).lower())] = _status(res)
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--show", type=int, default=50, help="difference lines to print at most")
    args = ap.parse_args()
    names = sorted(p.name for p in args.before.glob("*.json"))
    same, shown, missing = 0, 0, []
    for name in names:
        new = args.after / name
        if not new.exists():
            missing.append(name)
            continue
        a, b = (args.before / name).read_bytes(), new.read_bytes()
        if a == b:
            same += 1
            continue
        ia, ib = _items(json.loads(a)), _items(json.loads(b))
        lines = [f"  - {k[0]} {k[1]!r} {ia[k]}" for k in sorted(ia.keys() - ib.keys())]
        lines += [f"  + {k[0]} {k[1]!r} {ib[k]}" for k in sorted(ib.keys() - ia.keys())]
        lines += [f"  ~ {k[0]} {k[1]!r} {ia[k]} -> {ib[k]}" for k in sorted(ia.keys() & ib.keys()) if ia[k] != ib[k]]
        if not lines:
            lines = ["  (same resources and statuses; other bytes differ)"]
        if shown < args.show:
            print(name)
            for line in lines[: args.show - shown]:
                print(line)
            shown += len(lines)
    print(f"{same} of {len(names)} byte-identical" + (f"; {len(missing)} missing in {args.after}" if missing else ""))


if __name__ == "__main__":
    main()
