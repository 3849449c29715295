"""Exports read once per test module."""

from __future__ import annotations

import pytest

from bridge.importer.export_reader import read_export
from bridge.importer.model import ExportedChannel
from tests.importer.export_helpers import GENERAL, MEDIA


@pytest.fixture(scope="module")
def general() -> ExportedChannel:
    return read_export(GENERAL)


@pytest.fixture(scope="module")
def media() -> ExportedChannel:
    return read_export(MEDIA)
