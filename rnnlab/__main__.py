from rnnlab.entry import console_main

console_main()
