"""schemathesis against the OpenAPI schema, bounded in time: no request gives a server error."""

from __future__ import annotations

import time
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import World

BUDGET_S = 60.0


def test_no_request_from_the_schema_is_a_server_error(sqlite_world: World) -> None:
    world = sqlite_world
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    started, calls, errors = time.monotonic(), [0], []

    @settings(
        max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(schema.as_strategy())
    def check(case: Any) -> None:
        if time.monotonic() - started > BUDGET_S:
            return
        for who in ("admin", "foreign", "none"):
            response = case.call(headers=world.auth(who))
            calls[0] += 1
            if response.status_code >= 500:
                errors.append(
                    f"{case.method} {case.formatted_path} as {who}: "
                    f"{response.status_code} {response.text[:200]}"
                )

    check()
    print(
        f"\nschemathesis: {calls[0]} requests in {time.monotonic() - started:.0f} s, "
        f"{len(errors)} server errors"
    )
    assert calls[0] > 100 and not errors, "\n".join(errors[:20])
