"""Test-wide settings: hypothesis profiles and the paths to the shared corpus."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# A quick profile for every `make test`; CI runs the thorough one (.ci/run sets it).
settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
