"""Tests of archcompiler's language layer."""
