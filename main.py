"""Run RNN Studio: ``python main.py`` opens the window; ``python main.py train ...`` trains headless."""

import sys

from rnnstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
