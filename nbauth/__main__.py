"""``python -m nbauth``: the ``nbauth`` command (see ``nbauth.cli.command``)."""
import sys

from .cli.command import main

sys.exit(main())
