from sgi.cli import main

main()
