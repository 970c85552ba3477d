"""`trustsim animate`: the ring view over time as a GIF, and clear errors."""

import imageio.v3 as iio
import numpy as np
import pytest

from trustsim.classroom import animate as A
from trustsim.cli import main
from trustsim.loader import ScenarioError


def test_animate_a_lesson_writes_one_changing_frame_per_step(tmp_path, capsys):
    out = tmp_path / "slides" / "breach.gif"
    assert (
        main(["animate", "breach_way_back", "--out", str(out), "--steps", "6", "--lang", "en"]) == 0
    )
    assert f"wrote {out}" in capsys.readouterr().out
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == 7  # step 0 and six steps
    assert not np.array_equal(frames[0], frames[-1])


def test_animate_a_scenario_file_with_overrides(tmp_path):
    out = A.animate(
        "classroom",
        tmp_path / "c.gif",
        steps=2,
        customer=5,
        overrides=["population.n_customers=40"],
    )
    assert iio.imread(out, index=None).shape[0] == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["breach_way_back", "--out", "x.txt"], "use a .gif file"),
        (["breach_way_back", "--out", "x.gif", "--customer", "999"], "--customer 999"),
        (["breach_way_back", "--out", "x.gif", "--steps", "0"], "--steps 0"),
        (["nowhere", "--out", "x.gif"], "nowhere.toml: no such file"),
        (["breach", "--out", "x.gif", "--try"], "breach is a scenario, not a lesson"),
        (
            ["culture", "--out", "x.gif", "--set", "culture.ring_gradient=2"],
            "culture.ring_gradient = 2",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, message):
    args = [a if a != "x.gif" and a != "x.txt" else str(tmp_path / a) for a in args]
    assert main(["animate", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_mp4_needs_an_encoder(tmp_path, monkeypatch):
    monkeypatch.setattr(A, "mp4_encoder", lambda: False)
    with pytest.raises(ScenarioError, match="no MP4 encoder"):
        A.check_output(tmp_path / "x.mp4")


def _write_half_then(stop: BaseException):
    """An imageio.imwrite that writes part of its file, then is stopped by ``stop``."""

    def imwrite(path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"GIF89a half")
        raise stop

    return imwrite


@pytest.mark.parametrize("before", [None, b"an earlier, whole animation"], ids=["new", "old"])
def test_an_interrupted_animate_leaves_no_half_file(tmp_path, monkeypatch, capsys, before):
    """Ctrl-C (or SIGTERM, which the command line turns into it) while the GIF is being
    written: exit 130 and one line; no half file, an earlier file whole, no temporary."""
    out = tmp_path / "breach.gif"
    if before is not None:
        out.write_bytes(before)
    monkeypatch.setattr(iio, "imwrite", _write_half_then(KeyboardInterrupt()))
    args = ["animate", "breach_way_back", "--out", str(out), "--steps", "1", "--lang", "en"]
    assert main(args) == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        f"interrupted: {out} was not written (a file there before is whole); "
        "the same command makes the same animation"
    ]
    assert [p.name for p in tmp_path.iterdir()] == ([] if before is None else ["breach.gif"])
    if before is not None:
        assert out.read_bytes() == before


def test_a_full_disk_while_animate_writes_keeps_the_old_file(tmp_path, monkeypatch, capsys):
    import errno
    import os

    out = tmp_path / "breach.gif"
    out.write_bytes(b"an earlier, whole animation")
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(iio, "imwrite", _write_half_then(full))
    args = ["animate", "breach_way_back", "--out", str(out), "--steps", "1", "--lang", "en"]
    assert main(args) == 74
    err = capsys.readouterr().err
    assert f"cannot write {out}" in err and "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir()] == ["breach.gif"]
    assert out.read_bytes() == b"an earlier, whole animation"
