"""A listing that fails, or rows set aside at listing, never stop the other sensors; the run
ends with a summary per glacier and sensor."""

from __future__ import annotations

from datetime import date

import pandas
import pytest
from servers.http_server import LoopbackServer
from servers.scenes import make_glacier

from calvingfronts.glaciers.config import SensorSettings
from calvingfronts.report.run_statistics import scene_counts
from calvingfronts.report.run_summary import GlacierOutputs, end_of_run, glacier_summary
from calvingfronts.scenes.listing import (
    Listing,
    RowRejected,
    failed_listings,
    listing_rejections,
    nothing_listed,
    write_listing_record,
)
from calvingfronts.timeseries.geopackage import build_time_series
from calvingfronts.workflow.pipeline import list_stage

pytest_plugins = ["servers.fixtures"]

SUMMER = (date(2023, 6, 1), date(2023, 8, 31))
# Quick to give up: a refused connection fails the listing in well under a second.
FAST_HTTP = {"timeout": 2, "retries": 1, "backoff": 0.05}


@pytest.fixture
def down_url():
    """The address of a server that has gone away: connections are refused."""
    with LoopbackServer() as server:
        url = server.url + "/"
    return url


def _stac_glacier(urls: dict[str, str]):
    pixel = {"landsat8": 30.0, "sentinel2": 20.0}
    return make_glacier(
        {
            sensor: SensorSettings(
                sensor, "stac", pixel[sensor], *SUMMER, {"url": url, "sign": None, **FAST_HTTP}
            )
            for sensor, url in urls.items()
        }
    )


def test_an_archive_that_is_down_fails_its_listing_and_the_other_archive_lists(
    stac_archive, down_url
):
    glacier = _stac_glacier({"landsat8": down_url, "sentinel2": stac_archive.url})
    down = list_stage({}, glacier, "landsat8")
    up = list_stage({}, glacier, "sentinel2")
    assert down.failed and not down.scenes
    assert down_url.rstrip("/") in down.failure
    assert down.summary().startswith(
        f"jakobshavn/landsat8: listing the stac source failed: STAC search at {down_url} "
        "(collection landsat-c2-l2): connection refused"
    )
    assert "Traceback" not in down.summary()
    assert "re-run the target" in down.summary()
    assert not up.failed and up.scenes


def test_an_archive_answering_errors_fails_its_listing(stac_archive):
    stac_archive.api_server.inject("/search", "status", status=503, times=100)
    listing = list_stage({}, _stac_glacier({"sentinel2": stac_archive.url}), "sentinel2")
    assert listing.failed and "503" in listing.failure


def test_asf_down_fails_its_listing(down_url, tmp_path):
    settings = SensorSettings(
        "sentinel1",
        "asf",
        40.0,
        *SUMMER,
        {"search_url": down_url + "services/search/param", **FAST_HTTP},
    )
    listing = list_stage({}, make_glacier({"sentinel1": settings}), "sentinel1")
    assert listing.failed and "ASF search" in listing.failure


def test_a_failure_counts_up_so_the_next_run_lists_again(tmp_path):
    path = tmp_path / "landsat8.listing.json"
    assert failed_listings(path) == 0
    failed = Listing("g", "landsat8", "stac", [], [], failure="offline")
    write_listing_record(failed.record(failed_listings(path)), path)
    assert failed_listings(path) == 1
    write_listing_record(failed.record(failed_listings(path)), path)
    assert failed_listings(path) == 2
    # A listing that works keeps the count: no rerun after it.
    listed = Listing("g", "landsat8", "stac", [], [])
    write_listing_record(listed.record(failed_listings(path)), path)
    assert failed_listings(path) == 2


def _rows_set_aside():
    listing = Listing(
        "g",
        "terrasarx",
        "local",
        [],
        [
            RowRejected("terrasarx", "m.csv, line 3: scene_id 'a' is already used on line 2", "a"),
            RowRejected("terrasarx", "m.csv, line 4: acquired '29/03/2020' is not ISO 8601"),
        ],
    )
    return listing.record(0)


def test_rows_set_aside_reach_the_rejected_layer_once_and_count_apart_from_scenes():
    record = _rows_set_aside()
    rows = listing_rejections([record, record])  # two sensors reading one manifest
    assert len(rows) == 2
    kept = {
        "status": "accepted",
        "glacier": "g",
        "sensor": "terrasarx",
        "scene_id": "a",
        "acquired": "2020-02-01T00:00:00Z",
        "source": "local",
        "front_wkt": "LINESTRING (0 0, 1 1)",
    }
    fronts, rejected = build_time_series([kept, *rows])
    assert list(rejected["stage"]) == ["list", "list"]
    assert rejected["reason"].str.contains("line 3").any()
    counts = scene_counts(fronts, rejected).set_index("sensor")
    # The scene on line 2 is kept although line 3 repeats its scene_id.
    assert counts.loc["terrasarx", "fronts kept"] == 1
    assert counts.loc["terrasarx", "rejected at list"] == 2


def _tables():
    fronts = pandas.DataFrame({"sensor": ["sentinel2"] * 3, "scene_id": ["a", "b", "c"]})
    rejected = pandas.DataFrame(
        {
            "sensor": ["sentinel2", "sentinel2"],
            "scene_id": ["d", "e"],
            "stage": ["fetch", "vectorize"],
            "reason": ["no valid pixels over the area of interest", "no front candidate"],
        }
    )
    return fronts, rejected


def test_the_summary_names_each_sensor_and_a_failed_listing():
    listings = {
        "landsat8": {"status": "failed", "reason": "STAC search at http://x/ failed: refused"},
        "sentinel2": {"status": "listed", "scenes": 5},
    }
    lines = glacier_summary("jakobshavn", listings, *_tables())
    text = "\n".join(lines)
    assert "landsat8   NOT LISTED: STAC search at http://x/ failed: refused" in text
    assert "sentinel2  5 listed, 3 kept, rejected: 1 at fetch, 1 at vectorize" in text
    assert "fetch (1): no valid pixels over the area of interest" in text


def test_the_run_ends_with_an_error_line_only_when_a_listing_failed(tmp_path):
    outputs = GlacierOutputs.of("jakobshavn", ["landsat8", "sentinel2"], tmp_path)
    manifests = tmp_path / "jakobshavn" / "manifests"
    manifests.mkdir(parents=True)
    write_listing_record(
        Listing("jakobshavn", "sentinel2", "stac", [], []).record(0),
        manifests / "sentinel2.listing.json",
    )
    text, error = end_of_run([outputs], started=0.0)
    assert "sentinel2  0 listed" in text and error is None
    write_listing_record(
        Listing("jakobshavn", "landsat8", "stac", [], [], failure="offline").record(0),
        manifests / "landsat8.listing.json",
    )
    text, error = end_of_run([outputs], started=0.0)
    assert "landsat8   NOT LISTED: offline" in text
    assert "1 listing(s) failed: jakobshavn/landsat8" in error and "Re-running" in error
    # What an earlier run wrote is not this run's news.
    assert end_of_run([outputs], started=float("inf")) == ("", None)


def test_a_glacier_whose_every_listing_failed_is_said_to_have_no_geopackage(tmp_path):
    outputs = GlacierOutputs.of("jakobshavn", ["landsat8", "sentinel1"], tmp_path)
    manifests = tmp_path / "jakobshavn" / "manifests"
    manifests.mkdir(parents=True)
    records = []
    for sensor in ("landsat8", "sentinel1"):
        record = Listing("jakobshavn", sensor, "stac", [], [], failure="offline").record(0)
        write_listing_record(record, manifests / f"{sensor}.listing.json")
        records.append(record)
    assert nothing_listed(records).startswith("every listing failed, so no GeoPackage")
    assert nothing_listed(records[:1] + [{"status": "listed"}]) is None
    text, error = end_of_run([outputs], started=0.0)
    assert "no GeoPackage: no sensor could be listed" in text
    assert "no GeoPackage was written for jakobshavn" in error
    assert "are in the GeoPackage" not in error


def test_a_manifest_with_a_scene_id_twice_is_refused_by_name(tmp_path):
    from datetime import datetime, timezone

    from calvingfronts.scenes.manifest import Scene, read_manifest, write_manifest

    def scene(scene_id, day):
        acquired = datetime(2020, 1, day, tzinfo=timezone.utc)
        return Scene(scene_id, "demo", "landsat8", "local", acquired, f"{scene_id}.tif")

    path = tmp_path / "landsat8.csv"
    with pytest.raises(ValueError, match=r"landsat8.csv: duplicate scene ids \['A', 'C'\]"):
        write_manifest([scene("C", 1), scene("A", 2), scene("B", 3), scene("A", 4),
                        scene("C", 5)], path)  # fmt: skip
    assert not path.exists()
    write_manifest([scene("B", 3), scene("A", 2)], path)
    assert [s.scene_id for s in read_manifest(path)] == ["A", "B"]
