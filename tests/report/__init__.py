"""Tests of archcompiler's report layer."""
