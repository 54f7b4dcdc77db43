"""``python -m helpers.exercises --learner build/learner``: write learner copies."""

import sys

from helpers.exercises.learner import main

sys.exit(main())
