Route #1: 1 7 4
Route #2: 8 6 5
Route #3: 10 12 9
Route #4: 11 2 3
Cost 378.3
