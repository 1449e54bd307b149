"""`python -m strongroom` runs the command line."""

from strongroom.cli import main

main()
