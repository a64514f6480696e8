Route #1: 1 7
Route #2: 2 10 5 8
Route #3: 3 6 11
Route #4: 9 4 12
Cost 4430
