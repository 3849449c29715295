"""Tests of the migration workflow (issue #18)."""
