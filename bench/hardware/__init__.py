"""Where a point runs: the device, processes under torchrun, batch norm across them."""
