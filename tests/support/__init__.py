"""Helpers the tests share: a headless browser and an LSP client."""
