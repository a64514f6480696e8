"""A driver's block on the road, from check-in to the last parcel: check-in inside the start
node's geofence (`checkin`), scans and missing parcels at pickup and the departure (`scans`),
the stop list with navigation links and live ETAs (`stops`), deliveries with their proof
(`deliveries`) and failed attempts (`attempts`), what both share at a door (`door`), the way
back to the station and the block's completion (`returns`). What they all read is in `load`.

Every change of a package goes through `orders.transitions.transition_package` and every
change of a block through `drivers.blocks.transition_block`.
"""
