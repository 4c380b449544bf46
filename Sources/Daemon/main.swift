print("e2hd: not built yet")
