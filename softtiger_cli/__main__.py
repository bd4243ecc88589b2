from softtiger_cli.cli.app import main

main()
