"""The worker checks each spec's params against gpu_worker.spec.JOB_PARAMS, the table the web tier checks requests
with, before it reads a single input; the stage defaults come from the same table."""

from __future__ import annotations

import pytest

from gpu_worker import pipelines
from gpu_worker.face.errors import FaceEngineError
from gpu_worker.spec import JOB_PARAMS, ParamError, validate_job_params


def spec(kind: str, params: dict, inputs: dict | None = None) -> dict:
    return {"job_id": "j1", "store_id": 1, "kind": kind, "inputs": inputs or {"target": "shot.png"},
            "params": params, "output_prefix": "out/", "attempt_limit": 3, "label": {}}


def never_read(key: str) -> bytes:
    raise AssertionError(f"the worker read {key} although the spec's params are invalid")


@pytest.mark.parametrize(
    "job",
    [
        spec("restore", {"strength": 0.5, "upscale": 2}),  # an engine option the job contract does not offer
        spec("generate_face", {"seed": "x"}, {"contributors": ["a", "b", "c"]}),
        spec("generate_face", {"weights": [1, 1, 1, 1]}, {"contributors": ["a", "b", "c"]}),
        spec("swap", {"face_index": 10**30}, {"source": "f.png", "target": "shot.png"}),
        spec("second_generation", {"weight_a": 2}, {"parent_a": "a.png", "parent_b": "b.png"}),
    ],
    ids=["unknown", "seed", "weights count", "face_index", "weight_a"],
)
def test_a_spec_with_params_outside_the_contract_fails_with_bad_parameter_before_any_read(job):
    with pytest.raises(FaceEngineError) as failure:
        pipelines.run(job, never_read, lambda pct: None)

    assert failure.value.code == "bad_parameter"


@pytest.mark.parametrize(
    "kind, stage, param",
    [("restore", 0, "strength"), ("makeup", 0, "strength"), ("pipeline", 1, "restore_strength"),
     ("pipeline", 2, "makeup_strength")],
)
def test_stage_strengths_default_to_the_contract(kind, stage, param):
    assert pipelines.PLANS[kind][stage].params({})["strength"] == JOB_PARAMS[kind][param].default


def test_every_default_passes_its_own_definition():
    for kind, params in JOB_PARAMS.items():
        defaults = {name: p.default for name, p in params.items() if p.default is not None}
        assert validate_job_params(kind, defaults) == defaults


def test_errors_name_the_parameter():
    with pytest.raises(ParamError) as failure:
        validate_job_params("swap", {"face_index": -1})

    assert (failure.value.code, failure.value.name) == ("invalid", "face_index")
