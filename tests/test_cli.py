"""The ``sequentia`` command (utils/cli.py): every type trains, samples and evaluates; checkpoints
round-trip and resume exactly; every bad input gets one line on stderr and exit status 2.

Every type trains through the real command in a subprocess (``python -m utils.cli``); sampling,
evaluation and most bad-input cases call ``utils.cli.main`` in this process (the same code, without
paying PyTorch's import once more per case). Models are tiny and train a few steps.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _support import digest, one_error_line

from utils import REPO_ROOT
from utils.cli import CHECKPOINT, FORMAT_VERSION, METRICS, load_checkpoint, main
from utils.models import TYPES

# A list with accents, a space, a hyphen, an apostrophe and non-Latin letters: the vocabulary is the data's.
STEMS = ["ana", "bela", "chloé", "dmitri", "élodie", "fatma", "göran", "håkon", "iñigo", "jean-luc",
         "kaʻiulani", "lucía", "marie ange", "nikoł", "o'neil", "pål", "quim", "rené", "søren", "θεα"]
WORDS = [s + suffix for suffix in ("", "a", "o", "ie", "ine", "ette") for s in STEMS]  # 120 items

TINY = {
    "bigram": [],
    "mlp": ["--n-embd", "4", "--n-hidden", "16"],
    "wavenet": ["--block-size", "4", "--n-embd", "4", "--n-hidden", "8"],
    "rnn": ["--n-embd", "8", "--n-hidden", "12"],
    "gru": ["--n-embd", "8", "--n-hidden", "12"],
    "lstm": ["--n-embd", "8", "--n-hidden", "12"],
    "bow": ["--n-embd", "8", "--n-hidden", "16"],
    "transformer": ["--n-embd", "16", "--n-head", "2", "--n-layer", "1"],
}
STEPS = ["--steps", "12", "--batch-size", "8", "--eval-every", "4", "--quiet"]  # ignored by the bigram


def run_cli(*args, timeout=120):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "utils.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture(scope="module")
def names(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "list.txt"
    path.write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    return path


def cli(*argv) -> int:
    """``sequentia ARGV`` in this process: the command's own argument parsing and code."""
    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def runs(names, tmp_path_factory) -> dict[str, Path]:
    """Each type trained once, through the real command in a subprocess (``python -m utils.cli``)."""
    root = tmp_path_factory.mktemp("runs")
    for t in TYPES:
        options = [] if t == "bigram" else [*STEPS, *TINY[t]]  # the bigram counts: no options needed
        r = run_cli("train", "-i", names, "--type", t, "-o", root / t, *options)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        assert f"{t}: dev" in r.stdout or (t == "bigram" and "bigram counted" in r.stdout), r.stdout
    return {t: root / t for t in TYPES}


# ---------------------------------------------------------------------------------------- every type


@pytest.mark.parametrize("t", TYPES)
def test_each_type_trains_samples_and_evaluates(t, runs, capsys):
    run = runs[t]
    m = json.loads((run / METRICS).read_text())
    assert m["type"] == t and m["finished"] and m["test"] is not None and m["vocab_size"] == 1 + len(set("".join(WORDS)))
    assert 0 < m["dev"] < 6 and 0 < m["test"] < 6
    if t != "bigram":
        assert m["step"] == 12 and [s for s, _ in m["dev_history"]] == [4, 8, 12]

    assert main(["sample", str(run), "-n", "8", "--seed", "1"]) == 0
    out = capsys.readouterr()
    items = out.out.splitlines()
    assert len(items) == 8 and "are new" in out.err
    known = set(WORDS)
    for line in items:  # an item of the training list is marked as such, and only those
        item = line.removesuffix("  (in the training list)")
        assert (item != line) == (item in known), line

    assert main(["sample", str(run), "-n", "3", "--prefix", "é", "--top-k", "3", "--temperature", "0.7"]) == 0
    assert all(line.startswith("é") for line in capsys.readouterr().out.splitlines())

    assert main(["evaluate", str(run)]) == 0  # the run's dev and test splits: the figures of metrics.json
    out = capsys.readouterr().out
    assert f"dev: {m['dev']:.4f}" in out and f"test: {m['test']:.4f}" in out


def test_evaluate_on_another_list(runs, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("anaa\nbelo\nrené\n", encoding="utf-8")
    assert cli("evaluate", runs["gru"], "-i", other) == 0
    assert "other.txt:" in capsys.readouterr().out


# ---------------------------------------------------------------------------- checkpoints and resume


def test_checkpoint_round_trip(runs):
    ckpt = load_checkpoint(runs["transformer"])  # torch.load(weights_only=True) inside
    assert ckpt["version"] == FORMAT_VERSION and ckpt["type"] == "transformer" and ckpt["step"] == 12
    assert {"batches", "torch"} <= set(ckpt["rng"]) and ckpt["optimizer"]["state"]
    assert "".join(ckpt["vocab"]) == "".join(sorted(set("".join(WORDS))))
    assert not list(runs["transformer"].glob(".*.tmp"))  # no temporary file left behind


@pytest.mark.parametrize("t, extra", [("mlp", []), ("transformer", []), ("transformer", ["--optimizer", "muon"]),
                                      ("gru", ["--optimizer", "muon", "--momentum", "0.9", "--ns-steps", "3"])])
def test_an_interrupted_run_resumes_to_exactly_the_uninterrupted_result(t, extra, names, tmp_path, capsys):
    common = ["-i", names, "--type", t, *STEPS, *TINY[t], *extra]
    assert cli("train", "-o", tmp_path / "whole", *common) == 0
    assert cli("train", "-o", tmp_path / "cut", *common, "--stop-after", "5") == 130  # as if Ctrl-C at step 5
    assert "--resume" in capsys.readouterr().err
    cut = load_checkpoint(tmp_path / "cut")
    assert cut["step"] == 5 and not cut["finished"]
    assert cli("train", "-o", tmp_path / "cut", "--resume", "--quiet") == 0
    a, b = load_checkpoint(tmp_path / "whole"), load_checkpoint(tmp_path / "cut")
    assert a["model"].keys() == b["model"].keys()
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["history"]["step_loss"] == b["history"]["step_loss"] and a["history"]["dev_loss"] == b["history"]["dev_loss"]
    ma, mb = (json.loads((tmp_path / d / METRICS).read_text()) for d in ("whole", "cut"))
    assert (ma["dev"], ma["test"], ma["dev_history"]) == (mb["dev"], mb["test"], mb["dev_history"])


def test_ctrl_c_saves_a_checkpoint_then_exits(names, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = tmp_path / "run"
    p = subprocess.Popen([sys.executable, "-m", "utils.cli", "train", "-i", str(names), "--type", "gru", "-o", str(run),
                          "--steps", "1000000", "--batch-size", "8", "--quiet", *TINY["gru"]],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    assert p.stdout.readline().startswith("training gru")  # the loop is about to start
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("sequentia: interrupted at step")
    ckpt = load_checkpoint(run)
    assert 0 < ckpt["step"] < 1_000_000 and not ckpt["finished"]


def test_a_failed_save_leaves_the_old_checkpoint(runs, monkeypatch, tmp_path):
    import shutil

    import utils.checkpoint as checkpoint

    run = tmp_path / "copy"
    shutil.copytree(runs["bow"], run)
    before = digest(run)

    def broken(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint.torch, "save", broken)
    with pytest.raises(OSError):
        checkpoint.save(run, {"format": "x"})
    assert digest(run) == before  # neither half-written nor replaced, and no temporary file left


# ----------------------------------------------------------------------------------------- bad input


def test_bad_input_gets_one_line_through_the_real_command(tmp_path):
    r = run_cli("train", "-i", tmp_path / "missing.txt", "--type", "mlp", "-o", tmp_path / "run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and r.stderr.startswith("sequentia: error: ")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "not found"),
        (b"", "empty"),
        (b"\n  \n\n", "only blank lines"),
        (b"ana\nb\xe9la\n", "not valid UTF-8"),
        (b"ana\n" + b"x" * 1001 + b"\n", "line 2: an item of 1,001 characters"),
        (b"ana\nbela\nchloe\n", "too few to split"),
    ],
)
def test_bad_lists(content, message, tmp_path, capsys):
    path = tmp_path / "list.txt"
    if content is not None:
        path.write_bytes(content)
    line = one_error_line(capsys, ["train", "-i", path, "--type", "mlp", "-o", tmp_path / "run"])
    assert message in line
    assert not (tmp_path / "run").exists()


def test_too_small_for_one_batch(names, tmp_path, capsys):
    line = one_error_line(capsys, ["train", "-i", names, "--type", "gru", "-o", tmp_path / "run", "--batch-size", "256"])
    assert "fewer than one batch of 256" in line and "--batch-size" in line
    assert not (tmp_path / "run").exists()


def test_unknown_type_and_missing_gpu(names, tmp_path, capsys):
    assert "invalid choice" in one_error_line(capsys, ["train", "-i", names, "--type", "lstn", "-o", tmp_path / "r"])
    if not torch.cuda.is_available():
        line = one_error_line(capsys, ["train", "-i", names, "--type", "mlp", "-o", tmp_path / "r", "--device", "cuda"])
        assert "no CUDA GPU" in line
    assert not (tmp_path / "r").exists()


def test_bad_sampling_and_dropout_options(names, tmp_path, capsys):
    base = ["train", "-i", names, "--type", "transformer", "-o", tmp_path / "r"]
    line = one_error_line(capsys, [*base, "--sampling", "sorted"])
    assert "--sampling must be 'random' or 'passes'" in line
    assert "--dropout must be in [0, 1)" in one_error_line(capsys, [*base, "--dropout", "1"])
    line = one_error_line(capsys, [*base, "--optimizer", "lion"])
    assert "--optimizer must be one of sgd, adamw, adamw-matrices, muon, got 'lion'" in line
    assert "--momentum must be in [0, 1)" in one_error_line(capsys, [*base, "--optimizer", "muon", "--momentum", "1"])
    assert "--ns-steps 1 or more" in one_error_line(capsys, [*base, "--ns-steps", "0"])
    assert not (tmp_path / "r").exists()


def test_prefix_with_an_unseen_character(runs, capsys):
    assert "never occurs in the training list" in one_error_line(capsys, ["sample", runs["mlp"], "--prefix", "zx"])


def test_existing_runs_are_never_overwritten_silently(runs, names, capsys):
    run = runs["rnn"]
    before = digest(run)
    line = one_error_line(capsys, ["train", "-i", names, "--type", "rnn", "-o", run, *STEPS])
    assert "--resume" in line and "--force" in line
    line = one_error_line(capsys, ["train", "-i", names, "--type", "gru", "-o", run, "--resume"])
    assert "holds a rnn checkpoint" in line
    assert digest(run) == before


@pytest.mark.parametrize("damage", ["truncated", "garbage", "newer", "not ours"])
def test_unusable_checkpoints(damage, runs, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs["bow"], run)
    path = run / CHECKPOINT
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00" * 100)
    else:
        ckpt = torch.load(path, weights_only=True)
        if damage == "newer":
            ckpt["version"] = FORMAT_VERSION + 1
        else:
            ckpt["format"] = "something else"
        torch.save(ckpt, path)
    before = digest(run)
    expected = {"truncated": "corrupt or truncated", "garbage": "corrupt or truncated", "newer": "newer than",
                "not ours": "not a sequentia checkpoint"}[damage]
    for argv in (["sample", run], ["evaluate", run], ["train", "-o", run, "--resume"]):
        assert expected in one_error_line(capsys, argv)
    assert digest(run) == before


# ----------------------------------------------------------------------------------- make reproduce


def test_reproduce_compares_every_type_with_a_published_figure(names, tmp_path, monkeypatch, capsys):
    from scripts import reproduce

    figures = reproduce.published()
    assert set(figures) == set(TYPES)  # every type has its notebook's row
    assert figures["transformer"]["notebook"] == "06_transformer" and figures["mlp"]["notebook"] == "03_mlp"
    # The bigram counts in no time: run the real command on the fixture list against a planted figure.
    run = tmp_path / "out"
    monkeypatch.setattr(reproduce, "published", lambda: {"bigram": {"dev": 9.0, "test": 9.0}})
    assert reproduce.main(["--types", "bigram", "-i", str(names), "--out", str(run), "--append", str(tmp_path / "b.md")]) == 1
    assert "| bigram |" in (tmp_path / "b.md").read_text() and "NO" in capsys.readouterr().out


def test_items_longer_than_a_packed_row(tmp_path, capsys):
    # The Transformer packs words into rows of 32 positions; an item of 40 characters (a place name, a
    # title) widens the rows to hold it, and an explicit --row-len that cannot hold it is refused.
    path = tmp_path / "long.txt"
    path.write_text("\n".join(WORDS[:40] + ["x" * 40 + w for w in STEMS[:4]]) + "\n", encoding="utf-8")
    line = one_error_line(capsys, ["train", "-i", path, "--type", "transformer", "-o", tmp_path / "r1",
                                   "--row-len", "32", *STEPS, *TINY["transformer"]])
    assert "--row-len 32 is shorter than the longest item (46 characters" in line
    assert not (tmp_path / "r1" / CHECKPOINT).exists()
    assert cli("train", "-i", path, "--type", "transformer", "-o", tmp_path / "r2", *STEPS, *TINY["transformer"]) == 0
    assert "rows widened from 32 to 47 positions" in capsys.readouterr().err
    assert load_checkpoint(tmp_path / "r2")["recipe"]["row_len"] == 47
