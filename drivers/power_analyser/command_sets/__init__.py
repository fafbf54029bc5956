"""SCPI command set files (YAML), one per analyser model; a package so they ship in wheels."""
