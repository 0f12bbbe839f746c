"""Tests of archcompiler's core layer."""
