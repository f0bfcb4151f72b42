"""``python -m vidseek``: the command line, as the ``vidseek`` script runs it."""

from vidseek.cli import main

if __name__ == "__main__":
    main()
