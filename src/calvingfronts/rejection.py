"""Why a scene did not yield a front.

One bad scene must never stop a run nor be dropped silently: every stage turns its failure
into a :class:`SceneRejected` with the stage and a readable reason, and the rejection travels
down the per-scene chain until it lands in the ``rejected`` layer of the GeoPackage.
"""

from __future__ import annotations


class SceneRejected(Exception):
    """A scene that cannot go on through the pipeline, with the stage that stopped it."""

    def __init__(self, stage: str, reason: str, transient: bool = False):
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
        # A failure of the archive rather than of the scene (timeout, 5xx): worth retrying.
        self.transient = transient

    def as_record(self) -> dict[str, str]:
        return {"stage": self.stage, "reason": self.reason}
