"""`python -m gateway` runs the `fir` command line."""

from gateway.cli import main

main()
