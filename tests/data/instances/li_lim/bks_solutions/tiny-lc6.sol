Route #1: 1 9 2 10 5 6
Route #2: 3 4
Route #3: 7 11 8 12
Cost 354.8559
