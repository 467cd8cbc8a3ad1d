"""``python -m nbauth``: the ``nbauth`` command (see ``nbauth.cli``)."""
import sys

from .cli import main

sys.exit(main())
