"""The exit codes of `archc`: the CLI owns them; backends raise typed errors instead."""

EXIT_OK = 0  # valid (warnings allowed), or the command did its work
EXIT_SPEC = 1  # the spec has errors, or a build check found a mismatch
EXIT_USAGE = 2  # a bad command line, or an I/O error
EXIT_INTERNAL = 3  # a bug in archcompiler
EXIT_NO_DOT = 4  # rendering an image needs graphviz's `dot`
EXIT_DOT_TIMEOUT = 5  # graphviz's `dot` ran past --dot-timeout and was stopped
EXIT_INTERRUPTED = 130  # Ctrl-C: stopped without a traceback, nothing half-written
