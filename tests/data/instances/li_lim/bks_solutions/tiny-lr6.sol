Route #1: 1 7 9 8 2 10
Route #2: 11 12 5 6 3 4
Cost 299.4268
