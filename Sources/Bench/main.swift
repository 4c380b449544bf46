print("e2h-bench: not built yet")
