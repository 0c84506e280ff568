from rnnlab.cli import console_main

console_main()
