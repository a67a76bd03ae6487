from portalgen.cli import main

main()
