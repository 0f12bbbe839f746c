"""`archc lsp`: the spec language in the editor, with the compiler's own diagnostics.

A language server on pygls: diagnostics as you type (from `resolve` and `analyze`, as the CLI
runs them), hovers with `archc summary`'s numbers, completion from the schema, go-to-definition
into base and block files, and quick fixes for mechanical hints. Needs the `lsp` extra.
"""
