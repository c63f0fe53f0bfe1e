"""Shared test setup: hypothesis profiles and the ``backend`` fixture that runs a test on every backend."""
from __future__ import annotations

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg

# "ci": bounded and without deadlines (a shared 2-core machine is noisy); "dev": more examples.
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def available_backends() -> list[str]:
    names = ["python"]
    if importlib.util.find_spec("numpy") is not None and \
            importlib.util.find_spec("tinygrad_edu.backend.numpy") is not None:
        names.append("numpy")
    return names


BACKENDS = available_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Runs the test once per backend, with that backend current."""
    with tg.use_backend(request.param):
        yield request.param
