import sys

from inrzoo.cli import main

sys.exit(main())
