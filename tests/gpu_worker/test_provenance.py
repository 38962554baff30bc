"""Every output says it is AI media (XMP DigitalSourceType); stores can add a visible corner mark."""

import io
import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image

from gpu_worker import pipelines
from gpu_worker.provenance import read_xmp
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE
from tests.generation.photos import astronaut, png_bytes

IPTC = "{http://iptc.org/std/Iptc4xmpExt/2008-02-29/}"


def restore_spec(visible: bool) -> dict:
    return {
        "job_id": "0b7e",
        "store_id": 1,
        "kind": "restore",
        "inputs": {"target": "shot.png"},
        "params": {"strength": 0.5},
        "output_prefix": "out/",
        "attempt_limit": 3,
        "label": {"visible": visible},
    }


def run(visible: bool) -> bytes:
    objects = {"shot.png": png_bytes(astronaut())}
    return pipelines.run(restore_spec(visible), objects.__getitem__, lambda pct: None).data


def test_output_carries_xmp_digital_source_type_and_job_id():
    png = run(visible=False)

    root = ET.fromstring(read_xmp(png).split("?>", 1)[1].rsplit("<?xpacket", 1)[0])
    description = root.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert description.get(f"{IPTC}DigitalSourceType") == SOURCE_TYPE_COMPOSITE
    assert description.get("{https://gasang.ai/ns/1.0/}JobId") == "0b7e"
    assert description.get("{https://gasang.ai/ns/1.0/}Engine").startswith("restore:")


def test_visible_label_marks_only_the_bottom_right_corner():
    plain = np.asarray(Image.open(io.BytesIO(run(visible=False))).convert("RGB")).astype(int)
    labelled = np.asarray(Image.open(io.BytesIO(run(visible=True))).convert("RGB")).astype(int)

    changed = np.abs(plain - labelled).sum(axis=2) > 0
    ys, xs = np.nonzero(changed)
    height, width = changed.shape
    assert changed.any()
    assert ys.min() > height * 0.8 and xs.min() > width * 0.6


def test_free_plan_watermark_marks_the_top_left_corner():
    objects = {"shot.png": png_bytes(astronaut())}
    spec = {**restore_spec(False), "label": {"visible": False, "watermark": True}}
    marked = np.asarray(Image.open(io.BytesIO(pipelines.run(spec, objects.__getitem__, lambda p: None).data)))
    plain = np.asarray(Image.open(io.BytesIO(run(visible=False))))

    ys, xs = np.nonzero(np.abs(marked.astype(int) - plain.astype(int)).sum(axis=2))
    assert len(ys) and ys.max() < marked.shape[0] * 0.2 and xs.max() < marked.shape[1] * 0.4


def test_the_visible_mark_goes_in_the_corner_and_size_the_store_chose():
    from gpu_worker.provenance import add_visible_label

    plain = np.full((400, 600, 3), 230, np.uint8)
    corner = {"top-left": (slice(0, 60), slice(0, 200)), "bottom-right": (slice(340, 400), slice(400, 600))}

    def darkened(image, where):
        return int((image[corner[where]].astype(int) < 150).sum())

    top_left = add_visible_label(plain, position="top-left")
    assert darkened(top_left, "top-left") > 0 and darkened(top_left, "bottom-right") == 0
    small = add_visible_label(plain, size="small")
    large = add_visible_label(plain, size="large")
    assert (large < 150).sum() > 2 * (small < 150).sum()  # the large mark covers well over twice the area
    unknown = add_visible_label(plain, position="nowhere", size="huge", text="nothing")
    assert darkened(unknown, "bottom-right") > 0  # a bad choice falls back to the default mark, never to none
