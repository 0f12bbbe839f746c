"""Write docs/rules.md, the rules catalogue: `.venv/bin/python scripts/gen_rules.py [--check]`.

The examples, their user block types and the renderer live in tests/support/ (rule_catalogue.py,
rule_blocks.py), where tests/project/test_rules_catalogue.py imports them as a package.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, for `tests.support`

from tests.support.rule_catalogue import main_

if __name__ == "__main__":
    sys.exit(main_())
