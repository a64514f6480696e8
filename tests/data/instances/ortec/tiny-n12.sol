Route #1: 1 6 5
Route #2: 2 11 10
Route #3: 4 8 3
Route #4: 7
Route #5: 9 12
Cost 10540
