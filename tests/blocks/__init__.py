"""Tests of archcompiler's blocks layer."""
