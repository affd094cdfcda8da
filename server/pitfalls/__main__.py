from pitfalls.cli.main import main

raise SystemExit(main())
