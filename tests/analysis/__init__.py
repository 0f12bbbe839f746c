"""Tests of archcompiler's analysis layer."""
