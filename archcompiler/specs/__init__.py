"""Built-in specs, shipped as package data of archcompiler.specs."""
