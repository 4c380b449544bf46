print("e2h: not built yet")
