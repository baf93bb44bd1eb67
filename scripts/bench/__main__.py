from scripts.bench import main

main()
