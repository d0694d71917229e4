namespace ktune { int workers_placeholder = 0; }
