"""The torch backend: modules built from the IR, checked against it, exported."""
