"""Register map files (YAML), one per meter model; a package so they ship in wheels."""
