"""The common engine interface: every engine has it, and parameter validation is uniform."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import ENGINE_NAMES, EngineResult, FaceEngineError, get_engine
from gpu_worker.engines.base import check_params, require_inputs, unit_float


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_every_engine_implements_the_interface(name):
    engine = get_engine(name)
    assert name == engine.NAME
    assert engine.VERSION.startswith("classical-")
    assert isinstance(engine.INPUTS, tuple) and engine.INPUTS
    assert callable(engine.run)


def test_unknown_engine_is_a_bad_parameter():
    with pytest.raises(FaceEngineError) as exc:
        get_engine("teleport")
    assert exc.value.code == "bad_parameter"


def test_error_codes_are_a_closed_set():
    with pytest.raises(ValueError):
        FaceEngineError("oops", "not a code")
    err = FaceEngineError("no_face", "none here")
    assert err.code == "no_face" and "none here" in str(err)


def test_parameter_helpers_reject_bad_values():
    with pytest.raises(FaceEngineError):
        check_params({"strenght": 0.5}, {"strength"})
    for bad in (-0.1, 1.5, "0.5", True, None):
        with pytest.raises(FaceEngineError) as exc:
            unit_float({"strength": bad}, "strength", 0.5)
        assert exc.value.code == "bad_parameter"
    assert unit_float({}, "strength", 0.5) == 0.5
    with pytest.raises(FaceEngineError) as exc:
        require_inputs({}, ("image",))
    assert exc.value.code == "bad_parameter"
    with pytest.raises(FaceEngineError) as exc:
        require_inputs({"image": np.zeros((10, 10, 3), np.float64)}, ("image",))
    assert exc.value.code == "unreadable_image"


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_every_engine_rejects_unknown_params_and_non_images(name):
    engine = get_engine(name)
    with pytest.raises(FaceEngineError) as exc:
        engine.run({}, {"no_such_param": 1})
    assert exc.value.code == "bad_parameter"
    junk = {key: np.zeros((2, 2), np.float32) for key in (*engine.INPUTS, "face_0", "face_1", "face_2")}
    with pytest.raises(FaceEngineError) as exc:
        engine.run(junk, {})
    assert exc.value.code in ("unreadable_image", "bad_parameter")


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_every_engine_reports_no_face_on_a_blank_image(name):
    blank = np.full((200, 200, 3), 127, np.uint8)
    inputs = {key: blank for key in (*get_engine(name).INPUTS,)}
    with pytest.raises(FaceEngineError) as exc:
        get_engine(name).run(inputs, {})
    assert exc.value.code == "no_face"


def test_engine_result_holds_image_and_metadata():
    result = EngineResult(np.zeros((2, 2, 3), np.uint8), {"engine": "x"})
    assert result.metadata["engine"] == "x"


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_neural_engines_are_checked_for_the_same_interface_on_load(name, monkeypatch):
    engine = get_engine(name, "neural")
    assert name == engine.NAME and engine.VERSION.startswith("neural-") and engine.REQUIRED_MODELS
    assert engine.__name__ == f"gpu_worker.engines.{name}.neural"
    monkeypatch.delattr(engine, "REQUIRED_MODELS")
    with pytest.raises(TypeError, match="REQUIRED_MODELS"):
        get_engine(name, "neural")
