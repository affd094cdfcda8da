from pitfalls.cli import main

raise SystemExit(main())
