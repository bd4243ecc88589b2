"""`softtiger eval GOLD_DIR`: score bundles (existing, or made on the fly) against gold labels."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

HELP = "Score bundles against gold labels: precision, recall, F1 per kind, validity, grounding."


def eval_command(
    gold_dir: Path = typer.Argument(..., help="Folder of NAME.txt + NAME.gold.json (eval-dev format or gold FHIR Bundles)."),
    bundles: Optional[Path] = typer.Option(None, "--bundles", help="Score existing bundles DIR/NAME.json instead of running a model."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to run when --bundles is not given (default: the embedded one)."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="ips | impression | encounter | all (repeatable or comma list; default all, as structure)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Score only the first N notes."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
    lists: bool = typer.Option(True, "--lists/--no-lists", help="Let the list reader read written-out lists (--no-lists: the model alone)."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1),
    parallel: Optional[int] = typer.Option(None, "--parallel", min=1, max=256,
                                           help="Questions of a chunk decoded together (see structure --parallel)."),
    lang: str = typer.Option("auto", "--lang", help="The notes' language: auto | en | zh (see structure --lang)."),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
) -> None:
    from softtiger_cli.core.errors import InputError, SofttigerError
    from softtiger_cli.eval.score import Report, load_gold
    from softtiger_cli.note.reader import read_note
    from softtiger_cli.pipeline.run import StructureOptions, parse_tasks, structure_note

    from softtiger_cli.core.errors import UsageError
    from softtiger_cli.lang.text import AUTO, LANGUAGES

    if lang not in (AUTO, *LANGUAGES):
        raise UsageError(f"--lang must be auto, {', '.join(LANGUAGES)}, not {lang!r}")
    if not gold_dir.is_dir():
        raise InputError(f"{gold_dir}: not a folder of gold labels")
    golds = load_gold(gold_dir)[:limit] if limit else load_gold(gold_dir)
    if not golds:
        raise InputError(f"{gold_dir}: no NAME.gold.json files found")
    report = Report()
    engine = None
    if bundles is None:
        from softtiger_cli.batch.single import open_engine

        engine = open_engine(model, device="auto", n_ctx=None, seed=0, threads=threads, offline=False,
                             parallel=parallel, say=(lambda _m: None) if quiet else (lambda m: print(m, file=sys.stderr)))
    options = StructureOptions(tasks=parse_tasks(task or []), timestamp="2000-01-01T00:00:00Z", use_lists=lists,
                               lang=lang)
    started = time.perf_counter()
    with _note_progress(enabled=not quiet) as progress:
        for i, gold in enumerate(golds):
            report.notes += 1
            try:
                if bundles is not None:
                    path = bundles / f"{gold.name}.json"
                    try:
                        bundle = json.loads(path.read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        raise InputError(f"{path.name}: missing or not JSON") from None
                else:
                    note = read_note(str(gold.note_path), lang)
                    bundle = structure_note(engine, note, options).bundle
                report.add_bundle(gold, bundle)
            except SofttigerError as exc:
                report.failed.append({"note": gold.name, "reason": exc.one_line()})
            progress(i + 1, len(golds), gold.name)
    # speed describes a model run; scoring existing bundles has none
    report.seconds = time.perf_counter() - started if bundles is None else 0.0
    if engine is not None:
        report.tokens = engine.stats.generated_tokens
    data = report.as_dict()
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _print(data)


@contextmanager
def _note_progress(enabled: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A rich bar with notes/s and ETA on a terminal; a plain line per 10% otherwise; nothing if quiet."""
    from softtiger_cli.cli.console import stderr

    if not enabled:
        yield lambda done, total, name: None
        return
    if not stderr.is_terminal:
        last = [-1]

        def plain(done: int, total: int, name: str) -> None:
            step = done * 10 // total
            if step > last[0]:
                last[0] = step
                stderr.print(f"eval: {done}/{total} notes", markup=False)

        yield plain
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=stderr)
    task = bar.add_task("eval", total=None)
    with bar:
        yield lambda done, total, name: bar.update(task, completed=done, total=total)


def _print(data: dict) -> None:
    if data.get("status_gold"):
        _print_status(data)
        return
    o = data["overall"]
    lines = [f"notes {data['notes']}  valid {data['validity_rate']:.0%}  failed {data['unparsable_or_failed']}"]
    if data["scored_notes"]:
        lines.append(f"overall  P {o['precision']:.3f}  R {o['recall']:.3f}  F1 {o['f1']:.3f}  "
                     f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")
    else:
        lines.append("no concept labels to score (precision and recall need a gold item list)")
    for kind, s in data["per_kind"].items():
        lines.append(f"  {kind:<13} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})")
    lines.append(f"grounding rate {data['grounding_rate']:.0%}")
    if data["chief_complaint_hit_rate"] is not None:
        lines.append(f"chief complaint hit rate {data['chief_complaint_hit_rate']:.0%}")
    if data["notes_per_minute"]:
        lines.append(f"{data['notes_per_minute']} notes/min" + (f", {data['tokens_per_second']} tokens/s" if data["tokens_per_second"] else ""))
    sys.stdout.write("\n".join(lines) + "\n")


def _print_status(data: dict) -> None:
    """Status gold: per kind P/R/F1 on text, status accuracy, strict F1; harmful errors; condition confusion."""
    def num(v: object) -> str:
        return "   -  " if v is None else f"{v:.3f} "

    lines = [f"notes {data['notes']}  valid {data['validity_rate']:.0%}  failed {data['unparsable_or_failed']}"]
    for f in data["failures"]:
        lines.append(f"  failed {f['note']}: {f['reason']}")
    per_kind = data.get("status_per_kind", data["per_kind"])
    overall = data.get("status_overall", data["overall"])
    lines.append(f"{'kind':<13} {'P':>6} {'R':>6} {'F1':>6} {'status':>7} {'strict':>7} {'tp':>5} {'fp':>5} {'fn':>5}")
    lines.append(f"{'':<13} {'':>6} {'':>6} {'':>6} {'acc':>7} {'F1':>7}")
    for kind, s in [*per_kind.items(), ("all", overall)]:
        lines.append(f"{kind:<13} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} {num(s['status_accuracy']):>7} "
                     f"{s['strict_f1']:>7.3f} {s['tp']:>5} {s['fp']:>5} {s['fn']:>5}")
    lines.append(f"harmful errors {data['harmful_errors']}  (a denied or a relative's condition written as the patient's)")
    for h in data["harmful"]:
        who = f" ({h['relationship']})" if h.get("relationship") else ""
        lines.append(f"  {h['note']}: {h['text']!r} gold {h['gold_status']}{who} -> {h['resource']} "
                     f"{h['predicted_text']!r} {h['predicted_status']}")
    confusion, spurious = data["condition_confusion"], data["condition_false_positives"]
    cols = [c for c in ("active", "resolved", "history", "possible", "absent", "family")
            if any(c in row for row in confusion.values()) or c in spurious]
    cols += sorted({c for row in confusion.values() for c in row} - set(cols) - {"missed"}) + ["missed"]
    lines.append("conditions, gold status (rows) x predicted status (columns):")
    lines.append(f"  {'':<10}" + "".join(f"{c:>9}" for c in cols))
    for g, row in confusion.items():
        lines.append(f"  {g:<10}" + "".join(f"{row.get(c, 0):>9}" for c in cols))
    lines.append(f"  {'(no gold)':<10}" + "".join(f"{spurious.get(c, 0) if c != 'missed' else '':>9}" for c in cols))
    lines.append(f"validity rate {data['validity_rate']:.0%}")
    lines.append(f"grounding rate {data['grounding_rate']:.0%}")
    if data["notes_per_minute"]:
        lines.append(f"{data['notes_per_minute']} notes/min" + (f", {data['tokens_per_second']} tokens/s" if data["tokens_per_second"] else ""))
    sys.stdout.write("\n".join(lines) + "\n")


def register(app: typer.Typer) -> None:
    app.command("eval", help=HELP)(eval_command)
