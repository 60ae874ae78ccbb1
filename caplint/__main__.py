from caplint.cli import main

main()
