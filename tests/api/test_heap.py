"""The served process freezes its start-up heap once (``api.app._settle_heap``):
full collections then stop walking the schema, metadata and modules (80-130 ms
pauses at every full collection before, measured with wrk)."""

from __future__ import annotations

import gc

import api.app as app_module
from api.app import create_app


async def test_serving_freezes_the_start_up_heap_once_per_process(
    database_url, monkeypatch
):
    freezes: list[int] = []

    def freeze() -> None:
        freezes.append(1)
        real_freeze()

    real_freeze = gc.freeze
    monkeypatch.setattr(app_module, "_HEAP_SETTLED", False)
    monkeypatch.setattr(app_module.gc, "freeze", freeze)
    gc.unfreeze()
    try:
        # what uvicorn runs when a worker starts serving
        app = create_app(database_url)
        async with app.router.lifespan_context(app):
            assert freezes == [1] and gc.get_freeze_count() > 0
        # a second app in the same process (as tests make) freezes nothing more
        again = create_app(database_url)
        async with again.router.lifespan_context(again):
            assert freezes == [1]
    finally:
        gc.unfreeze()
