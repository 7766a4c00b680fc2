"""Test settings shared by every test module.

Hypothesis runs derandomized by default, so CI sees the same examples on every run (a failure is
reproducible, never flaky). ``HYPOTHESIS_PROFILE=explore`` draws fresh random examples, ten times
as many, to hunt for new failures.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
