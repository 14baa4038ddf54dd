from yearwheel.cli import main

main()
