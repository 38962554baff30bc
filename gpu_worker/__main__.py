"""``python -m gpu_worker`` runs the CLI (see ``gpu_worker/cli.py``)."""

import sys

from gpu_worker.cli import main

sys.exit(main())
