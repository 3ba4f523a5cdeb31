"""A small STAC API over an in-memory catalogue: landing page, collections, item search.

Enough of STAC API 1.0 for pystac-client and the stac source: ``/`` with conformance
classes and links, ``/conformance``, ``/collections``, ``/collections/{id}``, ``/search``
by GET and POST with ``bbox``, ``intersects``, ``datetime``, ``collections``, ``ids``,
``limit`` and paging through ``next`` links (a ``token`` that is an offset), plus the
``query`` extension and CQL2-JSON ``filter`` for properties such as ``eo:cloud_cover``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from shapely.geometry import box, shape

from calvingfronts.scenes.manifest import parse_utc

from .http_server import Request, Response

CORE = "https://api.stacspec.org/v1.0.0/core"
ITEM_SEARCH = "https://api.stacspec.org/v1.0.0/item-search"
QUERY = "https://api.stacspec.org/v1.0.0/item-search#query"
FILTER = "https://api.stacspec.org/v1.0.0/item-search#filter"
CQL2_JSON = "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json"
COLLECTIONS = "https://api.stacspec.org/v1.0.0/collections"


def _interval(text: str | None):
    if not text:
        return None, None
    first, _, last = text.partition("/") if "/" in text else (text, "", text)
    start = None if first in ("", "..") else parse_utc(first)
    end = None if last in ("", "..") else parse_utc(last)
    return start, end


_QUERY_OPS = {
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
}

_CQL_OPS = {
    "=": _QUERY_OPS["eq"],
    "<>": _QUERY_OPS["neq"],
    "<": _QUERY_OPS["lt"],
    "<=": _QUERY_OPS["lte"],
    ">": _QUERY_OPS["gt"],
    ">=": _QUERY_OPS["gte"],
    "in": _QUERY_OPS["in"],
}


def matches_query(properties: dict, query: dict) -> bool:
    return all(
        _QUERY_OPS[op](properties.get(name), value)
        for name, conditions in query.items()
        for op, value in conditions.items()
    )


def matches_filter(properties: dict, expression: dict) -> bool:
    op = expression["op"].lower()
    args = expression["args"]
    if op == "and":
        return all(matches_filter(properties, a) for a in args)
    if op == "or":
        return any(matches_filter(properties, a) for a in args)
    if op == "not":
        return not matches_filter(properties, args[0])
    left, right = args
    value = properties.get(left["property"]) if isinstance(left, dict) else left
    return _CQL_OPS[op](value, right)


class StacApi:
    """The API as an app for :class:`LoopbackServer`; ``items`` can change between searches."""

    def __init__(self, base_url: str, items: list[dict] | None = None, conformance=None):
        self.base_url = base_url.rstrip("/")
        self.items: list[dict] = list(items or [])
        self.conformance = list(
            conformance or [CORE, ITEM_SEARCH, QUERY, FILTER, CQL2_JSON, COLLECTIONS]
        )
        self.searches: list[dict] = []  # parameters of every search, for assertions

    # -- documents -----------------------------------------------------------------------------
    def landing(self) -> dict:
        root = self.base_url + "/"
        return {
            "type": "Catalog",
            "stac_version": "1.0.0",
            "id": "loopback",
            "description": "Loopback STAC API for tests",
            "conformsTo": self.conformance,
            "links": [
                {"rel": "self", "href": root, "type": "application/json"},
                {"rel": "root", "href": root, "type": "application/json"},
                {"rel": "data", "href": self.base_url + "/collections"},
                {"rel": "conformance", "href": self.base_url + "/conformance"},
                {
                    "rel": "search",
                    "href": self.base_url + "/search",
                    "method": "GET",
                    "type": "application/geo+json",
                },
                {
                    "rel": "search",
                    "href": self.base_url + "/search",
                    "method": "POST",
                    "type": "application/geo+json",
                },
            ],
        }

    def collection(self, name: str) -> dict:
        return {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": name,
            "description": f"{name} (loopback)",
            "license": "proprietary",
            "extent": {
                "spatial": {"bbox": [[-180, -90, 180, 90]]},
                "temporal": {"interval": [[None, None]]},
            },
            "links": [{"rel": "self", "href": f"{self.base_url}/collections/{name}"}],
        }

    # -- search --------------------------------------------------------------------------------
    def parameters(self, request: Request) -> dict:
        if request.method == "POST":
            return request.json()
        params = {k: v[-1] for k, v in request.query.items()}
        if "bbox" in params:
            params["bbox"] = [float(v) for v in params["bbox"].split(",")]
        if "collections" in params:
            params["collections"] = params["collections"].split(",")
        if "ids" in params:
            params["ids"] = params["ids"].split(",")
        for key in ("intersects", "query", "filter"):
            if key in params:
                params[key] = json.loads(params[key])
        return params

    def select(self, params: dict) -> list[dict]:
        area = None
        if params.get("intersects"):
            area = shape(params["intersects"])
        elif params.get("bbox"):
            area = box(*params["bbox"][:4])
        start, end = _interval(params.get("datetime"))
        chosen = []
        for item in self.items:
            props = item["properties"]
            if params.get("collections") and item.get("collection") not in params["collections"]:
                continue
            if params.get("ids") and item["id"] not in params["ids"]:
                continue
            if area is not None and not shape(item["geometry"]).intersects(area):
                continue
            when = parse_utc(props["datetime"])
            if (start and when < start) or (end and when > end):
                continue
            if params.get("query") and not matches_query(props, params["query"]):
                continue
            if params.get("filter") and not matches_filter(props, params["filter"]):
                continue
            chosen.append(item)
        return sorted(chosen, key=lambda i: (i["properties"]["datetime"], i["id"]))

    def search(self, request: Request) -> Response:
        params = self.parameters(request)
        self.searches.append({"method": request.method, **params})
        limit = int(params.get("limit") or 10)
        offset = int(params.get("token") or 0)
        chosen = self.select(params)
        page = chosen[offset : offset + limit]
        links = []
        if offset + limit < len(chosen):
            token = str(offset + limit)
            if request.method == "POST":
                links.append(
                    {
                        "rel": "next",
                        "href": self.base_url + "/search",
                        "method": "POST",
                        "body": {"token": token},
                        "merge": True,
                        "type": "application/geo+json",
                    }
                )
            else:
                query = {k: v[-1] for k, v in request.query.items()}
                query["token"] = token
                links.append(
                    {
                        "rel": "next",
                        "href": f"{self.base_url}/search?{urlencode(query)}",
                        "method": "GET",
                        "type": "application/geo+json",
                    }
                )
        return Response.json(
            {
                "type": "FeatureCollection",
                "features": page,
                "links": links,
                "numberMatched": len(chosen),
                "numberReturned": len(page),
            }
        )

    def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path == "":
            return Response.json(self.landing())
        if path == "/conformance":
            return Response.json({"conformsTo": self.conformance})
        if path == "/collections":
            names = sorted({i.get("collection") for i in self.items if i.get("collection")})
            return Response.json(
                {
                    "collections": [self.collection(n) for n in names],
                    "links": [],
                }
            )
        if path.startswith("/collections/"):
            return Response.json(self.collection(path.split("/")[2]))
        if path == "/search":
            return self.search(request)
        return Response.json({"code": "NotFound", "description": path}, status=404)
