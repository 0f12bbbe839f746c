"""Tests of archcompiler's ir layer."""
