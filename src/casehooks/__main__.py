from casehooks.cli import main

main()
