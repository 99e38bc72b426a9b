print("llada")
