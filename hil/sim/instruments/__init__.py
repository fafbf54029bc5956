"""Virtual instruments of the virtual bench: real wire protocols, values from the physics."""
