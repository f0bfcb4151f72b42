"""Faces with dlib: tracks and their times on synthetic videos with pasted face photos,
identities, head counts, frames without faces, reuse of unchanged frames, and real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from vidseek.analyzers.base import FrameAnalyzer
from vidseek.analyzers.faces import FaceAnalyzer
from vidseek.media import Frame, VideoReader
from vidseek.models import resolve
from vidseek.models.faces import DESCRIPTOR_SPACE, DlibFaces, same_person
from vidseek.synth import PictureSpec, Script, ShotSpec, build
from vidseek.synth.timecode import draw_timecode

MIN_IOU = 0.5


def _iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def _analyze(path: Path, analyzer: FaceAnalyzer, end: float | None = None):
    """Feed the sampled frames of a video through the analyzer, as indexing does."""
    with VideoReader(path) as reader:
        analyzer.start("video", reader.duration)
        observations = []
        for frame in reader.every(analyzer.interval, tolerance=analyzer.interval / 2,
                                  end=end, size=analyzer.size):
            observations += analyzer.add(frame)
        return observations + list(analyzer.finish())


def _faces(observations):
    return sorted((o for o in observations if o.kind == "face"), key=lambda o: o.start)


def _people(observations):
    return sorted((o for o in observations if o.kind == "person"), key=lambda o: o.start)


def _table(truth, observations) -> str:
    rows = [f"  truth {p.start:6.2f}-{p.end:6.2f} {Path(p.photo).name}" for p in truth]
    rows += [f"  found {o.start:6.2f}-{o.end:6.2f} {o.kind} {o.text!r} "
             f"{ {k: v for k, v in o.data.items() if k != 'boxes'} }" for o in observations]
    return "\n".join(rows)


def _matches(truth, faces):
    """For each pasted picture, the face observation overlapping it most, if its IoU is at
    least 0.5 (else None)."""
    found = []
    for p in truth:
        best = max(faces, key=lambda o: _iou((o.start, o.end), (p.start, p.end)), default=None)
        ok = best is not None and _iou((best.start, best.end), (p.start, p.end)) >= MIN_IOU
        found.append(best if ok else None)
    return found


@pytest.fixture(scope="module")
def model() -> DlibFaces:
    """One model for the module: its weights load once."""
    return resolve("faces")


@pytest.fixture(scope="module")
def astronaut_face(tmp_path_factory) -> Path:
    """Eileen Collins' head and shoulders from scikit-image's astronaut photo: pasted at 0.6
    of a 360 px frame, her face is about 85 px, above the detector's 70 px."""
    path = tmp_path_factory.mktemp("faces") / "astronaut_face.png"
    Image.fromarray(data.astronaut()[20:240, 110:340]).save(path)
    return path


@pytest.fixture(scope="module")
def other_face(tmp_path_factory, real_videos, model) -> Path:
    """A second person: the face in a real clip (a young woman), cropped with room around it."""
    with VideoReader(real_videos / "videollama_silence_girl.mp4") as reader:
        image = next(reader.at([2.0])).image
    faces = model.detect(image)
    assert len(faces) == 1, faces
    x0, y0, x1, y1 = faces[0].box
    margin = faces[0].side // 2
    crop = image[max(0, y0 - margin):y1 + margin, max(0, x0 - margin):x1 + margin]
    path = tmp_path_factory.mktemp("faces") / "other_face.png"
    Image.fromarray(crop).save(path)
    return path


def _shots() -> list[ShotSpec]:
    # cuts at 12, 22, 32 and 42 s, with pans, noise and a photo behind the faces
    return [ShotSpec(duration=12, content="shapes"), ShotSpec(duration=10, content="gradient"),
            ShotSpec(duration=10, content="noise"),
            ShotSpec(duration=10, content="photo", photo="coffee"),
            ShotSpec(duration=8, content="shapes", motion="zoom")]


@pytest.fixture(scope="module")
def astronaut_run(tmp_path_factory, astronaut_face, model):
    """The same face three times, once across a cut, never on the 3 s sampling grid."""
    pictures = [PictureSpec(photo=str(astronaut_face), start=2.7, end=10.4, scale=0.6),
                PictureSpec(photo=str(astronaut_face), start=15.2, end=24.9, scale=0.6,
                            position="left"),
                PictureSpec(photo=str(astronaut_face), start=33.5, end=41.0, scale=0.7,
                            position="right")]
    script = Script(width=640, height=360, fps=12, shots=_shots(), pictures=pictures,
                    audio=False, seed=2)
    path = tmp_path_factory.mktemp("faces") / "astronaut.mp4"
    truth = build(script, path)
    analyzer = FaceAnalyzer(model)
    return analyzer, _analyze(path, analyzer), truth


@pytest.fixture(scope="module")
def two_people_run(tmp_path_factory, astronaut_face, other_face, model):
    """Two people: alone, together, and each again later."""
    pictures = [PictureSpec(photo=str(other_face), start=1.6, end=9.5, scale=0.6),
                PictureSpec(photo=str(astronaut_face), start=13.4, end=28.3, scale=0.6,
                            position="left"),
                PictureSpec(photo=str(other_face), start=17.8, end=25.5, scale=0.6,
                            position="right"),
                PictureSpec(photo=str(astronaut_face), start=33.0, end=40.6, scale=0.6),
                PictureSpec(photo=str(other_face), start=42.6, end=50.0, scale=0.6,
                            position="left")]
    script = Script(width=640, height=360, fps=12, shots=_shots(), pictures=pictures,
                    audio=False, seed=4)
    path = tmp_path_factory.mktemp("faces") / "two_people.mp4"
    truth = build(script, path)
    analyzer = FaceAnalyzer(model)
    return analyzer, _analyze(path, analyzer), truth


def test_defaults_and_protocol(model):
    analyzer = FaceAnalyzer(model)
    assert isinstance(analyzer, FrameAnalyzer)
    assert (analyzer.name, analyzer.version, analyzer.interval, analyzer.size) == (
        "faces", "1", 3.0, 640)
    assert FaceAnalyzer("dlib:2x").model.name == "dlib:hog-2x+resnet-v1"
    with pytest.raises(ValueError, match="face model spec"):
        FaceAnalyzer("yunet")
    with pytest.raises(ValueError, match="interval"):
        FaceAnalyzer(model, interval=0)
    with pytest.raises(RuntimeError, match="start"):
        analyzer.add(Frame(0.0, np.zeros((36, 64, 3), np.uint8)))
    assert list(analyzer.finish()) == []


@pytest.mark.slow
def test_face_tracks_match_the_times_a_face_is_on_screen(astronaut_run):
    _, observations, truth = astronaut_run
    faces = _faces(observations)
    table = _table(truth.pictures, observations)
    assert len(faces) == len(truth.pictures) == 3, table
    assert _matches(truth.pictures, faces) == faces, table
    # the face shown across the cut at 22 s is one track
    assert [o.data["track"] for o in faces] == [1, 2, 3], table


@pytest.mark.slow
def test_the_same_face_at_separate_times_is_one_identity(astronaut_run):
    _, observations, truth = astronaut_run
    faces = _faces(observations)
    assert [o.data["identity"] for o in faces] == [1, 1, 1], _table(truth.pictures, faces)
    assert all(o.text == "face (person 1)" for o in faces)
    first, *others = (np.array(o.vectors[DESCRIPTOR_SPACE]) for o in faces)
    assert all(same_person(first, other) for other in others)


@pytest.mark.slow
def test_face_observations_are_well_formed(astronaut_run, model):
    analyzer, observations, truth = astronaut_run
    for obs in _faces(observations):
        assert obs.video_id == "video" and obs.source == model.name == "dlib:hog+resnet-v1"
        assert 0 <= obs.start < obs.data["first_seen"] <= obs.data["last_seen"] < obs.end
        assert obs.end <= truth.duration
        vector = obs.vectors[DESCRIPTOR_SPACE]
        assert len(vector) == 128 and abs(np.linalg.norm(vector) - 1) < 1e-4
        assert obs.vector is None and obs.data["score"] > 0.5
        boxes = obs.data["boxes"]
        assert 1 <= len(boxes) <= 5
        assert boxes[0][0] == obs.data["first_seen"] and boxes[-1][0] == obs.data["last_seen"]
        for t, x0, y0, x1, y1 in boxes:
            assert obs.start <= t <= obs.end
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
            assert 0.2 < y1 - y0 < 0.35  # an 85 to 100 px face in a 360 px frame
    # one descriptor per track; every frame changes (pans, noise, timecode): each is looked
    # at, the whole picture or, where only a small part changed, that part
    assert analyzer.descriptors == 3
    assert analyzer.frames == analyzer.detections + analyzer.region_detections == 17


@pytest.mark.slow
def test_one_person_on_screen_while_one_face_is(astronaut_run):
    _, observations, _ = astronaut_run
    faces, people = _faces(observations), _people(observations)
    assert [(p.start, p.end, p.text, p.data) for p in people] == [
        (f.start, f.end, "1 person", {"count": 1}) for f in faces]


@pytest.mark.shared
@pytest.mark.slow
def test_two_people_are_two_identities(two_people_run):
    _, observations, truth = two_people_run
    faces = _faces(observations)
    table = _table(truth.pictures, observations)
    matches = _matches(truth.pictures, faces)
    assert len(faces) == 5 and sorted(matches, key=lambda o: o.start) == faces, table
    # the other face first, the astronaut second, each the same person every time
    assert [o.data["identity"] for o in matches] == [1, 2, 1, 2, 1], table
    assert [o.text for o in matches[:2]] == ["face (person 1)", "face (person 2)"]


@pytest.mark.shared
@pytest.mark.slow
def test_counts_two_people_while_both_are_on_screen(two_people_run):
    _, observations, truth = two_people_run
    people = _people(observations)
    table = _table(truth.pictures, observations)
    both = [p for p in people if p.data["count"] == 2]
    assert len(both) == 1 and both[0].text == "2 people", table
    assert _iou((both[0].start, both[0].end), (17.8, 25.5)) >= MIN_IOU, table
    assert {p.data["count"] for p in people} == {1, 2}
    # stretches do not overlap and change count where they touch
    for a, b in zip(people, people[1:]):
        assert a.end <= b.start and (a.end < b.start or a.data != b.data), table


def test_video_without_faces_gives_no_observations(tmp_path, model):
    shots = [ShotSpec(duration=5, content="photo", photo="chelsea"),
             ShotSpec(duration=5, content="photo", photo="coffee", motion="zoom"),
             ShotSpec(duration=4, content="noise"),
             ShotSpec(duration=5, content="photo", photo="rocket"),
             ShotSpec(duration=5, content="photo", photo="motorcycle"),
             ShotSpec(duration=4, content="shapes")]
    pictures = [PictureSpec(photo="horse", start=2, end=8, scale=0.8),
                PictureSpec(photo="logo", start=15, end=22, scale=0.7)]
    path = tmp_path / "no_faces.mp4"
    build(Script(width=640, height=360, fps=12, shots=shots, pictures=pictures,
                 audio=False, seed=5), path)
    analyzer = FaceAnalyzer(model)
    observations = _analyze(path, analyzer)
    assert observations == [], _table([], observations)
    assert analyzer.frames == analyzer.detections == 10 and analyzer.descriptors == 0


# -- tracking and times, on frames made here at exact times -------------------------------

def _picture(faces: list[tuple[int, int]], shade: int = 70) -> np.ndarray:
    """A 640 x 360 frame with the astronaut's face crop pasted at each (x, y)."""
    image = np.full((360, 640, 3), shade, np.uint8)
    face = np.asarray(Image.fromarray(data.astronaut()[20:240, 110:340]).resize((207, 198)))
    for x, y in faces:
        image[y:y + face.shape[0], x:x + face.shape[1]] = face
    return image


def _feed(analyzer: FaceAnalyzer, pictures: list[np.ndarray], duration: float):
    analyzer.start("frames", duration)
    observations = []
    for k, picture in enumerate(pictures):
        observations += analyzer.add(Frame(3.0 * k, picture))
    return observations + list(analyzer.finish())


def test_times_are_midpoints_between_samples_and_one_miss_is_tolerated(model):
    left, right = (40, 80), (400, 100)
    # samples every 3 s: one face at 6-15 s (missed at 12 s), a second one at 9 s only
    pictures = [_picture([]), _picture([]), _picture([left]), _picture([left, right]),
                _picture([], shade=75), _picture([left]), _picture([]), _picture([], 75)]
    analyzer = FaceAnalyzer(model)
    observations = _feed(analyzer, pictures, 23.0)
    faces = [(o.start, o.end, o.data["first_seen"], o.data["last_seen"], o.data["identity"])
             for o in _faces(observations)]
    assert faces == [(4.5, 16.5, 6.0, 15.0, 1), (7.5, 10.5, 9.0, 9.0, 1)]
    people = [(p.start, p.end, p.data["count"]) for p in _people(observations)]
    assert people == [(4.5, 7.5, 1), (7.5, 10.5, 2), (10.5, 16.5, 1)]

    # without tolerance the miss splits the first face in two
    strict = FaceAnalyzer(model, max_missed=0)
    spans = [(o.start, o.end) for o in _faces(_feed(strict, pictures, 23.0))]
    assert spans == [(4.5, 10.5), (7.5, 10.5), (13.5, 16.5)]

    # two descriptors for the face seen in three samples, one for the face seen once
    averaged = FaceAnalyzer(model, descriptors_per_track=2)
    faces = _faces(_feed(averaged, pictures, 23.0))
    assert averaged.descriptors == 3 and [o.data["identity"] for o in faces] == [1, 1]


def test_a_face_still_there_at_the_end_ends_with_the_video(model):
    pictures = [_picture([]), _picture([(200, 90)]), _picture([(205, 90)])]
    observations = _feed(FaceAnalyzer(model), pictures, 7.0)
    assert [(o.kind, o.start, o.end) for o in observations] == [
        ("face", 1.5, 6.5), ("person", 1.5, 6.5)]


def test_unchanged_frames_reuse_the_last_detection(model):
    still = _picture([(220, 80)])
    pictures = [still] * 6 + [_picture([])] * 2 + [still.copy()] * 3
    analyzer = FaceAnalyzer(model)
    observations = _feed(analyzer, pictures, 33.0)
    assert analyzer.frames == 11 and analyzer.detections == 3
    assert [(o.start, o.end) for o in _faces(observations)] == [(0.0, 16.5), (22.5, 31.5)]
    assert analyzer.descriptors == 2


def test_a_ticking_clock_elsewhere_costs_no_detection_of_the_whole_picture(model):
    """A burned-in timecode changes every frame: the detector looks at its strip alone,
    finds no face there, and the face detected first stands throughout."""
    pictures = []
    for k in range(6):
        picture = _picture([(220, 40)])
        draw_timecode(picture, 3000 * k)
        pictures.append(picture)
    analyzer = FaceAnalyzer(model)
    observations = _feed(analyzer, pictures, 18.0)
    assert (analyzer.detections, analyzer.region_detections) == (1, 5)
    assert [(o.start, o.end) for o in _faces(observations)] == [(0.0, 16.5)]


def test_a_face_appearing_in_a_small_part_of_the_picture_is_found(model):
    pictures = [_picture([]), _picture([(400, 100)]), _picture([(400, 100)])]
    analyzer = FaceAnalyzer(model)
    observations = _feed(analyzer, pictures, 9.0)
    # the change is looked at alone, holds a face, and the whole picture is detected again
    assert (analyzer.detections, analyzer.region_detections) == (2, 1)
    assert [(o.start, o.end) for o in _faces(observations)] == [(1.5, 7.5)]


def test_person_counts_come_out_while_the_video_plays(model):
    """A count is emitted as soon as no open track can change it, not only at the end."""
    analyzer = FaceAnalyzer(model)
    analyzer.start("frames", 100.0)
    face, empty = _picture([(220, 80)]), _picture([])
    emitted = []
    for k, picture in enumerate([face, face.copy(), empty, _picture([], 75), empty]):
        emitted.append([o.kind for o in analyzer.add(Frame(3.0 * k, picture))])
    assert emitted == [[], [], [], ["face", "person"], []]


# -- real clips --------------------------------------------------------------------------

@pytest.mark.shared
def test_real_clip_one_woman_facing_the_camera(real_videos, model):
    """charades_Y1HGC: a woman walks in (far, then her back to the camera), sits down at
    about 10 s and faces the camera until the end (30.7 s)."""
    analyzer = FaceAnalyzer(model)
    observations = _analyze(real_videos / "charades_Y1HGC.mp4", analyzer)
    faces, people = _faces(observations), _people(observations)
    table = _table([], observations)
    assert faces and {o.data["identity"] for o in faces} == {1}, table
    covered = sum(o.end - o.start for o in faces)
    assert covered >= 14 and min(o.start for o in faces) <= 14, table
    assert max(o.end for o in faces) >= 29, table
    assert people and all(p.text == "1 person" for p in people), table


@pytest.mark.shared
def test_real_clip_with_far_people_and_a_doll_has_no_faces(real_videos, model):
    """nextqa_6037747123: a Santa doll on a golf cart, then golfers far away (faces of
    about 10 px): no face the detector can see, and the doll's is not taken for one."""
    analyzer = FaceAnalyzer(model)
    observations = _analyze(real_videos / "nextqa_6037747123.mp4", analyzer)
    assert observations == [], _table([], observations)
    assert analyzer.frames == analyzer.detections > 0
