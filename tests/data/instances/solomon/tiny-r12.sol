Route #1: 2 12 4
Route #2: 3 10
Route #3: 5 11
Route #4: 7 8 1 6
Route #5: 9
Cost 420.6
