from cuevision.cli import main

main()
