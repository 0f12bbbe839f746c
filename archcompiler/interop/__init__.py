"""Interop with other libraries' model registries (timm): opt-in, imported only when asked for."""
