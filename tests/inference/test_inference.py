"""Tiled inference: tiles, padding and blending must reproduce a whole-image prediction.

The graphs here are built by hand (an identity and a 5x5 box filter with the model's input
and output names) so that the expected output is known exactly; the shipped network is
exercised in test_workflow.py and the export parity tests.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from scipy import ndimage

from calvingfronts.inference.front_model import FrontModel, available_providers, tile_spans


def _write_graph(path, nodes, initializers=(), metadata=None):
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 1, "h", "w"])
    out = helper.make_tensor_value_info("front_probability", TensorProto.FLOAT, ["n", 1, "h", "w"])
    graph = helper.make_graph(nodes, "test", [image], [out], initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)
    return path


@pytest.fixture
def identity_model(tmp_path):
    return _write_graph(
        tmp_path / "identity.onnx",
        [helper.make_node("Identity", ["image"], ["front_probability"])],
        metadata={"model_name": "identity", "model_version": "0", "histogram": "equalize"},
    )


@pytest.fixture
def box_filter_model(tmp_path):
    kernel = helper.make_tensor("k", TensorProto.FLOAT, [1, 1, 5, 5], [1 / 25] * 25)
    conv = helper.make_node("Conv", ["image", "k"], ["front_probability"], pads=[2, 2, 2, 2])
    return _write_graph(tmp_path / "box.onnx", [conv], [kernel])


@pytest.mark.parametrize("length", [100, 256, 257, 1000, 1461, 2600, 5229])
def test_tiles_cover_the_image_with_the_requested_overlap_and_no_more(length):
    tile, overlap = 1152, 128
    spans = tile_spans(length, tile, overlap)
    sizes = {size for _, size in spans}
    assert len(sizes) == 1 and max(sizes) <= tile, "one tile size, never above the tile"
    assert spans[0][0] == 0 and spans[-1][0] + spans[-1][1] == length, "the whole length"
    for (a, size), (b, _) in zip(spans, spans[1:], strict=False):
        assert a + size - b >= overlap, "neighbours share at least the overlap"
    # The fewest tiles: one fewer could not cover the length with the overlap.
    count = len(spans)
    assert count == 1 or (count - 1) * tile - (count - 2) * overlap < length
    assert tile_spans(100, 256, 64) == [(0, 100)]


def test_a_scene_just_over_a_tile_is_shared_out_not_covered_twice():
    # A 1333-pixel Landsat scene in its 32-pixel frame: two tiles of 768, not of 1088.
    assert tile_spans(1333 + 64, 1024 + 64, 128) == [(0, 768), (629, 768)]
    # ... and in the 64-pixel frame used until 2026-12-04: two of 800, not of 1152.
    assert tile_spans(1333 + 128, 1024 + 128, 128) == [(0, 800), (661, 800)]


@pytest.mark.parametrize("shape", [(97, 203), (300, 300), (45, 31)])
def test_identity_model_returns_the_image_through_tiles(identity_model, shape):
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    model = FrontModel(identity_model, device="cpu")
    np.testing.assert_allclose(model.predict(image, tile_size=64, overlap=16), image, atol=1e-6)
    assert model.provider == "CPUExecutionProvider"
    assert model.info.name == "identity" and model.info.histogram == "equalize"


def test_blending_hides_tile_seams(box_filter_model):
    image = np.random.default_rng(2).random((160, 224), dtype=np.float32)
    model = FrontModel(box_filter_model, device="cpu")
    whole = ndimage.uniform_filter(image, 5, mode="constant")
    tiled = model.predict(image, tile_size=64, overlap=24)
    inner = (slice(8, -8), slice(8, -8))
    # Away from the image border only tile-edge effects could differ; the overlap absorbs them.
    assert np.abs(tiled - whole)[inner].max() < 0.02
    assert np.abs(tiled - whole)[inner].mean() < 1e-3


@pytest.mark.parametrize("shape", [(97, 203), (200, 300)])
def test_the_network_sees_nodata_beyond_the_image(box_filter_model, shape):
    """Training crops that reach past an image see nodata (0) there, so the network must see
    0 beyond every edge too (FRAME_PX): a box filter averages zeros in at the border. Mirrored
    padding would average in a reflected copy of the image at the bottom and right."""
    image = np.random.default_rng(5).random(shape, dtype=np.float32) + 1.0
    probability = FrontModel(box_filter_model, device="cpu").predict(image)
    expected = ndimage.uniform_filter(image, 5, mode="constant")
    np.testing.assert_allclose(probability, expected, atol=1e-5)


def test_the_frame_does_not_split_an_image_of_one_tile(identity_model):
    """tile_size counts the image's own pixels; the frame comes on top of it."""
    model = FrontModel(identity_model, device="cpu")
    calls = []
    network = model.run_network
    model.run_network = lambda views: calls.append(views.shape) or network(views)
    model.predict(np.ones((64, 64), np.float32), tile_size=64, overlap=16)
    assert len(calls) == 1


def test_a_model_without_the_contract_names_is_refused(tmp_path):
    image = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, "h", "w"])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, "h", "w"])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [image], [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "bad.onnx")
    with pytest.raises(ValueError, match="expected input 'image'"):
        FrontModel(tmp_path / "bad.onnx", device="cpu")


def test_missing_model_and_cuda_without_provider_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FrontModel(tmp_path / "none.onnx")
    if "CUDAExecutionProvider" not in available_providers("auto"):
        with pytest.raises(RuntimeError, match="onnxruntime-gpu"):
            available_providers("cuda")


@pytest.mark.parametrize("shape", [(97, 203), (64, 64)])
def test_every_member_is_turned_back_onto_the_image(identity_model, shape):
    """Through an identity network every view, turned back, is the image itself: a view
    not undone (a mirrored or transposed map) would differ."""
    image = np.random.default_rng(3).random(shape, dtype=np.float32)
    members = FrontModel(identity_model, device="cpu").predict_members(
        image, tile_size=64, overlap=16, members=8
    )
    assert members.shape == (8, *shape)
    for member in members:
        np.testing.assert_allclose(member, image, atol=1e-6)


def test_members_see_the_image_mirrored_and_turned(tmp_path):
    """A network that looks one pixel to its right sees, in the mirrored view, the pixel to
    the left: the members differ where the network is not symmetric."""
    kernel = np.zeros((1, 1, 3, 3), dtype=np.float32)
    kernel[0, 0, 1, 2] = 1.0  # output(r, c) = input(r, c + 1)
    weights = helper.make_tensor("k", TensorProto.FLOAT, [1, 1, 3, 3], kernel.ravel())
    conv = helper.make_node("Conv", ["image", "k"], ["front_probability"], pads=[1, 1, 1, 1])
    path = _write_graph(tmp_path / "right.onnx", [conv], [weights])
    image = np.random.default_rng(4).random((40, 50), dtype=np.float32)
    members = FrontModel(path, device="cpu").predict_members(image, 64, 16, members=2)
    inner = (slice(2, -2), slice(2, -2))
    right = np.roll(image, -1, axis=1)
    left = np.roll(image, 1, axis=1)
    np.testing.assert_allclose(members[0][inner], right[inner], atol=1e-6)
    np.testing.assert_allclose(members[1][inner], left[inner], atol=1e-6)


def _looking_right(tmp_path):
    """A network that is not symmetric, so that every view gives its own map."""
    kernel = np.zeros((1, 1, 3, 3), dtype=np.float32)
    kernel[0, 0, 1, 2] = 1.0
    kernel[0, 0, 0, 1] = 0.5
    weights = helper.make_tensor("k", TensorProto.FLOAT, [1, 1, 3, 3], kernel.ravel())
    conv = helper.make_node("Conv", ["image", "k"], ["front_probability"], pads=[1, 1, 1, 1])
    return _write_graph(tmp_path / "right.onnx", [conv], [weights])


def test_the_later_views_alone_are_the_rest_of_all_views(tmp_path):
    """Views come in a fixed order: the views after the first two, made alone, are what
    all eight give after the first two, tiles and all."""
    model = FrontModel(_looking_right(tmp_path), device="cpu")
    image = np.random.default_rng(5).random((90, 130), dtype=np.float32)
    every = model.predict_scene(image, 64, 16, members=8).members
    first = model.predict_scene(image, 64, 16, members=2).members
    rest = model.predict_scene(image, 64, 16, members=8, first_member=2).members
    assert rest.shape == (6, 90, 130)
    np.testing.assert_allclose(np.concatenate([first, rest]), every, atol=1e-6)
    assert not np.allclose(rest[0], rest[1])  # the views differ: the test can tell them apart
    for first_member in (-1, 8):
        with pytest.raises(ValueError, match="first_member must be 0 to 7"):
            model.predict_scene(image, members=8, first_member=first_member)


def test_member_counts_outside_the_views_are_refused(identity_model):
    model = FrontModel(identity_model, device="cpu")
    for members in (0, 9):
        with pytest.raises(ValueError, match="members must be 1 to 8"):
            model.predict_members(np.zeros((8, 8), np.float32), members=members)


def test_inference_covers_the_fjord_and_its_context_only(identity_model, tmp_path):
    """Outside the fjord's bounding box and CONTEXT_PX around it the probability is nodata
    (never inferred); inside, it is what the whole scene gives."""
    from datetime import datetime, timezone

    from affine import Affine

    from calvingfronts.inference.front_model import CONTEXT_PX
    from calvingfronts.raster_io import Raster, read_raster, write_raster
    from calvingfronts.scenes.manifest import Scene
    from calvingfronts.workflow import pipeline

    image = np.random.default_rng(3).random((1, 600, 700)).astype("float32")
    transform = Affine(30.0, 0, 0.0, 0, -30.0, 18000.0)
    preprocessed = tmp_path / "pre.tif"
    write_raster(preprocessed, Raster(image, transform, "EPSG:3413", None))
    scene = Scene("S1", "g", "landsat8", "local", datetime(2020, 1, 1, tzinfo=timezone.utc), "x")
    model = FrontModel(identity_model, device="cpu")
    # Columns 200-300 and rows 200-300 of the grid.
    fjord_bounds = (6000.0, 9000.0, 9000.0, 12000.0)
    full, cut = tmp_path / "full.tif", tmp_path / "cut.tif"
    pipeline.inference_stage(model, scene, str(preprocessed), str(full), 256, 32, 1)
    pipeline.inference_stage(model, scene, str(preprocessed), str(cut), 256, 32, 1,
                             region_bounds=fjord_bounds)  # fmt: skip
    whole, window = read_raster(full).band, read_raster(cut).band
    # A scene seen with 2 views and then with 4 reuses the 2: the same file as 4 at once.
    right = FrontModel(_looking_right(tmp_path), device="cpu")
    at_once, in_two = tmp_path / "at_once.tif", tmp_path / "in_two.tif"
    pipeline.inference_stage(right, scene, str(preprocessed), str(at_once), 256, 32, 4,
                             region_bounds=fjord_bounds)  # fmt: skip
    two = pipeline.inference_stage(right, scene, str(preprocessed), str(in_two), 256, 32, 2,
                                   region_bounds=fjord_bounds)  # fmt: skip
    four = pipeline.inference_stage(right, scene, str(preprocessed), str(in_two), 256, 32, 4,
                                    region_bounds=fjord_bounds, earlier=two)  # fmt: skip
    assert two.members.shape[0] == 2 and four.members.shape[0] == 4
    np.testing.assert_array_equal(read_raster(in_two).data, read_raster(at_once).data)
    assert read_raster(in_two).tags["MEMBERS"] == read_raster(at_once).tags["MEMBERS"]
    with pytest.raises(AssertionError, match="not a start of 2 views"):
        pipeline.inference_stage(right, scene, str(preprocessed), str(in_two), 256, 32, 2,
                                 region_bounds=fjord_bounds, earlier=four)  # fmt: skip
    rows = cols = slice(200 - CONTEXT_PX, 300 + 1 + CONTEXT_PX)
    np.testing.assert_array_equal(window[rows, cols], whole[rows, cols])
    outside = np.ones(window.shape, dtype=bool)
    outside[rows, cols] = False
    nodata = pipeline.PROBABILITY_NODATA
    assert (window[outside] == nodata).all() and not (whole == nodata).any()
