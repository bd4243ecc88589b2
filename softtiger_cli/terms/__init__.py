"""Terminology layer: lexicons from public code lists, shipped with the package (issue 16).

- Conditions: ICD-10-CM (April 2026 tabular, CDC/CMS, public domain) titles and inclusion terms, plus a
  curated table of everyday outpatient wording -> ICD-10-CM. System `http://hl7.org/fhir/sid/icd-10-cm`.
- Medications: names, synonyms and brands -> canonical ingredient (drug-named-entity-recognition, MIT).
  No coding is emitted: HL7 Terminology names no FHIR system for DrugBank ids, and the package's MeSH ids
  are pharmacological-class ids (aspirin and acetaminophen share one), not the drug's own.
- Vaccines: a curated CVX table (CDC, public domain). System `http://hl7.org/fhir/sid/cvx`.

Pure standard library; nothing is read at import. The data under `data/` is rebuilt by
`python -m softtiger_cli.terms.build` and checked by `check_terms()` in `build.py`.
"""

from __future__ import annotations

from .lexicon import (
    CVX_SYSTEM,
    ICD10CM_SYSTEM,
    Coding,
    DrugCode,
    Mention,
    code_condition,
    code_drug,
    code_vaccine,
    find_mentions,
    is_known_code,
    load_all,
    manifest,
)
from .normalise import normalise

__all__ = [
    "CVX_SYSTEM",
    "ICD10CM_SYSTEM",
    "Coding",
    "DrugCode",
    "Mention",
    "code_condition",
    "code_drug",
    "code_vaccine",
    "find_mentions",
    "is_known_code",
    "load_all",
    "manifest",
    "normalise",
]
