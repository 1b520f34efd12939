"""``python -m bench.config.reference > docs/config.md``: the old name of
``python -m bench.reference``, which lists every data kind's, family's and strategy's keys and
so lives above them, in :mod:`bench.reference`."""

import sys

from bench.reference import (  # noqa: F401
    HEADER,
    reference,
    section,
    section_class,
    section_classes,
    variants,
)

if __name__ == "__main__":
    sys.stdout.write(reference())
