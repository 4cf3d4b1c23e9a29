"""The syllabus states an estimated study time for every notebook, and it follows the notebooks (scripts/study_time.py)."""

import pytest

from scripts import study_time
from utils import notebooks


@pytest.mark.parametrize("syllabus", study_time.SYLLABI, ids=lambda p: p.name)
def test_the_syllabus_gives_every_notebook_its_estimated_study_time(syllabus):
    stated = study_time.syllabus_times(syllabus.read_text(encoding="utf-8"))
    # notebook 00 holds the syllabus itself, for the notebooks after it
    want = [p for p in notebooks() if not (syllabus.stem == "00_start_here" and p.name.startswith("00"))]
    assert sorted(stated) == sorted(p.name[:2] for p in want), f"{syllabus.name}: a study time for every notebook"
    stale = []
    for path in want:
        estimate = study_time.minutes(study_time.measure(path))
        minutes = study_time.parse(stated[path.name[:2]])
        if abs(minutes - estimate) > max(5, study_time.TOLERANCE * estimate):
            stale.append(f"{path.stem}: {stated[path.name[:2]]!r}, estimated {study_time.spell(estimate)!r}")
    assert not stale, (f"{syllabus.name}: stale study times ({'; '.join(stale)}): run "
                       "`.venv/bin/python -m scripts.study_time --write`")


def test_the_syllabus_says_how_the_time_is_estimated():
    for syllabus in study_time.SYLLABI:
        text = " ".join(syllabus.read_text(encoding="utf-8").replace("# ", "").split())
        assert "200 words a minute" in text and "10 lines a minute" in text, syllabus.name
        assert "15 minutes per exercise" in text and "execution" in text, syllabus.name
    assert study_time.WORDS_PER_MINUTE == 200 and study_time.CODE_LINES_PER_MINUTE == 10
    assert study_time.EXERCISE_MINUTES == 15


def test_the_estimate_adds_reading_code_exercises_and_running():
    m = {"words": 2000, "code_lines": 300, "exercises": 2, "run_s": 120}
    assert study_time.minutes(m) == 70  # 10 reading + 30 code + 30 exercises + 2 running = 72, rounded to 5
    assert study_time.spell(70) == "1 h 10 min" and study_time.spell(45) == "45 min"
    assert study_time.parse("1 h 10 min") == 70 and study_time.parse("45 min") == 45 and study_time.parse("2 h") == 120
    with pytest.raises(ValueError):
        study_time.parse("?")


def test_syllabus_rows_are_read_and_rewritten_in_place():
    text = ("| notebook | you learn | study time |\n|---|---|---:|\n"
            "| [01 — one](notebooks/01_one.ipynb) | a | ? |\n| [02](02_two.ipynb) | b | 5 min |\n\nAfter.\n")
    assert study_time.syllabus_times(text) == {"01": "?", "02": "5 min"}
    new = study_time.rewrite(text, {"01": "1 h 05 min", "02": "40 min"})
    assert study_time.syllabus_times(new) == {"01": "1 h 05 min", "02": "40 min"}
    assert new.endswith("\n\nAfter.\n") and new.count("\n") == text.count("\n")
    py = "# | notebook | study time |\n# |---|---:|\n# | [03](03_three.ipynb) | ? |\n"
    assert study_time.syllabus_times(study_time.rewrite(py, {"03": "2 h 00 min"})) == {"03": "2 h 00 min"}
