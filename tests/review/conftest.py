"""Review tests run in strict mode: a crashing rule fails the test instead of being skipped."""

import os

os.environ["MLAGENT_REVIEW_STRICT"] = "1"

# fixes/ holds golden input/output files for the autofix tests, not tests.
collect_ignore = ["fixes"]
