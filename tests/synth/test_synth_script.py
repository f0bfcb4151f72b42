"""Script validation, random scripts and the frame clock."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from vidseek.synth import PHOTOS, Script, ShotSpec, SpeechSpec, TextSpec, build, random_script
from vidseek.synth.photos import load_photo
from vidseek.synth.timeline import Clock, Cutlist


def test_script_duration_and_json_round_trip():
    script = Script(shots=[ShotSpec(duration=2.5), ShotSpec(duration=1.5, content="noise")])
    assert script.duration == 4.0
    assert Script.model_validate_json(script.model_dump_json()) == script


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"texts": [TextSpec(text="late", start=3.0, end=5.0)]}, "duration"),
        ({"texts": [TextSpec(text="empty", start=2.0, end=1.0)]}, "start < end"),
        ({"texts": [TextSpec(text="a", start=0, end=2), TextSpec(text="b", start=1, end=3)]},
         "overlap"),
        ({"speech": [SpeechSpec(text="hi", start=4.0)]}, "after the video ends"),
        ({"speech": [SpeechSpec(text="hi", start=0.0)], "audio": False}, "audio=True"),
        ({"width": 321}, "even"),
        ({"rotation": 45}, "rotation"),
        ({"preset": "warp"}, "preset"),
        ({"colour": "#ffffff"}, "colour"),
        ({"shots": [ShotSpec(duration=2, transition="fade", transition_duration=0.5)]},
         "first shot"),
        ({"shots": [ShotSpec(duration=2, color="#112233"), ShotSpec(duration=2, color="#112233")]},
         "look the same"),
        ({"shots": [ShotSpec(duration=2, content="photo", photo="coffee"),
                    ShotSpec(duration=2, content="photo", photo="coffee")]}, "look the same"),
        ({"shots": [ShotSpec(duration=1), ShotSpec(duration=1, transition="dissolve",
                                                   transition_duration=1.5)]}, "longer"),
        ({"shots": [ShotSpec(duration=0.01)]}, "at least"),
    ],
)
def test_invalid_scripts_are_rejected(changes, message):
    fields = {"shots": [ShotSpec(duration=3.0)], **changes}
    with pytest.raises(ValidationError, match=message):
        Script(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"photo": "nope", "content": "photo"}, "unknown photo"),
        ({"photo": "coffee"}, "content='photo'"),
        ({"color": "blue"}, "#3366cc"),
        ({"content": "photo", "color": "#ffffff"}, "no color"),
        ({"transition": "cut", "transition_duration": 1.0}, "cut has no"),
        ({"transition": "fade"}, "transition_duration > 0"),
    ],
)
def test_invalid_shots_are_rejected(fields, message):
    with pytest.raises(ValidationError, match=message):
        ShotSpec(duration=2.0, **fields)


def test_every_listed_photo_loads_offline():
    for name in PHOTOS:
        image = load_photo(name)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, name


def test_random_script_is_deterministic_and_varied():
    a = random_script(600, seed=7)
    assert a == random_script(600, seed=7)
    assert a != random_script(600, seed=8)
    assert a.duration == pytest.approx(600)
    assert all(0.5 <= s.duration <= 15 for s in a.shots[:-1])
    assert {s.content for s in a.shots} == {"photo", "shapes", "gradient", "noise", "color"}
    kinds = [s.transition for s in a.shots[1:]]
    assert kinds.count("cut") > len(kinds) / 2 and {"fade", "dissolve"} <= set(kinds)
    assert len(a.texts) >= 20 and len(a.speech) >= 15 and len(a.pictures) >= 10
    assert len({s.text for s in a.speech}) == len(a.speech)
    assert len({t.text for t in a.texts}) == len(a.texts)
    for items in (a.texts, a.speech, a.pictures):
        starts = [x.start for x in items]
        assert starts == sorted(starts)
    for prev, shot in zip(a.shots, a.shots[1:], strict=False):
        assert (prev.content, prev.color, prev.photo) != (shot.content, shot.color, shot.photo)


def test_random_script_options():
    script = random_script(20, seed=1, width=320, height=180, fps=15, audio=False, vfr=True,
                           with_text=False)
    assert (script.width, script.height, script.fps) == (320, 180, 15)
    assert not script.audio and script.vfr and not script.speech and not script.texts


def test_random_script_builds(tmp_path):
    script = random_script(40, seed=3, width=192, height=108, fps=10)
    truth = build(script, tmp_path / "random.mp4")
    assert len(truth.shots) == len(script.shots)
    assert len(truth.speech) == len(script.speech) >= 1
    for shot in truth.shots:
        assert shot.end > shot.start


def test_clock_constant_rate_is_exact():
    clock = Clock(30, 2.0)
    ticks = list(clock.ticks())
    assert clock.exact and len(ticks) == 60
    assert [t / clock.den for t in ticks] == [k / 30 for k in range(60)]


def test_clock_variable_rate_averages_the_nominal_rate():
    clock = Clock(30, 600.0, vfr=True, seed=4)
    times = list(clock.times())
    assert not clock.exact
    assert abs(len(times) / 600 - 30) < 0.5
    assert times == list(Clock(30, 600.0, vfr=True, seed=4).times())
    assert times != list(Clock(30, 600.0, vfr=True, seed=5).times())


def test_cutlist_mixes_around_the_boundary():
    shots = [ShotSpec(duration=2), ShotSpec(duration=2, transition="dissolve",
                                             transition_duration=1.0)]
    cutlist = Cutlist(shots)
    assert cutlist.mix_at(1.4).previous is None and cutlist.mix_at(1.4).shot == 0
    mix = cutlist.mix_at(2.0)
    assert (mix.shot, mix.previous, mix.alpha) == (1, 0, pytest.approx(0.5))
    assert cutlist.mix_at(2.5).previous is None and cutlist.mix_at(2.5).shot == 1
