"""`python -m knhk.engine`: see knhk.engine.cli."""

import sys

from knhk.engine.cli import main

sys.exit(main())
