import logging
import os

# The client's warnings (the feed lost, and back) are expected in these
# tests; AICONFIG_TEST_LOG=1 shows them.
if not os.environ.get("AICONFIG_TEST_LOG"):
    logging.getLogger("aiconfig").addHandler(logging.NullHandler())
    logging.getLogger("aiconfig").propagate = False
