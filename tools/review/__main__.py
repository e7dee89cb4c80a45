"""``python -m tools.review review PATH...``: the review CLI without the rest of the service."""

import sys

from tools.review.cli import main

sys.exit(main())
