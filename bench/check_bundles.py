"""Re-check a folder of bundles made by `softtiger structure --task all`: valid and linked.

    find ../shared/data/eval-dev -name '*.txt' | sort | \\
        softtiger structure --from-list - -o out/ --task all --fhir-version R5 --report out.json
    python bench/check_bundles.py out/ --fhir-version R5 [--notes N]

For each bundle: validation again, independently of the run that wrote it (fhir.resources for the
version, required value-set codes, references, IPS rules); one Composition, one Encounter and one
ClinicalImpression; Composition.encounter names the Encounter; a Composition section holds the
ClinicalImpression; the ClinicalImpression and the Encounter point at the bundle's Patient. Prints
counts and the first problems; exits 1 if any bundle fails or fewer than --notes bundles are found.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path


def link_problems(bundle: dict) -> list[str]:
    by_url = {e["fullUrl"]: e["resource"] for e in bundle.get("entry", [])}
    kinds = Counter(r["resourceType"] for r in by_url.values())
    problems = [f"{kinds[k]} {k} (want 1)" for k in ("Composition", "Encounter", "ClinicalImpression", "Patient")
                if kinds[k] != 1]
    if problems:
        return problems
    url_of = {r["resourceType"]: u for u, r in by_url.items() if r["resourceType"] in
              ("Composition", "Encounter", "ClinicalImpression", "Patient")}
    comp = by_url[url_of["Composition"]]
    if comp.get("encounter", {}).get("reference") != url_of["Encounter"]:
        problems.append("Composition.encounter does not name the Encounter")
    in_sections = {e.get("reference") for s in comp.get("section", []) for e in s.get("entry", [])}
    if url_of["ClinicalImpression"] not in in_sections:
        problems.append("no Composition section holds the ClinicalImpression")
    for kind in ("Encounter", "ClinicalImpression"):
        if by_url[url_of[kind]].get("subject", {}).get("reference") != url_of["Patient"]:
            problems.append(f"{kind}.subject is not the Patient")
    return problems


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("--fhir-version", default="R4B", choices=("R4B", "R5"))
    ap.add_argument("--notes", type=int, default=0, help="fail unless at least this many bundles are found")
    args = ap.parse_args()
    from softtiger_cli.fhir.assemble import REQUIRED_SECTION_CODES
    from softtiger_cli.fhir.validate import validate_bundle

    paths = sorted(p for p in args.folder.rglob("*.json") if not p.name.startswith("."))
    bad: dict[str, list[str]] = {}
    resources: Counter[str] = Counter()
    for path in paths:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        problems = validate_bundle(bundle, args.fhir_version, ips_required=REQUIRED_SECTION_CODES)
        problems += link_problems(bundle)
        resources.update(e["resource"]["resourceType"] for e in bundle.get("entry", []))
        if problems:
            bad[str(path.relative_to(args.folder))] = problems
    print(f"{len(paths)} bundles ({args.fhir_version}): {len(paths) - len(bad)} valid and linked, {len(bad)} not")
    print("resources: " + ", ".join(f"{k} {v}" for k, v in sorted(resources.items())))
    for name, problems in list(bad.items())[:10]:
        print(f"  {name}: {'; '.join(problems[:3])}")
    sys.exit(1 if bad or len(paths) < args.notes else 0)


if __name__ == "__main__":
    main()
